import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { changeConfig } from "../lib/agents/council";
import { detectChanges, timeOnlyAttribution } from "../lib/analysis/changes";
import { METRIC_FLOORS, type Series, type SeriesKey } from "../lib/analysis/series";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../lib/clickhouse/migrations";
import { qualitySentence } from "../lib/council/offline-writer";
import { formatFact } from "../lib/episode/fact";
import { parseEnv } from "../lib/env";
import { groupIntoEvents, linkLifecycle, toRow } from "../lib/lifecycle/events";
import { gaussian, seededRandom } from "../lib/seed/random";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * Quality as data (docs/quality.md): accuracy and loss as columns backfilled from `extra`, accuracy series with an
 * absolute floor, accuracy gates judged on segment means, trade-offs as one event, accuracy in the lifecycle.
 */

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const t of databases) await t.drop();
});

describe("migration 017", () => {
  it("backfills accuracy and loss of rows written before it from `extra`, and changes nothing else", async () => {
    const t = await createTestDatabase({ migrate: false });
    databases.push(t);
    // The database as it was before 017: every earlier migration applied.
    const dir = await mkdtemp(path.join(os.tmpdir(), "muse-sql-"));
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    for (const file of await readdir(dir)) if (Number(file.slice(0, 3)) >= 17) await rm(path.join(dir, file));
    await migrate(t.config, { dir });
    await rm(dir, { recursive: true, force: true });
    const sha = "a".repeat(40);
    await t.db.command(`INSERT INTO bench_runs (ts, run_id, commit_sha, benchmark_type, variant, model, quant, dataset, device,
        latency_mean_ms, latency_p95_ms, tokens_per_sec, extra, source_path) VALUES
      ('2026-03-01 02:00:00.000', '11111111-1111-4111-8111-111111111111', '${sha}', 'quantization', 'baseline', 'm', 'fp16', 'w', 'cuda', 16, 18, 60, '{"accuracy":0.7123,"loss":2.01,"model_size_bytes":1}', 'a.json'),
      ('2026-03-01 02:00:00.000', '11111111-1111-4111-8111-111111111111', '${sha}', 'quantization', 'int4', 'm', 'int4', 'w', 'cuda', 9, 10, 110, '{"accuracy":0.7081,"loss":2.06,"perplexity":7.5}', 'a.json'),
      ('2026-03-01 02:00:00.000', '22222222-2222-4222-8222-222222222222', '${sha}', 'compilation', 'eager', 'm', 'fp16', 'w', 'cuda', 50, 55, 10, '{"compile_success":true}', 'b.json'),
      ('2026-03-01 02:00:00.000', '33333333-3333-4333-8333-333333333333', '${sha}', 'quantization', 'fp8', 'm', 'fp8', 'w', 'cuda', NULL, NULL, NULL, '{"failed":true,"error":"OOM","accuracy":null}', 'c.json')`);
    const columns =
      "toString(run_id) AS run_id, variant, ts, commit_sha, benchmark_type, model, quant, dataset, device, latency_mean_ms, latency_p95_ms, tokens_per_sec, extra, source_path, request_id";
    const before = await t.db.query<Record<string, unknown>>(`SELECT ${columns} FROM bench_runs FINAL ORDER BY run_id, variant`);

    const result = await migrate(t.config);
    expect(result.applied).toEqual((await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => Number(f.slice(0, 3)) >= 17).sort());
    const after = await t.db.query<Record<string, unknown>>(`SELECT ${columns} FROM bench_runs FINAL ORDER BY run_id, variant`);
    expect(after).toEqual(before);
    const quality = await t.db.query<{ variant: string; accuracy: number | null; loss: number | null; perplexity: number | null }>(
      "SELECT variant, accuracy, loss, perplexity FROM bench_runs FINAL ORDER BY run_id, variant",
    );
    expect(quality).toEqual([
      { variant: "baseline", accuracy: 0.7123, loss: 2.01, perplexity: null },
      { variant: "int4", accuracy: 0.7081, loss: 2.06, perplexity: 7.5 },
      { variant: "eager", accuracy: null, loss: null, perplexity: null },
      { variant: "fp8", accuracy: null, loss: null, perplexity: null },
    ]);
    // Idempotent: applying the backfill again (a replica, a retry) changes nothing.
    await t.db.command(
      "ALTER TABLE bench_runs UPDATE accuracy = JSONExtract(extra, 'accuracy', 'Nullable(Float64)') WHERE accuracy IS NULL AND JSONHas(extra, 'accuracy') SETTINGS mutations_sync = 2",
    );
    expect(await t.db.query("SELECT variant, accuracy, loss, perplexity FROM bench_runs FINAL ORDER BY run_id, variant")).toEqual(quality);
  });
});

// ---------------------------------------------------------------- a synthetic quantization benchmark

const RUNS = 30;
const commits = Array.from({ length: RUNS }, (_, i) => ({ sha: i.toString(16).padStart(40, "c"), ts: new Date(Date.UTC(2026, 2, 1 + i, 2)).toISOString() }));
const runId = (i: number) => `00000000-0000-4000-8000-${i.toString().padStart(12, "0")}`;
const key = (variant: string, metric: SeriesKey["metric"]): SeriesKey => ({
  benchmark_type: "quantization",
  model: "llama-3.1-8b",
  quant: variant === "baseline" ? "fp16" : variant,
  variant,
  dataset: "wikitext-2",
  device: "cuda",
  metric,
});
/** A series of RUNS nightly runs, one per commit; `level(i)` is the value at run i, with Gaussian noise of `sd`. */
function series(variant: string, metric: SeriesKey["metric"], level: (i: number) => number, sd: number, seed: number): Series {
  const rng = seededRandom(seed);
  return {
    key: key(variant, metric),
    points: commits.map((c, i) => ({
      run_id: runId(i),
      run_ts: c.ts,
      commit_sha: c.sha,
      commit_ts: c.ts,
      value: level(i) + gaussian(rng, 0, sd),
      request_id: "",
    })),
  };
}
const config = { ...changeConfig(parseEnv({})), lookbackDays: 60 };
const attribution = timeOnlyAttribution(commits);
const context = { now: new Date("2026-04-01T00:00:00Z"), runId: "council-run" };
const at = (k: number) => (i: number) => i >= k;

describe("accuracy gates", () => {
  it("a commit that takes a method below its gate is a regression event, with nothing else moving", () => {
    // int8 at 99.3 % of its baseline, then 1 point lower (98.0 %): a 1.4 % relative drop, under the 2 % minChangePct.
    const input = [
      series("baseline", "accuracy", () => 71.5, 0.1, 1),
      series("int8", "accuracy", (i) => (at(15)(i) ? 70.0 : 71.0), 0.1, 2),
      series("baseline", "latency_p95_ms", () => 18, 0.3, 3),
      series("int8", "latency_p95_ms", () => 12, 0.2, 4),
    ];
    const detection = detectChanges(input, attribution, config);
    expect(detection.changes.map((c) => [c.key.variant, c.key.metric, c.kind])).toEqual([["int8", "accuracy", "regression"]]);
    const [change] = detection.changes;
    expect(change.commit_sha).toBe(commits[15].sha);
    expect(change.gate).toMatchObject({ method: "int8", baseline_quant: "fp16", fraction: 0.99, breached: true });
    expect(change.gate!.ratio_before).toBeCloseTo(71 / 71.5, 2);
    expect(change.gate!.ratio_after).toBeCloseTo(70 / 71.5, 2);

    // Its p95 was asked at the commit (lib/analysis/speed-side.ts) and did not move: no trade-off is told.
    expect(change.speed_side).toMatchObject({ metric: "latency_p95_ms", tested: 1 });
    expect(change.speed_side!.ci_pct[0]).toBeLessThan(0);
    expect(change.speed_side!.ci_pct[1]).toBeGreaterThan(0);
    const [event] = groupIntoEvents(detection.changes, [], context);
    expect(event).toMatchObject({ kind: "regression", state: "open", metric: "accuracy", gate_method: "int8", gate_breached: true, tradeoff: false });
    // Stored as is: the row schema keeps the gate.
    expect(toRow(event)).toMatchObject({ gate_fraction: 0.99, gate_breached: true, gate_baseline: "fp16" });
    const sentence = qualitySentence({ ...storyLike(event), n: 1 }, () => true);
    expect(sentence).toMatch(/below its accuracy gate: from \{\{fact:event\.1\.gate\.ratio_before\}\} to \{\{fact:event\.1\.gate\.ratio_after\}\}/);
    // No figure outside fact references (identifiers in code spans are not figures).
    expect(sentence.replace(/\{\{fact:[a-z0-9_.]+\}\}/g, "").replace(/`[^`]*`/g, "")).not.toMatch(/\d/);
  });

  it("a per-method gate (MUSE_ACCURACY_GATES) decides: int8 held to 97 % is not breached by the same drop", () => {
    const env = parseEnv({ MUSE_ACCURACY_GATES: "int8=0.97" });
    const input = [series("baseline", "accuracy", () => 71.5, 0.1, 1), series("int8", "accuracy", (i) => (at(15)(i) ? 70.0 : 71.0), 0.1, 2)];
    const [change] = detectChanges(input, attribution, { ...changeConfig(env), lookbackDays: 60 }).changes;
    expect(change.gate).toMatchObject({ fraction: 0.97, breached: false });
  });

  it("the accuracy floor is absolute: a 0.2-point step is not reported, however regular", () => {
    expect(METRIC_FLOORS.accuracy).toBe(0.3);
    const input = [series("baseline", "accuracy", () => 71.5, 0.02, 1), series("int8", "accuracy", (i) => (at(15)(i) ? 70.8 : 71.0), 0.02, 2)];
    expect(detectChanges(input, attribution, config).changes).toEqual([]);
  });
});

describe("trade-offs", () => {
  it("a commit that makes int4 faster and less accurate is one trade-off event, led by its accuracy", () => {
    const input = [
      series("baseline", "accuracy", () => 71.5, 0.1, 1),
      series("int4", "accuracy", (i) => (at(15)(i) ? 69.5 : 71.0), 0.1, 2),
      series("baseline", "latency_p95_ms", () => 18, 0.3, 3),
      series("int4", "latency_p95_ms", (i) => (at(15)(i) ? 8 : 10), 0.15, 4),
    ];
    const detection = detectChanges(input, attribution, config);
    expect(detection.changes.map((c) => [c.key.metric, c.kind]).sort()).toEqual([
      ["accuracy", "regression"],
      ["latency_p95_ms", "improvement"],
    ]);
    const events = groupIntoEvents(detection.changes, [], context);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      kind: "regression",
      metric: "accuracy",
      series_changed: 2,
      tradeoff: true,
      tradeoff_latency_metric: "latency_p95_ms",
      gate_breached: true,
    });
    expect(event.tradeoff_latency_pct!).toBeCloseTo(-20, 0);
    expect(event.tradeoff_accuracy_points!).toBeCloseTo(-1.5, 0);
    expect(event.gate_ratio_after!).toBeLessThan(0.99);
    // Told in one sentence, every number a fact reference.
    const sentence = qualitySentence({ ...storyLike(event), n: 3 }, () => true);
    expect(sentence).toBe(
      "A trade-off: `int4` got faster and less accurate at once — p95 latency {{fact:event.3.tradeoff.faster_pct}} (interval {{fact:event.3.tradeoff.faster_ci_low_pct}} to {{fact:event.3.tradeoff.faster_ci_high_pct}}), accuracy {{fact:event.3.tradeoff.accuracy_points}}, now {{fact:event.3.gate.ratio_after}} of the `fp16` baseline's accuracy — below the {{fact:event.3.gate.fraction}} gate.",
    );
    expect(formatFact({ value: -1.5, unit: "points", decimals: 1, signed: true })).toBe("-1.5 points");
  });
});

describe("accuracy in the lifecycle", () => {
  it("an accuracy regression is fixed by a later change that brings it back", () => {
    const level = (i: number) => (i >= 10 && i < 20 ? 69.5 : 71.0);
    const input = [series("baseline", "accuracy", () => 71.5, 0.1, 1), series("int8", "accuracy", level, 0.1, 2)];
    const detection = detectChanges(input, attribution, config);
    expect(detection.changes.map((c) => [c.commit_sha, c.kind])).toEqual([
      [commits[10].sha, "regression"],
      [commits[20].sha, "improvement"],
    ]);
    const events = groupIntoEvents(detection.changes, [], context);
    linkLifecycle(events);
    const [regression, fix] = events;
    expect(regression).toMatchObject({ kind: "regression", metric: "accuracy", state: "fixed", fixed_by_event_id: fix.event_id, gate_breached: true });
    expect(fix).toMatchObject({ kind: "improvement", state: "kept" });
    expect(fix.gate_ratio_after!).toBeGreaterThanOrEqual(0.99);
  });
});

/** The story's view of a stored event (lib/analysis/facts.ts storyEvent), as much as qualitySentence reads. */
function storyLike(e: ReturnType<typeof groupIntoEvents>[number]) {
  return {
    gate:
      e.gate_fraction === null
        ? null
        : {
            method: e.gate_method,
            baseline: e.gate_baseline,
            fraction: e.gate_fraction,
            ratio_before: e.gate_ratio_before!,
            ratio_after: e.gate_ratio_after!,
            breached: e.gate_breached,
          },
    tradeoff: e.tradeoff
      ? {
          latency_metric: e.tradeoff_latency_metric,
          latency_label: e.tradeoff_latency_label,
          faster_pct: e.tradeoff_latency_pct!,
          accuracy_points: e.tradeoff_accuracy_points!,
        }
      : null,
  } as unknown as Parameters<typeof qualitySentence>[0];
}
