import { BlockList, isIP } from "node:net";
import { absoluteUrl } from "../site/paths";
import { museIdOf, type SyntheticAssertion, type SyntheticDefinition } from "./schemas";

/**
 * The site's uptime and latency checks, defined once in datadog/synthetics.json: Datadog runs them from its
 * managed locations as Synthetic API tests (`muse datadog apply` renders them with renderSynthetic), and
 * `npm run muse -- status` runs the same definitions against a running site (runSiteChecks), so the two cannot
 * disagree on what "up" means. The schema (lib/datadog/schemas.ts) admits only the assertions evaluated here.
 */

// ---------------------------------------------------------------------------
// For Datadog

/** The test as `POST /api/v1/synthetics/tests/api` takes it: the path put after the site's URL. */
export function renderSynthetic(test: SyntheticDefinition, siteUrl: string): SyntheticDefinition {
  return { ...test, config: { ...test.config, request: { ...test.config.request, url: absoluteUrl(siteUrl, test.config.request.url) } } };
}

/** Addresses Datadog's managed locations can never reach: loopback, private, link-local and unspecified. */
const UNREACHABLE = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
  ] as const)
    list.addSubnet(net, prefix, "ipv4");
  for (const [net, prefix] of [
    ["::", 128],
    ["::1", 128],
    ["fc00::", 7],
    ["fe80::", 10],
  ] as const)
    list.addSubnet(net, prefix, "ipv6");
  return list;
})();

/**
 * Why a site URL cannot be what Datadog's locations test, or undefined when it can. MUSE_SITE_URL defaults to
 * the local site (http://127.0.0.1:3000): tests created with it would fail from every location and page at once.
 */
export function siteUrlProblem(siteUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(siteUrl);
  } catch {
    return `${JSON.stringify(siteUrl)} is not a URL`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `${siteUrl} is not an http(s) URL`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const family = isIP(host);
  const local =
    host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || (family !== 0 && UNREACHABLE.check(host, family === 6 ? "ipv6" : "ipv4"));
  return local ? `${siteUrl} is not reachable from Datadog's managed locations: set MUSE_SITE_URL to the site's public URL` : undefined;
}

/**
 * The Datadog metrics the synthetic tests produce that datadog/ queries (Datadog's own, not Muse's: they are not
 * in lib/metrics/names.ts). Datadog tags them with the tests' own tags, so a query may filter and group by the
 * tag keys of datadog/synthetics.json.
 */
export const SYNTHETICS_METRICS = [
  { name: "synthetics.http.response.time", type: "gauge", unit: "millisecond", description: "overall time of an HTTP test's request, per run and location" },
] as const;

// ---------------------------------------------------------------------------
// Locally: `npm run muse -- status`

export interface SiteCheck {
  /** The test's muse-id, e.g. synthetic-health. */
  key: string;
  name: string;
  method: "GET";
  /** The path on the site. */
  path: string;
  /** The request's limit (the test's timeout, else Datadog's default of 60 s). */
  timeoutMs: number;
  followRedirects: boolean;
  assertions: SyntheticAssertion[];
}

/** The checks of datadog/synthetics.json. */
export function siteChecks(tests: readonly SyntheticDefinition[]): SiteCheck[] {
  return tests.map((t) => ({
    key: museIdOf(t.tags)!,
    name: t.name,
    method: t.config.request.method,
    path: t.config.request.url,
    timeoutMs: (t.config.request.timeout ?? 60) * 1000,
    // Datadog follows redirects unless told not to.
    followRedirects: t.options.follow_redirects ?? true,
    assertions: t.config.assertions,
  }));
}

export interface CheckResult {
  key: string;
  name: string;
  method: string;
  url: string;
  ok: boolean;
  /** Undefined when nothing answered. */
  status?: number;
  /** From sending the request to the end of the body, as Datadog's response time. */
  elapsedMs: number;
  /** One sentence per assertion that failed (or why there was no answer). */
  failures: string[];
}

/** What an answer fails of the assertions (empty: it passes). */
export function assertionFailures(assertions: readonly SyntheticAssertion[], answer: { status: number; body: string; elapsedMs: number }): string[] {
  const failures: string[] = [];
  for (const a of assertions) {
    if (a.type === "statusCode" && answer.status !== a.target) failures.push(`status ${answer.status}, not ${a.target}`);
    if (a.type === "responseTime" && !(answer.elapsedMs < a.target)) failures.push(`${Math.round(answer.elapsedMs)} ms, not under ${a.target} ms`);
    if (a.type === "body" && !answer.body.includes(a.target)) failures.push(`the body does not contain ${JSON.stringify(a.target)}`);
  }
  return failures;
}

export interface RunOptions {
  /** The site, e.g. http://127.0.0.1:3000; each check's path goes after it. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Milliseconds from any origin (performance.now by default); only differences are used. */
  now?: () => number;
}

/**
 * Runs each check once, one after the other (so none times another's wait), and evaluates its assertions. A
 * request that gets no answer (refused, reset, past its timeout) fails with the reason.
 */
export async function runSiteChecks(checks: readonly SiteCheck[], options: RunOptions): Promise<CheckResult[]> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => performance.now());
  const results: CheckResult[] = [];
  for (const check of checks) {
    const url = absoluteUrl(options.baseUrl, check.path);
    const started = now();
    const base = { key: check.key, name: check.name, method: check.method, url };
    try {
      const res = await doFetch(url, {
        method: check.method,
        redirect: check.followRedirects ? "follow" : "manual",
        headers: { "User-Agent": "muse-status" },
        signal: AbortSignal.timeout(check.timeoutMs),
      });
      const body = await res.text();
      const elapsedMs = now() - started;
      const failures = assertionFailures(check.assertions, { status: res.status, body, elapsedMs });
      results.push({ ...base, ok: failures.length === 0, status: res.status, elapsedMs, failures });
    } catch (error) {
      const elapsedMs = now() - started;
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      results.push({ ...base, ok: false, elapsedMs, failures: [`no answer: ${reason}`] });
    }
  }
  return results;
}

/** One printed line: `pass  synthetic-health  GET http://…/api/health  200  12 ms`, with the failures after a FAIL. */
export function formatCheckResult(r: CheckResult): string {
  const head = `${r.ok ? "pass" : "FAIL"}  ${r.key.padEnd(18)} ${r.method} ${r.url}  ${r.status ?? "---"}  ${Math.round(r.elapsedMs)} ms`;
  return r.ok ? head : `${head}: ${r.failures.join("; ")}`;
}
