import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as episodeRoute from "../app/[lang]/episodes/[series]/[episode]/route";
import * as ogRoute from "../app/og/[lang]/[series]/[episode]/route";
import nextConfig from "../next.config";
import { renderMarkdown } from "../lib/content/markdown";
import { contentSecurityPolicy, rumIntakeOrigin } from "../lib/http/security-headers";
import { THEME_SCRIPT } from "../components/StaticThemeToggle";
import { rumScript, RUM_BUNDLE_PATH } from "../components/StaticDocument";
import { GET as episodesGET } from "../app/api/episodes/route";
import { createDb } from "../lib/clickhouse/client";
import { parseEnv } from "../lib/env";
import { checkHealth } from "../lib/health";
import { requireToken } from "../lib/http/auth";
import { handleVercelWebhook } from "../lib/http/vercel-webhook";
import { memoryLogger } from "../lib/log";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { testClickHouseConfig } from "./helpers/db";
import { setEnv, saveEnv } from "./helpers/env";

/**
 * Site-side findings of a review of the running system (see docs/security.md),
 * each failing on the code before its fix.
 */

const FIXTURES = path.join(import.meta.dirname, "fixtures", "content");
const SITE = "https://muse.test";
const VARS = ["MUSE_CONTENT_DIR", "MUSE_SITE_URL", "MUSE_LOG_LEVEL"] as const;
const saved = saveEnv(VARS);

beforeAll(() => setEnv({ MUSE_CONTENT_DIR: FIXTURES, MUSE_SITE_URL: SITE, MUSE_LOG_LEVEL: "error" }));
afterAll(() => setEnv(saved));

describe("per-episode routes: made-up paths are 404s, never rendered or cached", () => {
  it("the episode page and its Open Graph image exist only for generateStaticParams' episodes", async () => {
    for (const mod of [episodeRoute, ogRoute]) {
      expect(mod.dynamic).toBe("force-static");
      // With dynamicParams = true every made-up path is rendered once and cached (a disk fill).
      expect(mod.dynamicParams).toBe(false);
      const params = await mod.generateStaticParams();
      expect(params.length).toBeGreaterThan(0);
      expect(params).toContainEqual({ lang: "de", series: "chimera", episode: "ep-001" });
    }
  });

  it("an unknown episode's Open Graph image is a 404, not an image", async () => {
    for (const params of [
      { lang: "en", series: "chimera", episode: "ep-999" },
      { lang: "en", series: "no-such-series", episode: "ep-001" },
      { lang: "xx", series: "chimera", episode: "ep-001" },
      { lang: "en", series: "chimera", episode: "not-an-episode" },
    ]) {
      const response = await ogRoute.GET(new Request(`${SITE}/og/${params.lang}/${params.series}/${params.episode}`), { params: Promise.resolve(params) });
      expect({ params, status: response.status }).toEqual({ params, status: 404 });
      expect(response.headers.get("content-type")).not.toBe("image/png");
    }
  });
});

describe("security headers on every response", () => {
  async function headersFor(env: Record<string, string | undefined> = {}) {
    const saved = saveEnv(Object.keys(env));
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      const rules = (await nextConfig.headers?.()) ?? [];
      const all = rules.find((r) => r.source === "/:path*");
      return new Map((all?.headers ?? []).map((h) => [h.key.toLowerCase(), h.value]));
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }
  const directive = (csp: string, name: string) =>
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .find((d) => d[0] === name)
      ?.slice(1);

  it("sends a CSP (no framing, no plugins, images from this site), nosniff and the rest", async () => {
    const h = await headersFor({ NEXT_PUBLIC_DD_APPLICATION_ID: undefined, NEXT_PUBLIC_DD_CLIENT_TOKEN: undefined });
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    const csp = h.get("content-security-policy")!;
    expect(directive(csp, "frame-ancestors")).toEqual(["'none'"]);
    expect(directive(csp, "object-src")).toEqual(["'none'"]);
    expect(directive(csp, "default-src")).toEqual(["'self'"]);
    expect(directive(csp, "img-src")).toEqual(["'self'", "data:"]);
    expect(directive(csp, "connect-src")).toEqual(["'self'"]);
  });

  it("lets the zero-JS page's inline scripts and same-origin RUM bundle run, and RUM reach its intake", async () => {
    const h = await headersFor({ NEXT_PUBLIC_DD_APPLICATION_ID: "app", NEXT_PUBLIC_DD_CLIENT_TOKEN: "pub", NEXT_PUBLIC_DD_SITE: "datadoghq.eu" });
    const csp = h.get("content-security-policy")!;
    // The theme script and the RUM loader are inline; the bundle is same-origin.
    expect(THEME_SCRIPT.length).toBeGreaterThan(0);
    expect(rumScript({ applicationId: "app", clientToken: "pub", site: "datadoghq.eu", service: "muse", env: "test" })).toContain(RUM_BUNDLE_PATH);
    expect(directive(csp, "script-src")).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"]));
    expect(directive(csp, "script-src")).not.toContain("'unsafe-eval'");
    expect(directive(csp, "connect-src")).toEqual(["'self'", "https://browser-intake-datadoghq.eu"]);
    expect(rumIntakeOrigin("datadoghq.com")).toBe("https://browser-intake-datadoghq.com");
    expect(rumIntakeOrigin("us3.datadoghq.com")).toBe("https://browser-intake-us3-datadoghq.com");
    expect(contentSecurityPolicy({ dev: true })).toContain("'unsafe-eval'");
  });
});

describe("episode markdown cannot clobber the page or embed other sites' images", () => {
  it("prefixes every id from the markdown (headings, footnotes) and the in-page links to them", async () => {
    const { html, toc } = await renderMarkdown("## main\n\n## toc-heading\n\nSee [above](#main) and a note[^1].\n\n[^1]: the note\n");
    expect(html).not.toMatch(/\sid="(main|toc-heading)"/);
    expect(html).toContain('<h2 id="user-content-main">');
    expect(html).toContain('href="#user-content-main"');
    expect(toc.map((e) => e.id)).toEqual(["user-content-main", "user-content-toc-heading"]);
    for (const id of [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])) expect(id).toMatch(/^user-content-/);
    // Every fragment link points at an id that exists.
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    for (const target of [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1])) expect(ids, target).toContain(target);
  });

  it("keeps images from this site only (no tracking pixels)", async () => {
    const { html } = await renderMarkdown(
      "![a](https://tracker.example/p.gif) ![b](http://tracker.example/p.gif) ![c](//tracker.example/p.gif) ![d](/og/en/chimera/ep-001) ![e](data:image/png;base64,AAAA)\n",
    );
    expect(html).not.toContain("tracker.example");
    expect(html).not.toContain("data:image");
    expect(html).toContain('<img src="/og/en/chimera/ep-001" alt="d">');
  });
});

describe("public surfaces say no more than they must", () => {
  it("GET /api/episodes is paged (limit ≤ 100, offset, next), count is the total", async () => {
    const get = async (q: string) => {
      const res = await episodesGET(new Request(`${SITE}/api/episodes${q}`));
      return {
        status: res.status,
        body: (await res.json()) as { count: number; limit: number; offset: number; next: string | null; episodes: { episode: number; series: string }[] },
      };
    };
    const all = await get("");
    expect(all.body.limit).toBe(50);
    expect(all.body.episodes.length).toBe(Math.min(all.body.count, 50));
    const first = await get("?limit=1");
    expect(first.body.episodes).toHaveLength(1);
    expect(first.body.next).toBe(`${SITE}/api/episodes?lang=en&limit=1&offset=1`);
    const second = await get("?limit=1&offset=1");
    expect(second.body.episodes[0]).toEqual(all.body.episodes[1]);
    const last = await get(`?limit=1&offset=${all.body.count - 1}`);
    expect(last.body.next).toBeNull();
    for (const bad of ["?limit=0", "?limit=101", "?limit=-1", "?offset=x", "?limit=1e3"]) expect((await get(bad)).status, bad).toBe(400);
  });

  it("GET /api/health does not name the ClickHouse host when it is down", async () => {
    const db = createDb({ ...testClickHouseConfig(), url: "http://clickhouse.internal.example:1", requestTimeoutMs: 2_000 });
    const details: string[] = [];
    const health = await checkHealth(db, (d) => details.push(d));
    await db.close();
    expect(health).toEqual({ status: "error", clickhouse: "unreachable", error: "ClickHouse is unreachable" });
    expect(JSON.stringify(health)).not.toContain("clickhouse.internal.example");
    expect(details.join(" ")).toContain("clickhouse.internal.example");
  });

  it("redacts secrets of any length from the log", () => {
    const log = memoryLogger({ secrets: ["abc", "xy9"] });
    log.info("connecting with abc and xy9");
    expect(log.lines.join("\n")).not.toMatch(/abc|xy9/);
  });

  it("refuses to open a route with a token or webhook secret shorter than 16 characters", async () => {
    const request = () => new Request(`${SITE}/api/runs`, { headers: { authorization: "Bearer short-token" } });
    const closed = requireToken(request(), "MUSE_ADMIN_TOKEN", parseEnv({ MUSE_ADMIN_TOKEN: "short-token" }));
    expect(closed?.status).toBe(503);
    expect(((await closed!.json()) as { error: string }).error).toMatch(/MUSE_ADMIN_TOKEN is shorter than 16/);
    expect(
      requireToken(
        new Request(SITE, { headers: { authorization: "Bearer a-long-enough-token-0001" } }),
        "MUSE_ADMIN_TOKEN",
        parseEnv({ MUSE_ADMIN_TOKEN: "a-long-enough-token-0001" }),
      ),
    ).toBeUndefined();
    const env = parseEnv({ VERCEL_WEBHOOK_SECRET: "short" });
    const res = await handleVercelWebhook(
      new Request(`${SITE}/api/webhooks/vercel`, { method: "POST", body: "{}", headers: { "x-vercel-signature": "0" } }),
      () => ({
        db: undefined as never,
        env,
        log: memoryLogger(),
        metrics: { count: () => {}, gauge: () => {}, flush: async () => {} },
        clock: { now: () => new Date() },
      }),
    );
    expect(res.status).toBe(503);
  });

  it("git ignores every .env*.local file", () => {
    expect(readFileSync(path.join(import.meta.dirname, "..", ".gitignore"), "utf8")).toMatch(/^\.env\*\.local$/m);
    for (const name of [".env.local", ".env.production.local", ".env.development.local"]) {
      const out = execFileSync("git", ["check-ignore", "--no-index", "-v", name], { cwd: path.join(import.meta.dirname, ".."), encoding: "utf8" });
      expect(out, name).toContain(".gitignore");
    }
  });
});
