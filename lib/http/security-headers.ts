/**
 * Response headers every page and route carries (next.config.ts `headers()`).
 *
 * The Content-Security-Policy is one both kinds of page satisfy:
 * - App Router pages: Next.js streams its payload in inline <script>s whose
 *   content differs per page and per build, and the pages are static (no
 *   per-request nonce without giving that up), so scripts are `'self'` plus
 *   `'unsafe-inline'`; what keeps script out of the pages is that no
 *   user-controlled HTML reaches them (episode markdown is sanitised, JSON-LD
 *   escaped: tests/hardening/security.test.ts);
 * - the zero-JS episode pages: an inline theme script and, with RUM keys, an
 *   inline loader of the same-origin RUM bundle (/rum/datadog-rum.js).
 * RUM sends its events to Datadog's browser intake for NEXT_PUBLIC_DD_SITE,
 * the only other origin in the policy. Images: this site and data: URLs only
 * (the sanitiser drops any other image from episode text). No framing, no
 * plugins, no <base>, forms only to this site.
 */

/** Datadog's browser intake host for a site: datadoghq.com → browser-intake-datadoghq.com, us3.datadoghq.com → browser-intake-us3-datadoghq.com. */
export function rumIntakeOrigin(site: string): string {
  const labels = site.trim().toLowerCase().split(".").filter(Boolean);
  const domain = labels.slice(-2).join(".");
  const prefix = labels.slice(0, -2).join("-");
  return `https://browser-intake-${prefix ? `${prefix}-` : ""}${domain}`;
}

export function contentSecurityPolicy(options: { rumSite?: string; dev?: boolean } = {}): string {
  const connect = ["'self'", ...(options.rumSite ? [rumIntakeOrigin(options.rumSite)] : [])];
  const directives: [string, string[]][] = [
    ["default-src", ["'self'"]],
    // 'unsafe-eval' only for `next dev` (React's dev tooling); never in a build.
    ["script-src", ["'self'", "'unsafe-inline'", ...(options.dev ? ["'unsafe-eval'"] : [])]],
    ["style-src", ["'self'", "'unsafe-inline'"]],
    ["img-src", ["'self'", "data:"]],
    ["font-src", ["'self'"]],
    ["connect-src", options.dev ? [...connect, "ws:"] : connect],
    // RUM compresses its batches in a worker it creates from a blob: URL.
    ["worker-src", ["'self'", "blob:"]],
    ["object-src", ["'none'"]],
    ["base-uri", ["'self'"]],
    ["form-action", ["'self'"]],
    ["frame-ancestors", ["'none'"]],
  ];
  return directives.map(([name, values]) => `${name} ${values.join(" ")}`).join("; ");
}

export function securityHeaders(env: Record<string, string | undefined> = process.env): { key: string; value: string }[] {
  const rum = env.NEXT_PUBLIC_DD_APPLICATION_ID && env.NEXT_PUBLIC_DD_CLIENT_TOKEN ? env.NEXT_PUBLIC_DD_SITE || "datadoghq.com" : undefined;
  return [
    { key: "Content-Security-Policy", value: contentSecurityPolicy({ rumSite: rum, dev: env.NODE_ENV === "development" }) },
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "X-Frame-Options", value: "DENY" },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
    { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
    // Ignored over plain http (the local demo); on the deployed https site, two years.
    { key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" },
  ];
}
