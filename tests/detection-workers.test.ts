import { describe, expect, it } from "vitest";
import { DEFAULT_DETECTOR_OPTIONS, detectSeries } from "../lib/analysis/changepoints";
import { detectChanges, detectChangesInWorkers, timeOnlyAttribution, type ChangeConfig } from "../lib/analysis/changes";
import { detectSeriesInWorkers, type DetectionJob } from "../lib/analysis/detection-workers";
import type { Series } from "../lib/analysis/series";
import { gaussian, seededRandom } from "../lib/seed/random";

/**
 * The council's first detection pass spread over worker threads (lib/analysis/detection-workers.ts): real workers,
 * loaded as the CLI loads them, must give exactly what the calling thread gives, and a worker that cannot start must
 * cost time, never a result.
 */

const RUNS = 120;
/** 240 series: a third with a 12 % step at run 70, some with repeats at one commit; seeded. */
function family(): DetectionJob[] {
  const rng = seededRandom(2026);
  return Array.from({ length: 240 }, (_, s) => {
    const values = Array.from({ length: RUNS }, (_, i) => 100 * (1 + 0.02 * gaussian(rng)) * (s % 3 === 0 && i >= 70 ? 1.12 : 1));
    const groups = s % 5 === 0 ? values.map((_, i) => Math.floor(i / 2)) : undefined;
    return { values, ...(groups ? { groups } : {}), options: { ...DEFAULT_DETECTOR_OPTIONS, minChangePct: s % 4 === 0 ? 0 : 2 } };
  });
}
const inline = (jobs: DetectionJob[]) => jobs.map((j) => detectSeries(j.values, j.options, j.groups ? { groups: j.groups } : {}));

describe("detectSeriesInWorkers", () => {
  it("gives every series the detection the calling thread gives, in order, over two workers", async () => {
    const jobs = family();
    const progress: number[] = [];
    const ranOn = new Set<string>();
    const onProgress = (done: number, _total: number, where: string) => (progress.push(done), ranOn.add(where));
    const inWorkers = await detectSeriesInWorkers(jobs, { workers: 2, minPoints: 0, onProgress });
    expect([...ranOn]).toEqual(["worker"]);
    expect(inWorkers).toEqual(inline(jobs));
    // The planted steps are there (the comparison is not of two empty lists).
    expect(inWorkers.filter((d) => d.steps.some((c) => c.index === 70)).length).toBeGreaterThanOrEqual(70);
    expect(progress.at(-1)).toBe(jobs.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  }, 60_000);

  it("runs a batch on the calling thread when its worker cannot start, with the same result", async () => {
    const jobs = family().slice(0, 150);
    const missing = new URL("file:///nonexistent/muse-detection-worker.ts");
    const ranOn = new Set<string>();
    const detections = await detectSeriesInWorkers(jobs, { workers: 2, minPoints: 0, workerModule: missing, onProgress: (_d, _t, where) => ranOn.add(where) });
    expect(detections).toEqual(inline(jobs));
    expect([...ranOn]).toEqual(["calling thread"]);
  }, 60_000);

  it("keeps small families on the calling thread (no worker is started for them)", async () => {
    const jobs = family().slice(0, 20);
    const ranOn = new Set<string>();
    expect(await detectSeriesInWorkers(jobs, { workers: 2, onProgress: (_d, _t, where) => ranOn.add(where) })).toEqual(inline(jobs));
    expect([...ranOn]).toEqual(["calling thread"]);
  });
});

describe("detectChangesInWorkers", () => {
  it("attributes the same changes as detectChanges", async () => {
    const commits = Array.from({ length: RUNS }, (_, i) => ({
      sha: `${i.toString(16).padStart(4, "0")}`.padEnd(40, "a"),
      ts: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString(),
    }));
    const series: Series[] = family().map((job, s) => ({
      key: { benchmark_type: "quantization", model: `m${s}`, quant: "int8", variant: "int8", dataset: "wikitext-2", device: "cuda", metric: "latency_p95_ms" },
      points: Array.from(job.values, (value, i) => ({
        run_id: `r${s}-${i}`,
        run_ts: commits[i].ts,
        commit_sha: commits[i].sha,
        commit_ts: commits[i].ts,
        value,
        request_id: "",
      })),
    }));
    const config: ChangeConfig = { ...DEFAULT_DETECTOR_OPTIONS, lookbackDays: 365 };
    const attribution = timeOnlyAttribution(commits);
    const parallel = await detectChangesInWorkers(series, attribution, config, { workers: 2, minPoints: 0 });
    expect(parallel).toEqual(detectChanges(series, attribution, config));
    expect(parallel.changes.filter((c) => c.commit_sha === commits[70].sha).length).toBeGreaterThanOrEqual(70);
  }, 60_000);
});
