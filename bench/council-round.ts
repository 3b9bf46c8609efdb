/**
 * One round of the council's series path in a process of its own (bench/changepoints-real.ts councilScale spawns it
 * three times): loadSeries from the ClickHouse named on stdin, then detectChangesInWorkers, as a council run does. Its peak
 * memory is then the run's own (VmHWM of a fresh process), not the bench's. Prints one JSON line on stdout.
 *
 *   stdin: { "clickhouse": ClickHouseConfig, "from": ISO, "to": ISO, "lookbackDays": number }
 */
import { readFileSync } from "node:fs";
import { changeConfig } from "../lib/agents/council";
import { detectChangesInWorkers, timeOnlyAttribution } from "../lib/analysis/changes";
import { loadSeries } from "../lib/analysis/series";
import { createDb, type ClickHouseConfig } from "../lib/clickhouse/client";
import { parseEnv } from "../lib/env";

export interface CouncilRound {
  readMs: number;
  detectMs: number;
  /** CPU time of this process (user + system) in each: the read's excludes the ClickHouse server's. */
  readCpuMs: number;
  detectCpuMs: number;
  series: number;
  points: number;
  /** VmHWM after the read, and at the end (bytes). */
  readPeakRssBytes: number;
  peakRssBytes: number;
}

/** VmHWM (peak resident set) of this process in bytes, or NaN off Linux. */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const input = JSON.parse(readFileSync(0, "utf8")) as { clickhouse: ClickHouseConfig; from: string; to: string; lookbackDays: number };
const db = createDb(input.clickhouse);
const config = { ...changeConfig(parseEnv({})), lookbackDays: input.lookbackDays };
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const [t0, c0] = [performance.now(), cpuMs()];
const series = await loadSeries(db, { from: new Date(input.from), to: new Date(input.to) });
const [t1, c1] = [performance.now(), cpuMs()];
const readPeakRssBytes = peakRss();
await detectChangesInWorkers(series, timeOnlyAttribution([]), config);
const [t2, c2] = [performance.now(), cpuMs()];
await db.close();
const round: CouncilRound = {
  readMs: t1 - t0,
  detectMs: t2 - t1,
  readCpuMs: c1 - c0,
  detectCpuMs: c2 - c1,
  series: series.length,
  points: series.reduce((n, s) => n + s.points.length, 0),
  readPeakRssBytes,
  peakRssBytes: peakRss(),
};
process.stdout.write(`${JSON.stringify(round)}\n`);
