import path from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as healthGET } from "../app/api/health/route";
import { GET as homeGET } from "../app/[lang]/route";
import { GET as episodeGET } from "../app/[lang]/episodes/[series]/[episode]/route";
import { loadSynthetics } from "../lib/datadog/apply";
import { formatCheckResult, runSiteChecks, siteChecks, type CheckResult, type SiteCheck } from "../lib/datadog/synthetics";
import { resetDb } from "../lib/clickhouse";
import { resetEnvCache } from "../lib/env";
import { runCliCaptured as cli } from "./helpers/cli";
import { testClickHouseConfig } from "./helpers/db";

/**
 * `npm run muse -- status` runs the checks of datadog/synthetics.json (the Datadog synthetic tests) against a
 * running site. Here against a local node:http server: one that serves the app's own route handlers for
 * /api/health, the home page and an episode page (so the checks cannot drift from what the pages say), and one
 * that fails in every way a check catches. Response times come from an injected clock that the servers move,
 * never from the wall clock.
 */

const FIXTURES = path.join(import.meta.dirname, "fixtures", "content");
const VARS = ["MUSE_CONTENT_DIR", "MUSE_SITE_URL", "CLICKHOUSE_URL", "MUSE_LOG_LEVEL"] as const;
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void Promise.resolve(handler(req, res)).catch((error: unknown) => {
      res.writeHead(599);
      res.end(String(error));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** Writes a route handler's Response to the node response. */
async function send(res: ServerResponse, response: Response) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** A clock the servers move: each request "takes" what its handler adds. */
function fakeClock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

let checks: SiteCheck[];
const servers: Server[] = [];

beforeAll(async () => {
  Object.assign(process.env, { MUSE_CONTENT_DIR: FIXTURES, MUSE_SITE_URL: "https://blog.example.com", MUSE_LOG_LEVEL: "error" });
  process.env.CLICKHOUSE_URL = testClickHouseConfig().url;
  resetEnvCache();
  await resetDb();
  checks = siteChecks(await loadSynthetics());
});

afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
  resetEnvCache();
  await resetDb();
});

afterEach(() => vi.restoreAllMocks());

/** The site as the app serves it: its own route handlers, each request taking `ms` on the clock. */
async function appSite(clock: ReturnType<typeof fakeClock>, ms: number) {
  const site = await serve(async (req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://site");
    const request = new Request(new URL(pathname, "https://blog.example.com"));
    clock.advance(ms);
    const episode = /^\/([a-z]{2})\/episodes\/([a-z]+)\/(ep-\d+)$/.exec(pathname);
    const home = /^\/([a-z]{2})$/.exec(pathname);
    if (pathname === "/api/health") return send(res, await healthGET());
    if (home) return send(res, await homeGET(request, { params: Promise.resolve({ lang: home[1] }) }));
    if (episode) return send(res, await episodeGET(request, { params: Promise.resolve({ lang: episode[1], series: episode[2], episode: episode[3] }) }));
    res.writeHead(404).end("not found");
  });
  servers.push(site.server);
  return site.url;
}

const byKey = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.key, r]));

describe("the checks of datadog/synthetics.json", () => {
  it("are the three synthetic tests: /api/health, the home page and an episode page, each status 200, a body and under 1 s", () => {
    expect(checks.map((c) => [c.key, c.method, c.path])).toEqual([
      ["synthetic-health", "GET", "/api/health"],
      ["synthetic-home", "GET", "/en"],
      ["synthetic-episode", "GET", "/en/episodes/chimera/ep-001"],
    ]);
    for (const c of checks) {
      expect(c.assertions).toContainEqual({ type: "statusCode", operator: "is", target: 200 });
      expect(c.assertions).toContainEqual({ type: "responseTime", operator: "lessThan", target: 1000 });
      expect(c.assertions.some((a) => a.type === "body")).toBe(true);
    }
  });

  it("pass against the app's own route handlers (the pages say what the checks look for)", async () => {
    const clock = fakeClock();
    const base = await appSite(clock, 40);
    const results = await runSiteChecks(checks, { baseUrl: base, now: clock.now });
    expect(results.map((r) => [r.key, r.ok, r.status, r.elapsedMs, r.failures])).toEqual([
      ["synthetic-health", true, 200, 40, []],
      ["synthetic-home", true, 200, 40, []],
      ["synthetic-episode", true, 200, 40, []],
    ]);
    expect(results[0].url).toBe(`${base}/api/health`);
    expect(formatCheckResult(results[0])).toBe(`pass  synthetic-health   GET ${base}/api/health  200  40 ms`);
  });

  it("fail on a 500, a wrong body, a slow answer (1 s is too slow), and no answer, naming each failed assertion", async () => {
    const clock = fakeClock();
    const broken = await serve((req, res) => {
      const { pathname } = new URL(req.url ?? "/", "http://site");
      if (pathname === "/api/health") {
        clock.advance(20);
        res.writeHead(500, { "Content-Type": "application/json" }).end('{"status":"error"}');
      } else if (pathname === "/en") {
        clock.advance(20);
        res.writeHead(200, { "Content-Type": "text/html" }).end("<!DOCTYPE html><title>Maintenance</title>");
      } else {
        // The right page, a second late: exactly at the limit is not under it.
        clock.advance(1000);
        res.writeHead(200, { "Content-Type": "text/html" }).end('<script type="application/ld+json">{"@type":"BlogPosting"}</script>');
      }
    });
    servers.push(broken.server);
    const results = byKey(await runSiteChecks(checks, { baseUrl: broken.url, now: clock.now }));
    expect(results["synthetic-health"]).toMatchObject({
      ok: false,
      status: 500,
      elapsedMs: 20,
      failures: ["status 500, not 200", 'the body does not contain "\\"status\\":\\"ok\\""'],
    });
    expect(results["synthetic-home"]).toMatchObject({
      ok: false,
      status: 200,
      failures: [expect.stringMatching(/^the body does not contain "<meta property=/)],
    });
    expect(results["synthetic-episode"]).toMatchObject({ ok: false, status: 200, elapsedMs: 1000, failures: ["1000 ms, not under 1000 ms"] });
    expect(formatCheckResult(results["synthetic-episode"])).toBe(
      `FAIL  synthetic-episode  GET ${broken.url}/en/episodes/chimera/ep-001  200  1000 ms: 1000 ms, not under 1000 ms`,
    );

    // Nothing listening: refused at once, with the reason.
    const closed = await serve(() => {});
    await new Promise<void>((r) => closed.server.close(() => r()));
    const refused = await runSiteChecks(checks.slice(0, 1), { baseUrl: closed.url, now: clock.now });
    expect(refused[0]).toMatchObject({ ok: false, failures: [expect.stringMatching(/^no answer: .*ECONNREFUSED/)] });
    expect(refused[0].status).toBeUndefined();
    expect(formatCheckResult(refused[0])).toMatch(/^FAIL  synthetic-health   GET http:\/\/127\.0\.0\.1:\d+\/api\/health  ---  \d+ ms: no answer/);
  });

  it("do not follow a redirect when the test says not to: a 3xx is not the page", async () => {
    const clock = fakeClock();
    const moved = await serve((_req, res) => void res.writeHead(307, { Location: "/elsewhere" }).end());
    servers.push(moved.server);
    expect(checks.every((c) => !c.followRedirects)).toBe(true);
    const [home] = await runSiteChecks([checks[1]], { baseUrl: moved.url, now: clock.now });
    expect(home).toMatchObject({ ok: false, status: 307 });
  });
});

describe("npm run muse -- status", () => {
  /** A site that answers every check's body, as fast as it can. */
  async function healthySite() {
    const site = await serve((req, res) => {
      const check = checks.find((c) => c.path === new URL(req.url ?? "/", "http://site").pathname);
      const body = check?.assertions.find((a) => a.type === "body")?.target ?? "";
      res.writeHead(check ? 200 : 404).end(`<!-- ${String(body)} -->`);
    });
    servers.push(site.server);
    return site.url;
  }

  it("prints ClickHouse's state and a pass line per check with its time; exit 0", async () => {
    const base = await healthySite();
    const { code, output } = await cli(["status", "--site-url", base]);
    expect(output).toMatch(/^ClickHouse \S+ at /m);
    expect(output).toContain(`site ${base}: 3 of 3 checks pass (datadog/synthetics.json)`);
    for (const c of checks) expect(output).toMatch(new RegExp(`^  pass  ${c.key}\\s+GET ${base}${c.path}  200  \\d+ ms$`, "m"));
    expect(code).toBe(0);
  });

  it("exits 1 when a check fails, saying which assertion; --json has the same checks; --no-site skips them", async () => {
    const broken = await serve((req, res) => void res.writeHead(req.url === "/api/health" ? 503 : 200).end("nothing here"));
    servers.push(broken.server);
    const failed = await cli(["status", "--site-url", broken.url]);
    expect(failed.code).toBe(1);
    expect(failed.output).toContain(`site ${broken.url}: 0 of 3 checks pass`);
    expect(failed.output).toMatch(/^ {2}FAIL {2}synthetic-health +GET \S+\/api\/health {2}503 {2}\d+ ms: status 503, not 200; the body does not contain/m);

    const json = await cli(["status", "--json", "--site-url", broken.url]);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.output) as { reachable: boolean; site: { url: string; checks: CheckResult[] } };
    expect(parsed.reachable).toBe(true);
    expect(parsed.site.url).toBe(broken.url);
    expect(parsed.site.checks.map((c) => [c.key, c.ok, c.status])).toEqual([
      ["synthetic-health", false, 503],
      ["synthetic-home", false, 200],
      ["synthetic-episode", false, 200],
    ]);

    const skipped = await cli(["status", "--no-site", "--site-url", broken.url]);
    expect(skipped.code).toBe(0);
    expect(skipped.output).not.toContain("site ");
  });
});
