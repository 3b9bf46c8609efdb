import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { contentChanges, createRedeployer, DIST_DIRS, type ContentFile, type Deployment, type RedeployDeps } from "../lib/demo/redeploy";
import { openSiteAlias, type SiteAlias } from "../lib/demo/site";
import { fixedClock } from "./helpers/deps";

/**
 * `npm run demo` serves an episode published after its first build: the
 * rebuild-and-swap logic with injected builds, servers and clock (no process,
 * no wall clock), and the alias in front of the servers on real sockets. The
 * whole machinery with real `next build`s: tests/hardening/demo-new-episode.test.ts.
 */

const SITE = "http://127.0.0.1:3000";
const file = (series: string, episode: number, lang = "en", version = 1): ContentFile => {
  const rel = `episodes/${series}/ep-${String(episode).padStart(3, "0")}${lang === "en" ? "" : `.${lang}`}.md`;
  return { rel, series, episode, lang: lang as ContentFile["lang"], signature: `${rel}:${1000 + version}:${version}` };
};

/** Fake processes that record what happened, in order. */
function harness(initial: ContentFile[]) {
  let content = [...initial];
  const events: string[] = [];
  const said: string[] = [];
  const clock = fixedClock("2026-11-20T12:00:00.000Z");
  const failures = { build: 0, start: 0 };
  let duringBuild: (() => void) | undefined;
  let servers = 0;
  const deployment = (distDir: string): Deployment => {
    const url = `http://127.0.0.1:${4000 + servers++}`;
    return {
      distDir,
      url,
      stop: async () => void events.push(`stop ${distDir} ${url}`),
    };
  };
  const deps: RedeployDeps = {
    listContent: async () => [...content],
    build: async (distDir) => {
      events.push(`build ${distDir}`);
      clock.advance(90_000);
      duringBuild?.();
      duringBuild = undefined;
      if (failures.build > 0) {
        failures.build--;
        throw new Error("next build exited with 1\nType error: ...");
      }
    },
    start: async (distDir) => {
      clock.advance(4_000);
      if (failures.start > 0) {
        failures.start--;
        throw new Error("next start exited with 1");
      }
      const d = deployment(distDir);
      events.push(`start ${distDir} ${d.url}`);
      return d;
    },
    route: (d) => void events.push(`route ${d.url}`),
    clock,
    say: (line) => void said.push(line),
    siteUrl: SITE,
  };
  const first = deployment(DIST_DIRS[0]);
  const redeployer = createRedeployer(deps, { deployment: first, content: initial });
  return {
    redeployer,
    events,
    said,
    failures,
    first,
    publish: (...files: ContentFile[]) => {
      const rels = new Set(files.map((f) => f.rel));
      content = [...content.filter((f) => !rels.has(f.rel)), ...files];
    },
    remove: (rel: string) => void (content = content.filter((f) => f.rel !== rel)),
    /** Runs once, in the middle of the next build. */
    duringNextBuild: (fn: () => void) => void (duringBuild = fn),
  };
}

const FIXTURES = [file("chimera", 1), file("chimera", 1, "de"), file("chimera", 2), file("banterpacks", 1)];

describe("the demo's rebuild after a publish", () => {
  it("does nothing while the episode files are those of the served build", async () => {
    const h = harness(FIXTURES);
    expect(await h.redeployer.check()).toEqual({ status: "unchanged" });
    expect(await h.redeployer.check()).toEqual({ status: "unchanged" });
    expect(h.events).toEqual([]);
    expect(h.said).toEqual([]);
  });

  it("builds a published episode into the other directory, routes to it once it answers, and only then stops the old build", async () => {
    const h = harness(FIXTURES);
    h.publish(file("chimera", 3));
    const result = await h.redeployer.check();
    expect(result).toMatchObject({
      status: "swapped",
      changes: [{ kind: "published", series: "chimera", episode: 3, langs: ["en"] }],
      urls: [`${SITE}/en/episodes/chimera/ep-003`],
    });
    expect(h.events).toEqual([
      "build .muse/next-b",
      "start .muse/next-b http://127.0.0.1:4001",
      "route http://127.0.0.1:4001",
      "stop .next http://127.0.0.1:4000",
    ]);
    expect(h.redeployer.current()).toMatchObject({ distDir: ".muse/next-b", url: "http://127.0.0.1:4001" });
    // What the demo's console says, with durations from the injected clock.
    expect(h.said).toEqual([
      `published chimera/ep-003 (en); rebuilding the site (next build into .muse/next-b) while the current build keeps serving ${SITE} ...`,
      `rebuilt in 94 s; now serving the new build (.muse/next-b) on ${SITE}: ${SITE}/en/episodes/chimera/ep-003`,
    ]);
    expect(await h.redeployer.check()).toEqual({ status: "unchanged" });
  });

  it("alternates between the two build directories, one publish after another", async () => {
    const h = harness(FIXTURES);
    h.publish(file("chimera", 3));
    await h.redeployer.check();
    h.publish(file("chimera", 3, "de"), file("chimera", 3, "zh"));
    const second = await h.redeployer.check();
    expect(second).toMatchObject({
      status: "swapped",
      changes: [{ kind: "updated", series: "chimera", episode: 3, langs: ["de", "zh"] }],
      urls: [`${SITE}/de/episodes/chimera/ep-003`],
    });
    expect(h.events.filter((e) => e.startsWith("build"))).toEqual(["build .muse/next-b", "build .next"]);
    expect(h.events.at(-1)).toBe("stop .muse/next-b http://127.0.0.1:4001");
    expect(h.redeployer.current().distDir).toBe(".next");
  });

  it("keeps the old build serving when the build fails, and tries again only when the files change again", async () => {
    const h = harness(FIXTURES);
    h.failures.build = 1;
    h.publish(file("chimera", 3));
    expect(await h.redeployer.check()).toMatchObject({ status: "failed", error: "next build exited with 1" });
    expect(h.events).toEqual(["build .muse/next-b"]);
    expect(h.redeployer.current()).toBe(h.first);
    expect(h.said.at(-1)).toBe(
      "rebuild failed after 90 s (next build exited with 1); still serving the previous build (the next change of the episode files tries again)",
    );
    // The same files: no build every few seconds.
    expect(await h.redeployer.check()).toEqual({ status: "unchanged" });
    expect(h.events).toHaveLength(1);
    h.publish(file("chimera", 3, "de"));
    const retried = await h.redeployer.check();
    // Compared with the build being served: episode 3 is new, in both languages.
    expect(retried).toMatchObject({ status: "swapped", changes: [{ kind: "published", series: "chimera", episode: 3, langs: ["en", "de"] }] });
  });

  it("keeps the old build serving when the new server does not come up", async () => {
    const h = harness(FIXTURES);
    h.failures.start = 1;
    h.publish(file("chimera", 3));
    expect(await h.redeployer.check()).toMatchObject({ status: "failed", error: "next start exited with 1" });
    expect(h.events).toEqual(["build .muse/next-b"]);
    expect(h.redeployer.current()).toBe(h.first);
  });

  it("runs one rebuild at a time; a publish during a build is built by the next check", async () => {
    const h = harness(FIXTURES);
    h.publish(file("chimera", 3));
    let overlapping: Promise<unknown> | undefined;
    h.duringNextBuild(() => {
      overlapping = h.redeployer.check();
      h.publish(file("banterpacks", 2));
    });
    expect(await h.redeployer.check()).toMatchObject({ status: "swapped", changes: [{ series: "chimera", episode: 3 }] });
    expect(await overlapping).toEqual({ status: "busy" });
    expect(await h.redeployer.check()).toMatchObject({
      status: "swapped",
      changes: [{ kind: "published", series: "banterpacks", episode: 2 }],
      urls: [`${SITE}/en/episodes/banterpacks/ep-002`],
    });
    expect(await h.redeployer.check()).toEqual({ status: "unchanged" });
  });
});

describe("what changed in the episode files", () => {
  it("tells published, updated and removed episodes apart", () => {
    const before = [file("chimera", 1), file("chimera", 1, "de"), file("chimera", 2), file("banterpacks", 1)];
    const after = [file("chimera", 1), file("chimera", 1, "de", 2), file("chimera", 1, "hi"), file("banterpacks", 1), file("banterpacks", 2)];
    expect(contentChanges(before, after)).toEqual([
      { kind: "published", series: "banterpacks", episode: 2, langs: ["en"] },
      { kind: "updated", series: "chimera", episode: 1, langs: ["hi", "de"] },
      { kind: "removed", series: "chimera", episode: 2, langs: ["en"] },
    ]);
    expect(contentChanges(before, before)).toEqual([]);
  });
});

describe("the second build directory", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("is next.config.ts's distDir when MUSE_NEXT_DIST_DIR names it, .next otherwise", async () => {
    vi.stubEnv("MUSE_NEXT_DIST_DIR", "");
    expect((await import("../next.config")).default.distDir).toBe(".next");
    vi.resetModules();
    vi.stubEnv("MUSE_NEXT_DIST_DIR", DIST_DIRS[1]);
    expect((await import("../next.config")).default.distDir).toBe(DIST_DIRS[1]);
  });

  it("has its generated types listed in tsconfig.json, so next build never rewrites it", () => {
    const tsconfig = JSON.parse(readFileSync(path.join(import.meta.dirname, "..", "tsconfig.json"), "utf8")) as { include: string[]; exclude: string[] };
    for (const dir of DIST_DIRS) {
      // Next.js adds these two globs of its distDir to `include` when they are missing (and type-checks them).
      expect(tsconfig.include).toEqual(expect.arrayContaining([`${dir}/types/**/*.ts`, `${dir}/dev/types/**/*.ts`]));
      // ...and both directories are outside what tsc itself checks.
      expect(tsconfig.exclude.some((e) => dir === e || dir.startsWith(`${e}/`))).toBe(true);
    }
  });
});

describe("the demo's address: an alias in front of one server at a time", () => {
  const servers: http.Server[] = [];
  let alias: SiteAlias | undefined;
  afterEach(async () => {
    await alias?.close();
    alias = undefined;
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  /** A server that names itself; a request to /hold is answered when the test calls `release`. */
  async function backend(name: string) {
    const held: (() => void)[] = [];
    let heldArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (heldArrived = resolve));
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const answer = () => {
          res.writeHead(req.url === "/missing" ? 404 : 200, { "Content-Type": "application/json", "Set-Cookie": ["a=1", "b=2"], "X-Server": name });
          res.end(JSON.stringify({ server: name, method: req.method, url: req.url, host: req.headers.host, body: Buffer.concat(chunks).toString("utf8") }));
        };
        if (req.url === "/hold") {
          held.push(answer);
          heldArrived();
        } else answer();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrived, release: () => held.splice(0).forEach((f) => f()) };
  }

  it("answers 503 until a server is routed, then forwards method, path, body, Host and the answer as it is", async () => {
    alias = await openSiteAlias({ port: 0 });
    const before = await fetch(`${alias.url}/en`);
    expect(before.status).toBe(503);
    const a = await backend("a");
    alias.route(a.url);
    const res = await fetch(`${alias.url}/api/agents/publish?x=1`, { method: "POST", body: '{"dryRun":true}' });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-server")).toBe("a");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.json()).toEqual({ server: "a", method: "POST", url: "/api/agents/publish?x=1", host: new URL(alias.url).host, body: '{"dryRun":true}' });
    expect((await fetch(`${alias.url}/missing`)).status).toBe(404);
  });

  it("sends new requests to the new server at once while the old one finishes its own; drained() waits for those", async () => {
    alias = await openSiteAlias({ port: 0 });
    const a = await backend("a");
    const b = await backend("b");
    alias.route(a.url);
    const slow = fetch(`${alias.url}/hold`).then((r) => r.json());
    await a.arrived;
    alias.route(b.url);
    expect(await (await fetch(`${alias.url}/en`)).json()).toMatchObject({ server: "b" });
    let drained = false;
    const draining = alias.drained(a.url).then(() => (drained = true));
    await alias.drained(b.url); // nothing in flight there: at once
    expect(drained).toBe(false);
    a.release();
    expect(await slow).toMatchObject({ server: "a", url: "/hold" });
    await draining;
    expect(drained).toBe(true);
  });

  it("forwards only the path: an absolute-form request goes to the routed server, never to the host it names", async () => {
    alias = await openSiteAlias({ port: 0 });
    const a = await backend("a");
    alias.route(a.url);
    const { port } = new URL(alias.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path: "http://example.invalid/en?x=1", headers: { Host: "example.invalid" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      });
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(answer)).toMatchObject({ server: "a", url: "/en?x=1" });
  });

  it("answers 502 when the routed server is gone", async () => {
    alias = await openSiteAlias({ port: 0 });
    const a = await backend("a");
    alias.route(a.url);
    const server = servers.pop()!;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect((await fetch(`${alias.url}/en`)).status).toBe(502);
    await alias.drained(a.url);
  });
});
