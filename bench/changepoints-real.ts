import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { changeLocations, DEFAULT_DETECTOR_OPTIONS, detectAcross, detectEach, detectSeries, type SeriesDetection } from "../lib/analysis/changepoints";
import type { ClickHouseConfig } from "../lib/clickhouse/client";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { migratedDatabase, startClickHouseChild } from "../tests/hardening/helpers/clickhouse-child";
import { groupedBarSvg } from "./chart";
import { gaussian, seededRandom } from "../lib/seed/random";
import * as previous from "./baselines/edivisive";
import binomialCdf from "@stdlib/stats-base-dists-binomial-cdf";
import type { CouncilRound } from "./council-round";
import { say, tempDir, type Row, type SectionResult } from "./lib";
import { loadTcpd, publishedMeans } from "./tcpd/dataset";
import { evaluateOnTcpd, type TcpdEvaluation } from "./tcpd/evaluate";
import { leaveOneOut, type SettingScores } from "./tcpd/leave-one-out";

/**
 * The detector on data built like real benchmark histories and on real data (issue
 * "a change-point detector that holds on real data"), side by side with the detector it
 * replaced (bench/baselines/edivisive.ts), in one run:
 *
 *  - clean series (no change) at 30 … 2,000 runs with independent, AR(1) φ = 0.5 and
 *    Student-t (3 df) noise: false alarms per 100 series (any change of any kind but an
 *    outlier) and the calibration of the published series p-value (share ≤ 0.01 and ≤ 0.001);
 *  - long series with one planted step (10–50 %, CV 3 %) in the same noises: recall / exact;
 *  - TCPD, default experiment: F1 and cover with TCPDBench's own metric, beside the
 *    published scores of every method read from the same files;
 *  - time per series at 365 / 1,000 / 2,000 runs and for 10,000 series × 1,000 runs.
 * Deterministic: fixed seeds.
 */

const LENGTHS = [30, 60, 365, 1000, 2000] as const;
const NOISES = ["independent", "ar1", "t3"] as const;
type Noise = (typeof NOISES)[number];

function noiseSeries(rng: () => number, noise: Noise, n: number, cv: number, level: (i: number) => number): number[] {
  const values: number[] = [];
  let state = gaussian(rng);
  for (let i = 0; i < n; i++) {
    let e = gaussian(rng);
    if (noise === "t3") {
      let chi = 0;
      for (let k = 0; k < 3; k++) chi += gaussian(rng) ** 2;
      e = e / Math.sqrt(chi / 3) / Math.sqrt(3); // unit variance
    } else if (noise === "ar1") {
      state = 0.5 * state + Math.sqrt(1 - 0.25) * e;
      e = state;
    }
    values.push(level(i) * (1 + (cv / 100) * e));
  }
  return values;
}

/** 1,000 clean series a cell at every length (the issue asks ≥ 300 above 365 runs; the calibration check needs more). */
const seriesPerCell = (n: number, quick: boolean) => (quick ? (n <= 365 ? 200 : 60) : 1000);

/**
 * The calibration check of a share of p-values ≤ `level` among `count` clean series: within the goal's band
 * (½ to 2 × the level), and — since a count of 1,000 series holds ±1 of sampling noise at p ≤ 0.001, where the band
 * is 0.5 to 2 series — whether the count is consistent with a uniform p-value (two-sided exact binomial test at 1 %).
 */
function calibration(hits: number, count: number, level: number): { share: number; inBand: boolean; consistent: boolean; binomialP: number } {
  const share = hits / count;
  const lower = binomialCdf(hits, count, level);
  const upper = hits === 0 ? 1 : 1 - binomialCdf(hits - 1, count, level);
  const binomialP = Math.min(1, 2 * Math.min(lower, upper));
  return { share, inBand: share >= level / 2 && share <= 2 * level, consistent: binomialP >= 0.01, binomialP };
}

export async function changepointsRealSection(options: { quick: boolean }): Promise<SectionResult> {
  const rows: Row[] = [];
  const cells: Record<string, unknown>[] = [];
  const started = performance.now();
  let worstAlarms = 0;
  for (const n of LENGTHS) {
    for (const noise of NOISES) {
      const rng = seededRandom(1000 * n + NOISES.indexOf(noise));
      const count = seriesPerCell(n, options.quick);
      let [alarms, p01, p001, previousAlarms, detectMs, seasons] = [0, 0, 0, 0, 0, 0];
      // The cell is one family of like series, as the council's are (detectEach: each series on its own, short ones
      // with the family's φ as a prior; no correction across series, so an alarm is one series' own).
      const family = Array.from({ length: count }, () => ({ values: noiseSeries(rng, noise, n, 3, () => 100) }));
      // The detector alone per series: not the noise generation, nor the previous detector run on the same series.
      for (const { values } of family) {
        const t0 = performance.now();
        detectSeries(values);
        detectMs += performance.now() - t0;
      }
      const { detections, phiPrior } = detectEach(family);
      for (let k = 0; k < count; k++) {
        const d = detections[k];
        if (d.steps.length + d.drifts.length + d.spreads.length > 0) alarms++;
        if (d.p_value <= 0.01) p01++;
        if (d.p_value <= 0.001) p001++;
        if (d.season) seasons++;
        if (n <= 365 && previous.detectChangePoints(family[k].values).length > 0) previousAlarms++;
      }
      const ms = detectMs / count;
      const per100 = (100 * alarms) / count;
      worstAlarms = Math.max(worstAlarms, per100);
      const [c01, c001] = [calibration(p01, count, 0.01), calibration(p001, count, 0.001)];
      const calibrated = (c: ReturnType<typeof calibration>) => (c.inBand ? "in band" : c.consistent ? "binomially consistent" : "FAIL");
      cells.push({
        n,
        noise,
        series: count,
        alarms_per_100: per100,
        family_phi: phiPrior?.phi ?? null,
        previous_alarms_per_100: n <= 365 ? (100 * previousAlarms) / count : null,
        seasons_found: seasons,
        p_le_001: p01 / count,
        p_le_0001: p001 / count,
        calibration_001: c01,
        calibration_0001: c001,
        ms_per_series: ms,
      });
      rows.push({
        section: "changepoints-real",
        measure: `clean, ${n} runs, ${noise}: false alarms / 100 series`,
        value: `${per100.toFixed(2)}${n <= 365 ? ` (previous ${((100 * previousAlarms) / count).toFixed(1)})` : ""}`,
        ratio: `p ≤ 0.01: ${((100 * p01) / count).toFixed(2)} % (${calibrated(c01)}), p ≤ 0.001: ${((100 * p001) / count).toFixed(2)} % (${calibrated(c001)})`,
        note: `${count} series, family φ ${phiPrior ? phiPrior.phi.toFixed(2) : "–"}, a season found in ${seasons}; goal ≤ 1: ${per100 <= 1 ? "PASS" : "FAIL"}; p uniform: ${(c01.inBand || c01.consistent) && (c001.inBand || c001.consistent) ? "PASS" : "FAIL"}`,
      });
      say(`changepoints-real: clean ${n} × ${noise}: ${per100.toFixed(2)} alarms / 100, ${ms.toFixed(2)} ms a series`);
    }
  }

  // Detection time per series (detectSeries on one core, the mean of the three noises' cells).
  for (const n of [365, 1000, 2000]) {
    const at = cells.filter((c) => c.n === n);
    const ms = at.map((c) => Number(c.ms_per_series));
    rows.push({
      section: "changepoints-real",
      measure: `detection time per series, ${n.toLocaleString("en")} runs`,
      value: `${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms`,
      ratio: at.map((c, k) => `${String(c.noise)} ${ms[k].toFixed(2)}`).join(", "),
      note: `detectSeries alone, one core; ${at.map((c) => Number(c.series)).reduce((a, b) => a + b, 0)} clean series`,
    });
  }

  // Long series with one planted step of 10–50 % at CV 3 %, as one family per length × noise.
  for (const n of [365, 1000, 2000]) {
    for (const noise of NOISES) {
      const rng = seededRandom(77 * n + NOISES.indexOf(noise));
      const count = options.quick ? 20 : n <= 365 ? 200 : 60;
      const family = Array.from({ length: count }, () => {
        const at = 20 + Math.floor(rng() * (n - 40));
        const size = (10 + rng() * 40) * (rng() < 0.5 ? -1 : 1);
        return { at, values: noiseSeries(rng, noise, n, 3, (i) => (i < at ? 100 : 100 * (1 + size / 100))) };
      });
      const found = detectAcross(family).series.map((d) => d.steps.map((s) => s.index));
      const recall = family.filter((s, i) => found[i].some((x) => Math.abs(x - s.at) <= 1)).length / count;
      const exact = family.filter((s, i) => found[i].includes(s.at)).length / count;
      rows.push({
        section: "changepoints-real",
        measure: `one step 10–50 %, CV 3 %, ${n} runs, ${noise}: recall ±1 / exact`,
        value: `${(100 * recall).toFixed(1)} % / ${(100 * exact).toFixed(1)} %`,
        note: `${count} series`,
      });
    }
  }

  // TCPD, default experiment, with the defaults chosen on the seeded corpus.
  const data = loadTcpd();
  // Every kind but outliers is a change point: steps, where each drift starts and ends, changes of spread.
  const ours = evaluateOnTcpd((values) => changeLocations(detectSeries(values)), { data });
  const before = evaluateOnTcpd((values) => previous.detectChangePoints(values).map((c) => c.index), { data });
  const published = publishedMeans(
    "default",
    data.series.map((s) => s.name),
  );
  rows.push({
    section: "changepoints-real",
    measure: `TCPD default experiment, ${data.series.length} series: F1 / cover`,
    value: `${ours.mean.f1.toFixed(3)} / ${ours.mean.cover.toFixed(3)}`,
    ratio: `previous ${before.mean.f1.toFixed(3)} / ${before.mean.cover.toFixed(3)}`,
    note: `goal F1 ≥ 0.75 and cover ≥ 0.70: ${ours.mean.f1 >= 0.75 && ours.mean.cover >= 0.7 ? "PASS" : "FAIL"}; ${data.excluded.length} left out`,
  });
  // Two constants were seen to move TCPD (docs/change-points.md): the season's smallest autocorrelation and the width
  // under which a drift's end is a change point. Beside the defaults' score, the leave-one-out score over both.
  const grid = tcpdGrid(data);
  const loo = leaveOneOut(grid);
  rows.push({
    section: "changepoints-real",
    measure: `TCPD leave-one-out over the two constants seen to move it (${grid.length} settings): F1 / cover`,
    value: `${loo.mean.f1.toFixed(3)} / ${loo.mean.cover.toFixed(3)}`,
    ratio: `settings chosen: ${[...new Set(loo.chosen)].join("; ")}`,
    note: `seasonMinAcf ${SEASON_MIN_ACFS.join(", ")} × drift ends pinned within ${PINNED_WITHIN.map((w) => (Number.isFinite(w) ? w : "any")).join(", ")} runs; goal F1 ≥ 0.75 and cover ≥ 0.70: ${loo.mean.f1 >= 0.75 && loo.mean.cover >= 0.7 ? "PASS" : "FAIL"}`,
  });
  for (const [method, mean] of Object.entries(published).sort((a, b) => b[1].f1 - a[1].f1))
    rows.push({ section: "changepoints-real", measure: `TCPD published (default): ${method}`, value: `${mean.f1.toFixed(3)} / ${mean.cover.toFixed(3)}` });

  // Time: the council's own path — loadSeries (the ClickHouse read) and detectChanges — over 10,000 series ×
  // 1,000 runs (2,500 benchmark configurations × 4 metrics), median of 3, each round a process of its own.
  const family = await councilScale(options.quick ? 250 : 2_500, 1_000);
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString("en")} MiB`;
  const range = (values: number[]) => `${(Math.min(...values) / 1000).toFixed(1)}–${(Math.max(...values) / 1000).toFixed(1)} s`;
  rows.push({
    section: "changepoints-real",
    measure: `${family.series.toLocaleString("en")} series × 1,000 runs: read + detect (the council's path)`,
    value: `${(family.totalMs / 1000).toFixed(1)} s`,
    ratio: `read ${(family.readMs / 1000).toFixed(1)} s + detect ${(family.detectMs / 1000).toFixed(1)} s (${(family.detectMs / family.series).toFixed(2)} ms a series)`,
    note:
      `median of 3 (read ${range(family.rounds.map((r) => r.readMs))}, detect ${range(family.rounds.map((r) => r.detectMs))}; ` +
      `CPU of the council process: read ${range(family.rounds.map((r) => r.readCpuMs))}, detect ${range(family.rounds.map((r) => r.detectCpuMs))}); ` +
      `goal ≤ 60 s: ${family.totalMs <= 60_000 ? "PASS" : "FAIL"}; detection on ${availableParallelism()} worker thread(s)`,
  });
  rows.push({
    section: "changepoints-real",
    measure: `${family.series.toLocaleString("en")} series × 1,000 runs: peak memory of the council process (RSS)`,
    value: mib(family.peakRssBytes),
    ratio: `after the read ${mib(family.readPeakRssBytes)}; the local ClickHouse ${mib(family.clickhousePeakRssBytes)}`,
    note: `max of 3 rounds, each a process of its own (VmHWM); goal ≤ 1 GiB: ${family.peakRssBytes <= 2 ** 30 ? "PASS" : "FAIL"}`,
  });
  writeCharts(cells, ours.mean, before.mean, published);
  say(`changepoints-real: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  return {
    rows,
    details: {
      options: DEFAULT_DETECTOR_OPTIONS,
      clean: cells,
      worst_alarms_per_100: worstAlarms,
      tcpd: {
        ours: ours.mean,
        previous: before.mean,
        per_series: ours.series.map(({ name, f1, cover, predicted }) => ({ name, f1, cover, predicted })),
        leave_one_out: { ...loo, grid: grid.map(({ setting, mean }) => ({ setting, mean })) },
        published,
      },
      council_scale: family,
    },
  };
}

/** The season's smallest autocorrelation and the pinned width, each around its default (0.3; 12 runs, the kinks' spacing). */
const SEASON_MIN_ACFS = [0.2, 0.25, 0.3, 0.35, 0.4];
const PINNED_WITHIN = [6, 12, 18, 36, 72, Infinity];

/** TCPD scored at every setting of the grid; each series detected once per seasonMinAcf (the width only reads the result). */
function tcpdGrid(data: ReturnType<typeof loadTcpd>): (SettingScores & { mean: TcpdEvaluation["mean"] })[] {
  return SEASON_MIN_ACFS.flatMap((seasonMinAcf) => {
    const detections = new Map<string, SeriesDetection>();
    const detect = (values: number[]) => {
      const key = values.join(",");
      if (!detections.has(key)) detections.set(key, detectSeries(values, { seasonMinAcf }));
      return detections.get(key)!;
    };
    return PINNED_WITHIN.map((within) => {
      const { series, mean } = evaluateOnTcpd((values) => changeLocations(detect(values), within), { data });
      return { setting: `seasonMinAcf ${seasonMinAcf}, pinned within ${Number.isFinite(within) ? within : "any"}`, series, mean };
    });
  });
}

interface CouncilScale {
  series: number;
  readMs: number;
  detectMs: number;
  totalMs: number;
  /** Max over the rounds (bytes): the council process at its peak, and after its read. */
  peakRssBytes: number;
  readPeakRssBytes: number;
  /** The bench's local ClickHouse (its VmHWM once the rounds are done, data generation included). */
  clickhousePeakRssBytes: number;
  rounds: CouncilRound[];
}

/**
 * 2,500 benchmark configurations × `runs` runs generated inside a ClickHouse the bench spawns (INSERT … SELECT
 * from numbers(), 6 hours apart, one commit a run), then read and detected as the council does, three rounds, each in
 * a process of its own (bench/council-round.ts) so that its peak memory is its own. Returns the round of median total.
 */
export async function councilScale(configurations: number, runs: number): Promise<CouncilScale> {
  const data = tempDir("changepoints-ch");
  say(`changepoints-real: ${configurations * runs} benchmark runs into a ClickHouse of its own ...`);
  const clickhouse = await startClickHouseChild({ dataDir: data.dir });
  try {
    const { db, config: clickhouseConfig } = await migratedDatabase(clickhouse.url, "bench_changepoints_scale");
    const start = Date.UTC(2025, 0, 1);
    const runsPerInsert = 200; // 50 days of 4 runs: under the server's 100 partitions per insert
    for (let from = 0; from < runs; from += runsPerInsert) {
      await db.command(
        `INSERT INTO bench_runs (ts, run_id, commit_sha, benchmark_type, variant, model, quant, dataset, device,
                                 latency_mean_ms, latency_p95_ms, tokens_per_sec, memory_peak_mb)
         SELECT fromUnixTimestamp64Milli(toInt64({start:Int64} + (run * 6 * 3600 + config) * 1000)),
                reinterpretAsUUID(sipHash128(run, config)),
                substring(concat(hex(sipHash128(run)), hex(sipHash128(run, 1))), 1, 40),
                'quantization', concat('v', toString(config % 5)), concat('model-', toString(intDiv(config, 50))),
                concat('q', toString(intDiv(config, 5) % 10)), 'wikitext-2', 'cuda',
                80 * (1 + 0.03 * randNormal(0, 1)), 100 * (1 + 0.03 * randNormal(0, 1)),
                50 * (1 + 0.03 * randNormal(0, 1)), 4000 * (1 + 0.01 * randNormal(0, 1))
           FROM (SELECT {from:UInt32} + intDiv(number, {configs:UInt32}) AS run, number % {configs:UInt32} AS config
                   FROM numbers({rows:UInt64}))`,
        { start, from, configs: configurations, rows: configurations * Math.min(runsPerInsert, runs - from) },
      );
    }
    // Merged, as a production table is between nightly inserts (background merges would otherwise time themselves).
    await db.command("OPTIMIZE TABLE bench_runs FINAL");
    await db.close();
    const window = { from: new Date(start), to: new Date(start + runs * 6 * 3_600_000 + 86_400_000) };
    const rounds: CouncilRound[] = [];
    for (let round = 0; round < 3; round++) {
      const r = await councilRound({ clickhouse: clickhouseConfig, from: window.from.toISOString(), to: window.to.toISOString(), lookbackDays: 400 });
      rounds.push(r);
      say(
        `changepoints-real: round ${round + 1}: read ${(r.readMs / 1000).toFixed(1)} s (${(r.readCpuMs / 1000).toFixed(1)} s CPU here), ` +
          `detect ${(r.detectMs / 1000).toFixed(1)} s (${(r.detectCpuMs / 1000).toFixed(1)} s CPU), ` +
          `peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB (${(r.readPeakRssBytes / 2 ** 20).toFixed(0)} after the read)`,
      );
    }
    const mid = [...rounds].sort((a, b) => a.readMs + a.detectMs - (b.readMs + b.detectMs))[1];
    return {
      series: mid.series,
      readMs: mid.readMs,
      detectMs: mid.detectMs,
      totalMs: mid.readMs + mid.detectMs,
      peakRssBytes: Math.max(...rounds.map((r) => r.peakRssBytes)),
      readPeakRssBytes: Math.max(...rounds.map((r) => r.readPeakRssBytes)),
      clickhousePeakRssBytes: clickhouse.peakRssBytes() ?? Number.NaN,
      rounds,
    };
  } finally {
    await clickhouse.stop();
    data.remove();
  }
}

/** bench/council-round.ts in a child process (what the bench itself runs under: node with tsx). */
async function councilRound(input: { clickhouse: ClickHouseConfig; from: string; to: string; lookbackDays: number }): Promise<CouncilRound> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "bench", "council-round.ts")], {
    cwd: projectRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let [stdout, stderr] = ["", ""];
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4_000)));
  child.stdin.end(JSON.stringify(input));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`bench/council-round.ts exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as CouncilRound;
}

/** docs/img: false alarms per 100 clean series in every cell, and TCPD against the published methods. */
function writeCharts(
  cells: Record<string, unknown>[],
  ours: { f1: number; cover: number },
  before: { f1: number; cover: number },
  published: Record<string, { f1: number; cover: number }>,
): void {
  const dir = path.join(projectRoot, "docs", "img");
  mkdirSync(dir, { recursive: true });
  const rate = (n: number, noise: Noise) => Number(cells.find((c) => c.n === n && c.noise === noise)?.alarms_per_100 ?? 0);
  writeFileSync(
    path.join(dir, "changepoints-false-alarms.svg"),
    groupedBarSvg({
      title: "False alarms per 100 clean series (goal ≤ 1)",
      series: [
        { label: "independent", color: "#2f6fb0" },
        { label: "AR(1) φ = 0.5", color: "#c0504d" },
        { label: "Student-t, 3 df", color: "#8fb8e0" },
      ],
      groups: LENGTHS.map((n) => ({ label: `${n} runs`, values: NOISES.map((noise) => rate(n, noise)) })),
      xLabel: "series length",
      yLabel: "alarms per 100 series",
      yMax: Math.max(3, Math.ceil(Math.max(...cells.map((c) => Number(c.alarms_per_100))))),
    }),
  );
  const methods = ["binseg", "pelt", "amoc", "bocpd", "zero", "ecp"].filter((m) => published[m]);
  writeFileSync(
    path.join(dir, "changepoints-tcpd.svg"),
    groupedBarSvg({
      title: "TCPD, default experiment: Muse beside the published methods",
      series: [
        { label: "F1", color: "#2f6fb0" },
        { label: "segmentation cover", color: "#8fb8e0" },
      ],
      groups: [
        { label: "Muse", values: [ours.f1 * 100, ours.cover * 100] },
        { label: "Muse before", values: [before.f1 * 100, before.cover * 100] },
        ...methods.map((m) => ({ label: m, values: [published[m].f1 * 100, published[m].cover * 100] })),
      ],
      xLabel: "method",
      yLabel: "score × 100",
      yMax: 100,
    }),
  );
}
