import type { Env } from "../env";

/**
 * Datadog RUM in the browser, on both kinds of page: the App Router's
 * (components/Rum.tsx, from the root layout) and the static documents'
 * (components/StaticDocument.tsx's loader script). One set of settings and
 * one set of init options, so both report alike.
 */

export interface RumSettings {
  applicationId: string;
  clientToken: string;
  site: string;
  service: string;
  env: string;
}

/** What both loaders pass to datadogRum.init besides the settings: every session, no replay, inputs masked. */
export const RUM_INIT_OPTIONS = {
  sessionSampleRate: 100,
  sessionReplaySampleRate: 0,
  trackUserInteractions: true,
  trackResources: true,
  trackLongTasks: true,
  defaultPrivacyLevel: "mask-user-input",
} as const;

/** The settings when NEXT_PUBLIC_DD_APPLICATION_ID and NEXT_PUBLIC_DD_CLIENT_TOKEN are set; without them, no RUM at all. */
export function rumSettings(env: Env): RumSettings | undefined {
  if (!env.NEXT_PUBLIC_DD_APPLICATION_ID || !env.NEXT_PUBLIC_DD_CLIENT_TOKEN) return undefined;
  return {
    applicationId: env.NEXT_PUBLIC_DD_APPLICATION_ID,
    clientToken: env.NEXT_PUBLIC_DD_CLIENT_TOKEN,
    site: env.NEXT_PUBLIC_DD_SITE,
    service: env.DD_SERVICE,
    env: env.DD_ENV,
  };
}
