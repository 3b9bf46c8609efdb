/**
 * `npm run demo`: the whole thing on the embedded defaults, no accounts needed.
 * Starts the local ClickHouse (unless CLICKHOUSE_URL is set or one already
 * answers), applies the migrations and serves the site on 127.0.0.1:3000.
 * Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { ensureLocalClickHouse } from "../lib/local-clickhouse/launcher";
import { runCli } from "../lib/cli";

const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);
const children: ChildProcess[] = [];

const clickhouse = await ensureLocalClickHouse({ quiet: true, log: say });
say(`ClickHouse: ${clickhouse.url}${clickhouse.started ? " (started by the demo)" : ""}`);

say("applying migrations ...");
const migrated = await runCli(["migrate"]);
if (migrated !== 0) {
  await clickhouse.stop();
  process.exit(migrated);
}

say("starting the site on http://127.0.0.1:3000 ...");
const next = spawn("npx", ["next", "dev", "-H", "127.0.0.1", "-p", "3000"], {
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
children.push(next);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say("stopping ...");
  for (const child of children) child.kill("SIGTERM");
  await clickhouse.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
next.once("exit", (code) => void stop(code ?? 0));
say("site:    http://127.0.0.1:3000");
say("health:  http://127.0.0.1:3000/api/health");
say("Ctrl-C stops everything the demo started.");
