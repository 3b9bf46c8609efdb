import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectChanges, measuredSeries, timeOnlyAttribution } from "../lib/analysis/changes";
import { SERIES_METRICS, SERIES_SCALE, SeriesDictionary, loadSeries, type Series, type SeriesPoint } from "../lib/analysis/series";
import { changeConfig } from "../lib/agents/council";
import { parseEnv } from "../lib/env";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * loadSeries' binary read (lib/analysis/series.ts: runs as columns, metrics as Float64 in base64, commits by key)
 * against the read it replaced — one JSON tuple per run — kept here as the reference: the same series, the same
 * points in the same order, field for field.
 */

const NS = "6d0f3c1e-5a2b-4c7d-8e9f-0a1b2c3d4e5f";
const id = (name: string) => uuidv5(name, NS);
const sha = (name: string) => id(name).replace(/-/g, "").padEnd(40, "0").slice(0, 40);
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const at = (hours: number, ms = 0) => new Date(T0 + hours * 3_600_000 + ms).toISOString();
const WINDOW = { from: new Date(T0 - 86_400_000), to: new Date(T0 + 40 * 86_400_000) };

const CONFIG_A = { benchmark_type: "quantization", model: "llama-3.1-8b", quant: "q4_k_m", variant: "q4_k_m", dataset: "wikitext-2", device: "cuda" };
const CONFIG_B = { benchmark_type: "quantization", model: "llama-3.1-8b", quant: "int8", variant: "int8", dataset: "wikitext-2", device: "cuda" };
const CONFIG_C = { benchmark_type: "inference", model: "mistral-7b", quant: "fp16", variant: "vllm", dataset: "unknown", device: "cpu" };

type Figures = Partial<Record<(typeof SERIES_METRICS)[number], number | null>>;
function run(config: typeof CONFIG_A, name: string, commit: string, ts: string, figures: Figures, extra: { request_id?: string; pull_request?: number } = {}) {
  return {
    ts,
    run_id: id(name),
    commit_sha: commit,
    ...config,
    latency_mean_ms: null,
    latency_p50_ms: null,
    latency_p95_ms: null,
    latency_p99_ms: null,
    tokens_per_sec: null,
    cost_per_1k: null,
    memory_peak_mb: null,
    accuracy: null,
    loss: null,
    ...figures,
    extra: "{}",
    source_path: "",
    request_id: extra.request_id ?? "",
    pull_request: extra.pull_request ?? 0,
  };
}

/** The read before: one row per configuration, every run a JSON tuple. */
const TUPLE_SQL = `
  SELECT benchmark_type, model, quant, variant, dataset, device,
         arraySort(r -> (r.1, r.2, r.3),
                   groupArray((commit_ts, run_ts, run_id, commit_sha, latency_p95_ms, latency_mean_ms, tokens_per_sec, memory_peak_mb, request_id,
                              latency_p99_ms, accuracy, loss))) AS runs
    FROM (SELECT b.benchmark_type AS benchmark_type, b.model AS model, b.quant AS quant, b.variant AS variant,
                 b.dataset AS dataset, b.device AS device, toString(b.run_id) AS run_id, b.ts AS run_ts,
                 toString(b.commit_sha) AS commit_sha, if(c.sha = '', b.ts, c.ts) AS commit_ts,
                 b.latency_p95_ms AS latency_p95_ms, b.latency_mean_ms AS latency_mean_ms,
                 b.tokens_per_sec AS tokens_per_sec, b.memory_peak_mb AS memory_peak_mb, b.request_id AS request_id,
                 b.latency_p99_ms AS latency_p99_ms, b.accuracy AS accuracy, b.loss AS loss
            FROM (SELECT * FROM bench_runs FINAL
                   WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND pull_request = 0) AS b
            LEFT JOIN (SELECT toString(sha) AS sha, ts FROM upstream_commits FINAL WHERE repo = 'banterhearts') AS c
              ON toString(b.commit_sha) = c.sha)
   GROUP BY benchmark_type, model, quant, variant, dataset, device
   ORDER BY benchmark_type, model, quant, variant, dataset, device`;
const TUPLE_INDEX = { latency_p95_ms: 4, latency_mean_ms: 5, tokens_per_sec: 6, memory_peak_mb: 7, latency_p99_ms: 9, accuracy: 10, loss: 11 } as const;
const tupleRow = z.object({ runs: z.array(z.array(z.union([z.string(), z.number(), z.null()]))) }).catchall(z.unknown());

async function tupleRead(t: TestDatabase): Promise<Series[]> {
  const rows = await t.db.query(TUPLE_SQL, WINDOW, tupleRow);
  const series: Series[] = [];
  for (const { runs, ...configuration } of rows) {
    for (const metric of SERIES_METRICS) {
      const points: SeriesPoint[] = [];
      for (const r of runs) {
        const raw = r[TUPLE_INDEX[metric]];
        if (typeof raw !== "number" || !Number.isFinite(raw)) continue;
        const [commit_ts, run_ts, run_id, commit_sha, request_id] = [r[0], r[1], r[2], r[3], r[8]].map(String);
        points.push({ commit_ts, run_ts, run_id, commit_sha, value: raw * (SERIES_SCALE[metric] ?? 1), request_id });
      }
      if (points.length) series.push({ key: { ...(configuration as unknown as Series["key"]), metric }, points });
    }
  }
  return series;
}

/** Points as plain objects (the read's points are views: JSON.stringify writes their fields). */
const plain = (series: Series[]) => JSON.parse(JSON.stringify(series)) as Series[];

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  const [c1, c2, c3, c4] = [sha("c1"), sha("c2"), sha("c3"), sha("c4")];
  // c2 was committed before c1 although its runs came later; c3 and c4 are not known (their runs' own times stand in).
  await t.db.insert("upstream_commits", [
    { repo: "banterhearts", sha: c1, ts: at(10), author: "a", message: "one", files: [], files_changed: 0, additions: 0, deletions: 0 },
    { repo: "banterhearts", sha: c2, ts: at(5, 250), author: "a", message: "two", files: [], files_changed: 0, additions: 0, deletions: 0 },
    { repo: "banterpacks", sha: c3, ts: at(1), author: "a", message: "another repository's", files: [], files_changed: 0, additions: 0, deletions: 0 },
  ]);
  await t.db.insert("bench_runs", [
    // A: p95 everywhere, mean missing twice, accuracy on two runs; three runs of c1 (two at one time: run id decides).
    run(CONFIG_A, "a1", c1, at(20), { latency_p95_ms: 100, latency_mean_ms: 80, accuracy: 0.712 }),
    run(CONFIG_A, "a2", c1, at(22), { latency_p95_ms: 101, latency_mean_ms: null, accuracy: 0.7 }),
    run(CONFIG_A, "a3", c1, at(22), { latency_p95_ms: 102, latency_mean_ms: 81 }),
    run(CONFIG_A, "a4", c2, at(30, 7), { latency_p95_ms: 0, latency_mean_ms: null, loss: 1.5 }),
    run(CONFIG_A, "a5", c3, at(2), { latency_p95_ms: 99.125, latency_mean_ms: 79, tokens_per_sec: Number.NaN }),
    run(CONFIG_A, "a6", c4, at(40), { latency_p95_ms: 3.5e-310, latency_mean_ms: 78 }, { request_id: "req-7" }),
    // Not main's, outside the window: never read.
    run(CONFIG_A, "a7", c4, at(41), { latency_p95_ms: 500 }, { pull_request: 3 }),
    run(CONFIG_A, "a8", c4, at(24 * 50), { latency_p95_ms: 500 }),
    // B: every run at one commit; C: a short commit id (a FixedString's padding) and only memory.
    ...[3, 1, 2].map((k) => run(CONFIG_B, `b${k}`, c2, at(40 + k), { tokens_per_sec: 50 + k, memory_peak_mb: 4000 + k })),
    run(CONFIG_C, "c1", "abc123", at(3), { memory_peak_mb: 1200 }),
    run(CONFIG_C, "c2", "abc123", at(4), { memory_peak_mb: 1201, latency_p99_ms: 9 }),
  ]);
});
afterAll(async () => {
  await t.drop();
});

describe("loadSeries", () => {
  it("reads exactly what one JSON tuple per run read", async () => {
    const series = await loadSeries(t.db, WINDOW);
    expect(series.map((s) => `${s.key.quant} ${s.key.metric} ${s.points.length}`)).toEqual([
      "fp16 memory_peak_mb 2",
      "fp16 latency_p99_ms 1",
      "int8 tokens_per_sec 3",
      "int8 memory_peak_mb 3",
      "q4_k_m latency_p95_ms 6",
      "q4_k_m latency_mean_ms 4",
      "q4_k_m accuracy 2",
      "q4_k_m loss 1",
    ]);
    expect(plain(series)).toEqual(await tupleRead(t));
  });

  it("leaves a metric's NULL runs out of its series, keeps the order of commit time, run time, run id", async () => {
    const series = plain(await loadSeries(t.db, WINDOW));
    const of = (config: typeof CONFIG_A, metric: string) =>
      series.find((s) => s.key.quant === config.quant && s.key.model === config.model && s.key.metric === metric);
    const p95 = of(CONFIG_A, "latency_p95_ms")!;
    const runIds = (names: string[]) => names.map(id);
    // a5's unknown commit stands at its own time (02:00); c2 (05:00.250) before c1 (10:00); a2 and a3 share a time.
    const c1Tie = [id("a2"), id("a3")].sort();
    expect(p95.points.map((p) => p.run_id)).toEqual([...runIds(["a5", "a4", "a1"]), ...c1Tie, id("a6")]);
    expect(p95.points.map((p) => p.commit_ts)).toEqual([at(2), at(5, 250), at(10), at(10), at(10), at(40)]);
    expect(p95.points.map((p) => p.value)).toEqual([99.125, 0, 100, ...c1Tie.map((r) => (r === id("a2") ? 101 : 102)), 3.5e-310]);
    expect(p95.points.at(-1)).toMatchObject({ request_id: "req-7", commit_sha: sha("c4"), run_ts: at(40) });
    expect(of(CONFIG_A, "latency_mean_ms")!.points.map((p) => p.value)).toEqual([79, 80, 81, 78]);
    expect(of(CONFIG_A, "accuracy")!.points.map((p) => p.value)).toEqual([0.712 * 100, 0.7 * 100]);
    expect(of(CONFIG_A, "loss")!.points).toHaveLength(1);
    expect(of(CONFIG_A, "tokens_per_sec")).toBeUndefined(); // its one value is NaN
    expect(of(CONFIG_A, "latency_p99_ms")).toBeUndefined();
    // Every run at one commit: ordered by run time.
    const tps = of(CONFIG_B, "tokens_per_sec")!;
    expect(tps.points.map((p) => p.value)).toEqual([51, 52, 53]);
    expect(new Set(tps.points.map((p) => p.commit_sha))).toEqual(new Set([sha("c2")]));
    expect(of(CONFIG_C, "memory_peak_mb")!.points.map((p) => [p.commit_sha, p.value])).toEqual([
      ["abc123", 1200],
      ["abc123", 1201],
    ]);
    expect(of(CONFIG_C, "latency_p99_ms")!.points.map((p) => p.run_ts)).toEqual([at(4)]);
  });

  it("gives points whose fields read like a plain object's, and the detector the same answer", async () => {
    const series = await loadSeries(t.db, WINDOW);
    const p = series[0].points[0];
    expect({ run_id: p.run_id, run_ts: p.run_ts, commit_sha: p.commit_sha, commit_ts: p.commit_ts, value: p.value, request_id: p.request_id }).toEqual(
      plain(series)[0].points[0],
    );
    // A series as any other: spread, serialized, its points assigned; never edited in place.
    expect(plain([{ ...series[0] }])).toEqual(plain(series).slice(0, 1));
    expect(() => (series[0].points as SeriesPoint[]).push(series[0].points[0])).toThrow(TypeError);
    const copy = { ...series[4] };
    copy.points = copy.points.slice(1);
    const assigned = (await loadSeries(t.db, WINDOW))[4];
    assigned.points = assigned.points.slice(1);
    expect(plain([assigned])).toEqual(plain([copy]));
    // The measured series are the read's own (nothing to re-attribute here), but the two a bisection answer leaves.
    const measured = measuredSeries(series, timeOnlyAttribution([]));
    expect(measured.filter((m, k) => m === series[k]).length).toBe(series.length - 2);
    expect(plain(measured)).toEqual(plain(measuredSeries(plain(series), timeOnlyAttribution([]))));
    expect(measured.flatMap((s) => s.points).some((q) => q.request_id)).toBe(false);
    const config = changeConfig(parseEnv({}));
    expect(detectChanges(series, timeOnlyAttribution([]), config)).toEqual(detectChanges(plain(series), timeOnlyAttribution([]), config));
  });

  it("reads nothing from an empty window", async () => {
    expect(await loadSeries(t.db, { from: new Date(T0 - 10 * 86_400_000), to: new Date(T0 - 9 * 86_400_000) })).toEqual([]);
  });
});

describe("SeriesDictionary", () => {
  it("names commits met before their key was known, and refuses two commits under one key", () => {
    const d = new SeriesDictionary();
    d.add([{ sha: "a", key: 1 }]);
    const early = d.commit(2);
    expect(d.pending.has(early)).toBe(true);
    d.add([
      { sha: "a", key: 1 },
      { sha: "b", key: 2 },
    ]);
    expect([d.shas[d.commit(1)], d.shas[early], d.pending.size]).toEqual(["a", "b", 0]);
    expect(() => d.add([{ sha: "c", key: 1 }])).toThrow(/share a key/);
    expect(d.times[d.time(Date.parse("2026-03-01T00:00:00.5Z"))]).toBe("2026-03-01T00:00:00.500Z");
  });
});
