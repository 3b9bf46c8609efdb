import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { createServer } from "node:net";
import { createProxyServer } from "http-proxy-3";
import path from "node:path";
import { listFiles } from "../content/episodes";
import { projectRoot } from "../local-clickhouse/launcher";
import type { Clock } from "../server-context";
import { createRedeployer, DIST_DIRS, type CheckResult, type Deployment } from "./redeploy";
import { messageOf } from "../error-message";

/**
 * The site of `npm run demo`: built, served, and built again when an episode
 * is published (lib/demo/redeploy.ts says why and how).
 *
 * The site's address (http://127.0.0.1:3000) is an alias: a small HTTP
 * forwarder in the demo's process in front of `next start` on a port of its
 * own, as a Vercel domain points at one deployment at a time. Moving it is
 * instant, so readers, the stand-in cron and the publisher's revalidation
 * never meet a closed port while the site is rebuilt and swapped; the old
 * server stops once the requests forwarded to it are answered (an agent run
 * takes up to its route's 300 s).
 *
 * `next build` and `next start` run in `appDir` (the checkout; the tests use a
 * copy), with `MUSE_NEXT_DIST_DIR` naming the build directory (next.config.ts).
 */

const NEXT_BIN = path.join(projectRoot, "node_modules", "next", "dist", "bin", "next");
/** The longest an agent route runs (maxDuration of app/api/agents and app/api/cron). */
const DRAIN_MS = 300_000;
export interface SiteAlias {
  /** The address readers use. */
  url: string;
  /** Forwards every request from now on to `origin` (requests in flight finish where they started). */
  route(origin: string): void;
  /** Resolves once no request forwarded to `origin` is in flight. */
  drained(origin: string): Promise<void>;
  close(): Promise<void>;
}

/** The alias on host:port. Until the first route it answers 503 (the site is being built). */
export async function openSiteAlias(options: { host?: string; port: number }): Promise<SiteAlias> {
  const host = options.host ?? "127.0.0.1";
  let target: string | undefined;
  const inFlight = new Map<string, number>();
  const waiters = new Map<string, (() => void)[]>();
  const release = (origin: string) => {
    const left = (inFlight.get(origin) ?? 1) - 1;
    if (left > 0) return void inFlight.set(origin, left);
    inFlight.delete(origin);
    for (const wake of waiters.get(origin) ?? []) wake();
    waiters.delete(origin);
  };

  // The forwarding itself is http-proxy's (hop-by-hop headers, streaming both ways, errors); the alias only picks the
  // server and counts what is in flight there. The Host header goes on unchanged (changeOrigin false): the site sees
  // the address the reader used.
  const proxy = createProxyServer({ changeOrigin: false, xfwd: false });
  const server = http.createServer((req, res) => {
    const origin = target;
    let requested: URL;
    try {
      requested = new URL(req.url ?? "/", "http://alias.invalid");
    } catch {
      res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("Bad request target.\n");
      return;
    }
    if (!origin) {
      res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", "Retry-After": "10", "Cache-Control": "no-store" });
      res.end("The site is being built.\n");
      return;
    }
    inFlight.set(origin, (inFlight.get(origin) ?? 0) + 1);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      release(origin);
    };
    res.on("close", done);
    // Only the path goes on: an absolute-form request target never picks another host (this is no open proxy).
    req.url = `${requested.pathname}${requested.search}`;
    proxy.web(req, res, { target: origin }, () => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
        res.end("The site did not answer.\n");
      }
      done();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}`,
    route: (origin) => void (target = origin),
    drained: (origin) =>
      inFlight.has(origin) ? new Promise<void>((resolve) => waiters.set(origin, [...(waiters.get(origin) ?? []), resolve])) : Promise.resolve(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        proxy.close();
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface DemoSiteOptions {
  /** Where `next build` and `next start` run (default: the checkout). */
  appDir?: string;
  /** The environment of the builds and servers. */
  env: NodeJS.ProcessEnv;
  host?: string;
  port: number;
  say(line: string): void;
  clock?: Clock;
  /** How often the episode files are compared with the served build's (default 5 s). */
  checkEveryMs?: number;
  /** A server the demo did not stop exited. */
  onExit?(code: number): void;
}

export interface DemoSite {
  url: string;
  /** One comparison (and rebuild, swap) now; the demo's timer calls the same. */
  check(): Promise<CheckResult>;
  stop(): Promise<void>;
}

/** Builds the site into `.next`, serves it behind the alias, and rebuilds and swaps when the episode files change. */
export async function serveSite(options: DemoSiteOptions): Promise<DemoSite> {
  const appDir = options.appDir ?? projectRoot;
  const contentDir = path.resolve(appDir, options.env.MUSE_CONTENT_DIR ?? "content");
  const clock = options.clock ?? { now: () => new Date() };
  const running = new Set<ChildProcess>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // Nothing is said once the demo stops (a build it cut short is no failure).
  const say = (line: string) => {
    if (!stopped) options.say(line);
  };
  const alias = await openSiteAlias({ host: options.host, port: options.port });

  function next(args: string[], distDir: string, stdio: "build" | "serve"): ChildProcess {
    const child = spawn(process.execPath, [NEXT_BIN, ...args], {
      cwd: appDir,
      env: { ...options.env, MUSE_NEXT_DIST_DIR: distDir },
      // A build's output is kept and shown only when it fails; a server's errors go to the demo's stderr as before.
      stdio: stdio === "build" ? ["ignore", "pipe", "pipe"] : ["ignore", "ignore", "inherit"],
    });
    running.add(child);
    child.once("exit", () => running.delete(child));
    return child;
  }

  function build(distDir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = next(["build"], distDir, "build");
      let output = "";
      const keep = (chunk: Buffer) => void (output = (output + chunk.toString("utf8")).slice(-20_000));
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      child.once("error", reject);
      child.once("exit", (code) => {
        if (code === 0) return resolve();
        if (!stopped) process.stderr.write(output.slice(-4_000));
        reject(new Error(`next build exited with ${code ?? "a signal"}`));
      });
    });
  }

  async function start(distDir: string): Promise<Deployment> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = next(["start", "-H", "127.0.0.1", "-p", String(port)], distDir, "serve");
    let retiring = false;
    const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
    const deployment: Deployment = {
      distDir,
      url,
      async stop() {
        retiring = true;
        let timeout: NodeJS.Timeout | undefined;
        await Promise.race([alias.drained(url), new Promise((resolve) => (timeout = setTimeout(resolve, stopped ? 0 : DRAIN_MS)))]);
        clearTimeout(timeout);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      },
    };
    // Up once it answers at all (/api/health may say 503 while ClickHouse is away; the server is up).
    let exitCode: number | undefined;
    void exited.then((code) => (exitCode = code));
    for (let i = 0; i < 240 && exitCode === undefined; i++) {
      const answered = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5_000) }).then(
        () => true,
        () => false,
      );
      if (answered) {
        void exited.then((code) => {
          if (!retiring && !stopped) options.onExit?.(code);
        });
        return deployment;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    retiring = true;
    child.kill("SIGTERM");
    throw new Error(exitCode === undefined ? `next start did not answer on ${url} within a minute` : `next start exited with ${exitCode}`);
  }

  try {
    const list = async () => (await listFiles(contentDir)).files;
    const content = await list();
    say("building the site (next build) ...");
    await build(DIST_DIRS[0]);
    say("starting the site ...");
    const first = await start(DIST_DIRS[0]);
    alias.route(first.url);
    const redeployer = createRedeployer(
      { listContent: list, build, start, route: (d) => alias.route(d.url), clock, say, siteUrl: alias.url },
      { deployment: first, content },
    );
    const check = () => redeployer.check();
    const loop = async () => {
      await check().catch((error: unknown) => say(`checking the episode files failed: ${messageOf(error)}`));
      if (!stopped) timer = setTimeout(loop, options.checkEveryMs ?? 5_000);
    };
    timer = setTimeout(loop, options.checkEveryMs ?? 5_000);
    return {
      url: alias.url,
      check,
      async stop() {
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }

  async function stopAll(): Promise<void> {
    stopped = true;
    clearTimeout(timer);
    const exits = [...running].map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve))));
    for (const child of running) child.kill("SIGTERM");
    await Promise.all(exits);
    await alias.close();
  }
}
