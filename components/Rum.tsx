"use client";

import { useEffect } from "react";
import { RUM_INIT_OPTIONS, type RumSettings } from "@/lib/site/rum";

/**
 * Datadog RUM, initialised in the browser. The root layout renders this only
 * when NEXT_PUBLIC_DD_APPLICATION_ID and NEXT_PUBLIC_DD_CLIENT_TOKEN are set,
 * and the RUM package is imported dynamically here, so without keys no RUM
 * code is loaded at all.
 */
export function Rum({ applicationId, clientToken, site, service, env }: RumSettings) {
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
          ...RUM_INIT_OPTIONS,
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
