"use client";

import { useEffect } from "react";

/**
 * Datadog RUM, initialised in the browser. The root layout renders this only
 * when NEXT_PUBLIC_DD_APPLICATION_ID and NEXT_PUBLIC_DD_CLIENT_TOKEN are set,
 * and the RUM package is imported dynamically here, so without keys no RUM
 * code is loaded at all.
 */
export interface RumConfig {
  applicationId: string;
  clientToken: string;
  site: string;
  service: string;
  env: string;
}

export function Rum({ applicationId, clientToken, site, service, env }: RumConfig) {
  useEffect(() => {
    let cancelled = false;
    import("@datadog/browser-rum")
      .then(({ datadogRum }) => {
        if (cancelled || datadogRum.getInitConfiguration()) return;
        datadogRum.init({
          applicationId,
          clientToken,
          site,
          service,
          env,
          sessionSampleRate: 100,
          sessionReplaySampleRate: 0,
          trackUserInteractions: true,
          trackResources: true,
          trackLongTasks: true,
          defaultPrivacyLevel: "mask-user-input",
        });
      })
      .catch(() => {
        // RUM is best effort: a blocked script never breaks the page.
      });
    return () => {
      cancelled = true;
    };
  }, [applicationId, clientToken, site, service, env]);
  return null;
}
