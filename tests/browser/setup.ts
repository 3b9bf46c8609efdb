import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { ensureLocalClickHouse, projectRoot } from "../../lib/local-clickhouse/launcher";
import { createDb, withDatabase } from "../../lib/clickhouse/client";
import { uniqueDatabaseName, testClickHouseConfig } from "../helpers/db";

/**
 * Builds the site the way a deployment would see it, then serves it:
 * - a fresh database with 10 days of sample data and one pipeline run
 *   (ingest → collect → watch → council → publish) whose episode is committed
 *   into a temporary content repository;
 * - the hand-written fixture episodes (with de/zh translations) beside it;
 * - `next build` + `next start` on a free loopback port, in a copy of the app
 *   under `.muse/browser-site` (sources only; node_modules resolve from the
 *   checkout): the checkout's own `.next` is never touched, and the build
 *   type-checks the app, not the test helpers.
 */

const SKIP = new Set(["node_modules", ".next", ".git", ".muse", "tests", "bench", "content", "coverage", "test-results", "tsconfig.tsbuildinfo", ".vercel"]);

function copyApp(target: string): void {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(projectRoot)) {
    if (SKIP.has(name)) continue;
    cpSync(path.join(projectRoot, name), path.join(target, name), { recursive: true });
  }
  mkdirSync(path.join(target, "content"), { recursive: true });
}

const say = (line: string) => process.stderr.write(`[browser-setup] ${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export default async function setup() {
  const started = Date.now();
  const clickhouse = await ensureLocalClickHouse({ quiet: true, dataDir: mkdtempSync(path.join(os.tmpdir(), "muse-browser-ch-")) });
  const work = mkdtempSync(path.join(os.tmpdir(), "muse-browser-"));
  const database = uniqueDatabaseName("muse_browser");
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
    MUSE_SAMPLE_DATA: "true",
    MUSE_LOG_LEVEL: "warn",
    NEXT_TELEMETRY_DISABLED: "1",
    OPENAI_API_KEY: "",
    GITHUB_TOKEN: "",
    DD_API_KEY: "",
  };
  const muse = (...args: string[]) =>
    execFileSync(process.execPath, ["--import", "tsx", "scripts/muse.ts", ...args], { cwd: projectRoot, env, stdio: ["ignore", "ignore", "inherit"] });

  say("seeding sample data ...");
  muse("seed", "--days", "10");
  // The fixture episodes hold numbers 1 and 2 of both series: record them as taken.
  const db = createDb(withDatabase(testClickHouseConfig(), database));
  await db.insert("episode_numbers", [
    ...["chimera", "banterpacks"].flatMap((series) =>
      [1, 2].map((n) => ({ series, episode_num: n, run_id: "00000000-0000-4000-8000-00000000000" + n, claimed_at: "2026-01-01T00:00:00.000Z" })),
    ),
  ]);
  await db.close();
  say("running the pipeline ...");
  muse("pipeline");

  say("building the site ...");
  const app = path.join(projectRoot, ".muse", "browser-site");
  copyApp(app);
  const next = path.join(projectRoot, "node_modules", "next", "dist", "bin", "next");
  execFileSync(process.execPath, [next, "build"], { cwd: app, env, stdio: ["ignore", "ignore", "inherit"] });
  const port = await freePort();
  const server: ChildProcess = spawn(process.execPath, [next, "start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: app,
    env,
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (
      await fetch(`${baseUrl}/api/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.env.MUSE_BROWSER_BASE_URL = baseUrl;
  process.env.MUSE_BROWSER_CONTENT_DIR = contentDir;
  say(`site ready on ${baseUrl} in ${Math.round((Date.now() - started) / 1000)} s`);

  return async () => {
    if (server.pid) {
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
    rmSync(app, { recursive: true, force: true });
  };
}
