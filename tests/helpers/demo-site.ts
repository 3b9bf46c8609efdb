import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDb, withDatabase } from "../../lib/clickhouse/client";
import { ensureLocalClickHouse, projectRoot } from "../../lib/local-clickhouse/launcher";
import { freePort } from "../hardening/helpers/clickhouse-child";
import { testClickHouseConfig, uniqueDatabaseName } from "./db";

/**
 * The site built the way a deployment sees it, then served: the browser tests
 * and the Lighthouse bench both read it.
 * - a fresh database with 10 days of sample data and one pipeline run
 *   (ingest → collect → watch → council → publish) whose episode is committed
 *   into a temporary content repository;
 * - the hand-written fixture episodes (with de/zh translations) beside it;
 * - `next build` + `next start` on a free loopback port, in a copy of the app
 *   (sources only; node_modules resolve from the checkout): the checkout's own
 *   `.next` is never touched, and the build type-checks the app, not the test
 *   helpers.
 */

const SKIP = new Set(["node_modules", ".next", ".git", ".muse", "tests", "bench", "content", "coverage", "test-results", "tsconfig.tsbuildinfo", ".vercel"]);

/**
 * A copy of the app's sources in `target` for a build of its own (node_modules
 * resolve from the checkout above it), with an empty `content/`: the app reads
 * MUSE_CONTENT_DIR, and an empty default keeps stray reads harmless.
 */
export function copyApp(target: string): void {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(projectRoot)) {
    if (SKIP.has(name)) continue;
    cpSync(path.join(projectRoot, name), path.join(target, name), { recursive: true });
  }
  mkdirSync(path.join(target, "content"), { recursive: true });
}

/** `next build`; on failure the error carries the tail of its output. */
function nextBuild(next: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [next, "build"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-20_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next build failed:\n${output.slice(-4_000)}`))));
  });
}

export interface DemoSite {
  baseUrl: string;
  contentDir: string;
  stop(): Promise<void>;
}

export async function serveDemoSite(options: {
  /** Where the copy of the app is built. */
  appDir: string;
  /** Prefix of the database and the temp directories. */
  name: string;
  say: (line: string) => void;
  /** Variables beyond the defaults below (e.g. RUM turned off explicitly). */
  env?: Record<string, string>;
}): Promise<DemoSite> {
  const clickhouse = await ensureLocalClickHouse({ quiet: true, dataDir: mkdtempSync(path.join(os.tmpdir(), `${options.name}-ch-`)) });
  const work = mkdtempSync(path.join(os.tmpdir(), `${options.name}-`));
  const database = uniqueDatabaseName(options.name.replace(/-/g, "_"));
  const contentDir = path.join(work, "content");
  cpSync(path.join(projectRoot, "tests", "fixtures", "content"), contentDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLICKHOUSE_URL: process.env.CLICKHOUSE_URL || clickhouse.url,
    CLICKHOUSE_USER: clickhouse.credentials.user,
    CLICKHOUSE_PASSWORD: clickhouse.credentials.password,
    CLICKHOUSE_DATABASE: database,
    BANTERHEARTS_DIR: path.join(work, "banterhearts"),
    BANTERPACKS_DIR: path.join(work, "banterpacks"),
    MUSE_CONTENT_DIR: contentDir,
    MUSE_DLQ_DIR: path.join(work, "dlq"),
    MUSE_SAMPLE_DATA: "true",
    MUSE_LOG_LEVEL: "warn",
    NEXT_TELEMETRY_DISABLED: "1",
    OPENAI_API_KEY: "",
    GITHUB_TOKEN: "",
    DD_API_KEY: "",
    ...options.env,
  };
  let server: ChildProcess | undefined;
  const stop = async () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {
        server.kill("SIGTERM");
      }
    }
    const admin = createDb(testClickHouseConfig());
    await admin.command("DROP DATABASE IF EXISTS {db:Identifier}", { db: database }).catch(() => undefined);
    await admin.close();
    await clickhouse.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(options.appDir, { recursive: true, force: true });
  };
  try {
    const muse = (...args: string[]) =>
      execFileSync(process.execPath, ["--import", "tsx", "scripts/muse.ts", ...args], { cwd: projectRoot, env, stdio: ["ignore", "ignore", "inherit"] });
    options.say("seeding 10 days of sample data ...");
    muse("seed", "--days", "10");
    // The fixture episodes hold numbers 1 and 2 of both series: recorded as taken, so the pipeline's episode is number 3.
    const db = createDb(withDatabase(testClickHouseConfig(), database));
    await db.insert("episode_numbers", [
      ...["chimera", "banterpacks"].flatMap((series) =>
        [1, 2].map((n) => ({ series, episode_num: n, run_id: "00000000-0000-4000-8000-00000000000" + n, claimed_at: "2026-01-01T00:00:00.000Z" })),
      ),
    ]);
    await db.close();
    options.say("running the pipeline ...");
    muse("pipeline");
    options.say(`building the site (a copy of the app in ${path.relative(projectRoot, options.appDir)}) ...`);
    copyApp(options.appDir);
    const next = path.join(projectRoot, "node_modules", "next", "dist", "bin", "next");
    await nextBuild(next, options.appDir, env);
    const port = await freePort();
    server = spawn(process.execPath, [next, "start", "-H", "127.0.0.1", "-p", String(port)], {
      cwd: options.appDir,
      env,
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 120; i++) {
      const up = await fetch(`${baseUrl}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return { baseUrl, contentDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
