/**
 * Runs a command with the local ClickHouse available: starts it when
 * CLICKHOUSE_URL is unset and nothing answers on the local port, and stops it
 * afterwards if it started it. Usage: tsx scripts/with-clickhouse.ts -- <cmd...>
 */
import { spawn } from "node:child_process";
import { ensureLocalClickHouse } from "../lib/local-clickhouse/launcher";

const separator = process.argv.indexOf("--");
const [command, ...args] = process.argv.slice(separator >= 0 ? separator + 1 : 2);
if (!command) {
  console.error("usage: tsx scripts/with-clickhouse.ts -- <command> [args...]");
  process.exit(2);
}

const clickhouse = await ensureLocalClickHouse({ quiet: true });
const child = spawn(command, args, { stdio: "inherit", shell: false, env: { ...process.env, MUSE_CLICKHOUSE_ENSURED: clickhouse.url } });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
const code: number = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
await clickhouse.stop();
process.exit(code);
