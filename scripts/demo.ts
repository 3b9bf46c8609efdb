/**
 * `npm run demo`: the whole thing on a fresh machine with no keys.
 *
 * 1. starts the local ClickHouse (unless CLICKHOUSE_URL is set or one answers);
 * 2. migrates and seeds 30 days of sample data (once; `--reseed` to redo): a
 *    Banterhearts where people commit code by day and a bot commits nightly
 *    benchmark reports, so each planted change first shows as a range of code
 *    commits;
 * 3. runs the pipeline once (ingest → collect → watch → council → bisect → translate → publish);
 * 4. builds and serves the site on http://127.0.0.1:3000, and builds it again
 *    whenever an episode is published (by its cron, POST /api/agents/publish,
 *    `muse review merge`): the new build is swapped in once it answers while
 *    the old one serves until then, as Vercel redeploys on every publish
 *    commit (lib/demo/redeploy.ts says why a rebuild and not on-demand pages);
 * 5. stands in for Vercel Cron: calls the same /api/cron/{agent} routes with
 *    the same secret on the schedules of vercel.json, while new sample data
 *    keeps arriving (overlay events through POST /api/ingest/events every
 *    5 minutes, a Banterhearts benchmark commit every 30 minutes);
 * 6. plays Banterhearts' benchmark runner: every minute it polls
 *    GET /api/bench/requests with MUSE_RUNNER_TOKEN, claims each request, runs
 *    the sample world's performance model at that commit and POSTs the reports
 *    to /api/ingest/bench with X-Muse-Request-Id, then runs the bisect agent —
 *    every minute, where production's cron runs it every 15 minutes — so a
 *    regression first reported on a nightly range narrows to its commit within
 *    minutes. When no bisection is left, the council writes the next episode
 *    (forced once, which production's hourly council would do on its own).
 * Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Cron } from "croner";
import { ensureLocalClickHouse, projectRoot } from "../lib/local-clickhouse/launcher";
import { messageOf } from "../lib/error-message";

const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);
const args = new Set(process.argv.slice(2));
const SITE = "http://127.0.0.1:3000";

// Secrets of this demo session (never printed); the same values reach the site and the stand-in cron.
process.env.CRON_SECRET ||= randomBytes(24).toString("hex");
process.env.MUSE_ADMIN_TOKEN ||= randomBytes(24).toString("hex");
process.env.MUSE_INGEST_TOKEN ||= randomBytes(24).toString("hex");
process.env.MUSE_RUNNER_TOKEN ||= randomBytes(24).toString("hex");
process.env.MUSE_SAMPLE_DATA = "true";
// Hourly council runs may write a new episode whenever new sample data has landed.
process.env.MUSE_EPISODE_MIN_INTERVAL_HOURS ||= "1";
process.env.MUSE_SITE_URL ||= SITE;
// Episodes are committed to a git repository of their own under .muse/, not to this checkout.
process.env.MUSE_CONTENT_DIR ||= path.join(".muse", "content");
process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.MUSE_LOG_LEVEL ||= "warn";

const children: ChildProcess[] = [];
const timers: { stop(): void }[] = [];
let clickhouseStop: () => Promise<void> = async () => {};
let siteStop: () => Promise<void> = async () => {};
let stopping = false;

async function stop(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    say("stopping ...");
    for (const t of timers) t.stop();
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    await siteStop();
    await clickhouseStop();
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

function run(command: string, commandArgs: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: projectRoot, stdio: "inherit", env: process.env });
    children.push(child);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}
const muse = (...museArgs: string[]) => run(process.execPath, ["--import", "tsx", "scripts/muse.ts", ...museArgs]);

const started = Date.now();
const clickhouse = await ensureLocalClickHouse({ quiet: true, log: say });
clickhouseStop = () => clickhouse.stop();
say(`ClickHouse: ${clickhouse.url}${clickhouse.started ? " (started by the demo)" : " (already running)"}`);

say("migrating ...");
if ((await muse("migrate")) !== 0) await stop(1);

const heartsDir = process.env.BANTERHEARTS_DIR ?? ".muse/upstream/banterhearts";
if (args.has("--reseed") || !existsSync(path.join(projectRoot, heartsDir, ".git"))) {
  say("seeding 30 days of sample data ...");
  if ((await muse("seed", "--days", "30")) !== 0) await stop(1);
} else {
  say(`sample data already seeded in ${heartsDir} (npm run demo -- --reseed to start over)`);
}

say("running the pipeline once ...");
await muse("pipeline");

// The site behind the demo's address; an episode published from now on is served after a rebuild, which the demo says.
const { serveSite } = await import("../lib/demo/site");
const site = await serveSite({
  env: process.env,
  port: Number(new URL(SITE).port),
  say,
  onExit: (code) => void (stopping ? undefined : (say(`the site exited (${code})`), stop(1))),
}).catch((error: unknown) => {
  say(`the site did not start: ${messageOf(error)}`);
  return stop(1);
});
siteStop = () => site.stop();

// The local stand-in for Vercel Cron: same routes, same secret, vercel.json's schedules.
const vercel = JSON.parse(readFileSync(path.join(projectRoot, "vercel.json"), "utf8")) as { crons: { path: string; schedule: string }[] };
for (const cron of vercel.crons) {
  const job = new Cron(cron.schedule, { protect: true }, async () => {
    const res = await fetch(`${SITE}${cron.path}`, { headers: { Authorization: `Bearer ${process.env.CRON_SECRET}` } }).catch(() => undefined);
    const record = res ? ((await res.json().catch(() => ({}))) as { status?: string; duration_ms?: number; reason?: string }) : {};
    say(
      `cron ${cron.path}: ${res ? `${res.status} ${record.status ?? ""} ${record.duration_ms ?? ""} ms${record.reason ? ` (${record.reason})` : ""}` : "site unreachable"}`,
    );
  });
  timers.push(job);
  say(`cron ${cron.path} "${cron.schedule}" → next at ${job.nextRun()?.toISOString()}`);
}

// New sample data keeps arriving.
const { addHeartsCommit, liveSessions } = await import("../lib/seed/live");
const { createUpstreamRepos } = await import("../lib/upstream");
const { loadEnv } = await import("../lib/env");
// Every 5 minutes, the sessions that started 10 to 5 minutes ago (by now they are over).
let lastStart = new Date(Date.now() - 10 * 60_000);
timers.push(
  new Cron("*/5 * * * *", { protect: true }, async () => {
    const now = new Date();
    const packs = await createUpstreamRepos(loadEnv()).packs.latestCommit();
    if (!packs) return;
    const end = new Date(now.getTime() - 5 * 60_000);
    const events = liveSessions(lastStart, end, now, packs.sha);
    lastStart = end;
    if (events.length === 0) return;
    const res = await fetch(`${SITE}/api/ingest/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${process.env.MUSE_INGEST_TOKEN}`, "Content-Type": "application/json", "Idempotency-Key": `demo-${now.toISOString()}` },
      body: JSON.stringify({ events }),
    }).catch(() => undefined);
    say(`sample events: ${events.length} sent → ${res?.status ?? "site unreachable"}`);
  }),
  new Cron("*/30 * * * *", { protect: true }, async () => {
    const sha = await addHeartsCommit(path.join(projectRoot, heartsDir), new Date());
    say(`sample Banterhearts commit ${sha.slice(0, 7)} with new benchmark reports`);
  }),
);

// Banterhearts' benchmark runner, played by the demo (production: a CI job polling the same API, or the workflow
// Muse dispatches). The bisect agent runs right after each round, every minute.
const { reportsForRequest } = await import("../lib/seed/runner");
const runnerHeaders = { Authorization: `Bearer ${process.env.MUSE_RUNNER_TOKEN}`, "Content-Type": "application/json" };
const admin = { Authorization: `Bearer ${process.env.MUSE_ADMIN_TOKEN}`, "Content-Type": "application/json" };
let bisectionSeen = false;
let storyWritten = false;
timers.push(
  new Cron("* * * * *", { protect: true }, async () => {
    const listed = await fetch(`${SITE}/api/bench/requests?limit=100`, { headers: runnerHeaders }).catch(() => undefined);
    const pending = listed?.ok
      ? ((await listed.json()) as { requests: { id: string; commit_sha: string; benchmark_type: string; model: string; repeats: number }[] }).requests
      : [];
    for (const request of pending) {
      const claim = await fetch(`${SITE}/api/bench/requests/${request.id}/claim`, {
        method: "POST",
        headers: runnerHeaders,
        body: JSON.stringify({ runner: "demo-runner", lease_seconds: 600 }),
      }).catch(() => undefined);
      if (claim?.status !== 200) continue;
      const reports = await reportsForRequest(path.join(projectRoot, heartsDir), request, new Date());
      const posted = await fetch(`${SITE}/api/ingest/bench`, {
        method: "POST",
        headers: { Authorization: `Bearer ${process.env.MUSE_INGEST_TOKEN}`, "Content-Type": "application/json", "X-Muse-Request-Id": request.id },
        body: JSON.stringify(reports),
      }).catch(() => undefined);
      say(
        `runner: ${request.benchmark_type} ${request.model} at ${request.commit_sha.slice(0, 7)} ×${request.repeats} → ${posted?.status ?? "site unreachable"}`,
      );
    }
    const res = await fetch(`${SITE}/api/agents/bisect`, { method: "POST", headers: admin, body: "{}" }).catch(() => undefined);
    const record = res ? ((await res.json().catch(() => ({}))) as { status?: string; summary?: { events?: number; bisected?: string[] } }) : {};
    const left = (record.summary?.events ?? 0) - (record.summary?.bisected?.length ?? 0);
    if (pending.length > 0 || (record.summary?.events ?? 0) > 0) bisectionSeen = true;
    if (record.summary?.bisected?.length) say(`bisect: ${record.summary.bisected.join("; ")}`);
    // Once every bisection is done, the next episode names the commits (once; later ones follow the cron).
    if (bisectionSeen && !storyWritten && record.status === "skipped" && left <= 0) {
      storyWritten = true;
      for (const agent of ["watch", "council", "publish"]) {
        const r = await fetch(`${SITE}/api/agents/${agent}`, { method: "POST", headers: admin, body: agent === "council" ? '{"force":true}' : "{}" }).catch(
          () => undefined,
        );
        say(`${agent} after bisection: ${r?.status ?? "site unreachable"}`);
      }
    }
  }),
);

say(`ready in ${Math.round((Date.now() - started) / 1000)} s:`);
say(`  site:    ${SITE}/en`);
say(`  status:  ${SITE}/en/status`);
say(`  health:  ${SITE}/api/health`);
say(`  episodes (JSON): ${SITE}/api/episodes`);
say(`  content: ${process.env.MUSE_CONTENT_DIR} (episodes are committed there; each publish rebuilds the site, and the demo says when it serves them)`);
say("Ctrl-C stops everything the demo started.");
