import { DEFAULT_DETECTOR_OPTIONS, detectAcross, detectSeries } from "../lib/analysis/changepoints";
import { gaussian, seededRandom } from "../lib/seed/random";
import * as previous from "./baselines/edivisive";
import { say, type Row, type SectionResult } from "./lib";
import { loadTcpd, publishedMeans } from "./tcpd/dataset";
import { evaluateOnTcpd } from "./tcpd/evaluate";

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

const seriesPerCell = (n: number, quick: boolean) => (quick ? (n <= 365 ? 200 : 60) : n <= 365 ? 1000 : 300);

export async function changepointsRealSection(options: { quick: boolean }): Promise<SectionResult> {
  const rows: Row[] = [];
  const cells: Record<string, unknown>[] = [];
  const started = performance.now();
  let worstAlarms = 0;
  for (const n of LENGTHS) {
    for (const noise of NOISES) {
      const rng = seededRandom(1000 * n + NOISES.indexOf(noise));
      const count = seriesPerCell(n, options.quick);
      let [alarms, p01, p001, previousAlarms] = [0, 0, 0, 0];
      const t0 = performance.now();
      for (let k = 0; k < count; k++) {
        const values = noiseSeries(rng, noise, n, 3, () => 100);
        const d = detectSeries(values);
        if (d.steps.length + d.drifts.length + d.spreads.length > 0) alarms++;
        if (d.p_value <= 0.01) p01++;
        if (d.p_value <= 0.001) p001++;
        if (n <= 365 && previous.detectChangePoints(values).length > 0) previousAlarms++;
      }
      const ms = (performance.now() - t0) / count;
      const per100 = (100 * alarms) / count;
      worstAlarms = Math.max(worstAlarms, per100);
      cells.push({
        n,
        noise,
        series: count,
        alarms_per_100: per100,
        previous_alarms_per_100: n <= 365 ? (100 * previousAlarms) / count : null,
        p_le_001: p01 / count,
        p_le_0001: p001 / count,
        ms_per_series: ms,
      });
      rows.push({
        section: "changepoints-real",
        measure: `clean, ${n} runs, ${noise}: false alarms / 100 series`,
        value: `${per100.toFixed(2)}${n <= 365 ? ` (previous ${((100 * previousAlarms) / count).toFixed(1)})` : ""}`,
        ratio: `p ≤ 0.01: ${((100 * p01) / count).toFixed(2)} %, p ≤ 0.001: ${((100 * p001) / count).toFixed(2)} %`,
        note: `${count} series; goal ≤ 1: ${per100 <= 1 ? "PASS" : "FAIL"}`,
      });
      say(`changepoints-real: clean ${n} × ${noise}: ${per100.toFixed(2)} alarms / 100, ${ms.toFixed(2)} ms a series`);
    }
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
  const ours = evaluateOnTcpd(
    (values) => {
      const d = detectSeries(values);
      return [...d.steps.map((s) => s.index), ...d.drifts.map((x) => x.index), ...d.spreads.map((x) => x.index)].sort((a, b) => a - b);
    },
    { data },
  );
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
  for (const [method, mean] of Object.entries(published).sort((a, b) => b[1].f1 - a[1].f1))
    rows.push({ section: "changepoints-real", measure: `TCPD published (default): ${method}`, value: `${mean.f1.toFixed(3)} / ${mean.cover.toFixed(3)}` });

  // Time: 10,000 series × 1,000 runs (detection only; see the note) and per series at three lengths.
  const rng = seededRandom(4242);
  const timeFamily = Array.from({ length: options.quick ? 500 : 10_000 }, () => ({
    values: Float64Array.from(noiseSeries(rng, "independent", 1000, 3, () => 100)),
  }));
  const t0 = performance.now();
  detectAcross(timeFamily);
  const familyMs = performance.now() - t0;
  rows.push({
    section: "changepoints-real",
    measure: `${timeFamily.length.toLocaleString("en")} series × 1,000 runs, detection`,
    value: `${(familyMs / 1000).toFixed(1)} s`,
    ratio: `${(familyMs / timeFamily.length).toFixed(2)} ms a series`,
    note: "one core; ClickHouse reads not included",
  });
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
        published,
      },
      family_10k_ms: familyMs,
    },
  };
}
