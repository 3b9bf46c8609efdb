import { loadEnv } from "../lib/env";
import { clickHouseConfig, createDb } from "../lib/clickhouse";
const db = createDb(clickHouseConfig(loadEnv()));
const rows = await db.query<{ status: string; problems: string[]; ts: string }>("SELECT status, problems, ts FROM episodes FINAL WHERE lang='en' ORDER BY ts", {});
console.log(JSON.stringify(rows, null, 1));
const ev = await db.query<Record<string, unknown>>("SELECT event_id, kind, state, label, metric, change_pct, blamed_sha, bisection_status, bisection_steps, bisection_extra_runs, code_commits FROM bench_events FINAL ORDER BY commit_ts", {});
console.log(ev.map((e) => JSON.stringify(e)).join("\n"));
await db.close();
