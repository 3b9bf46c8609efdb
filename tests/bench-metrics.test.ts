import { readFileSync } from "node:fs";
import path from "node:path";
import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, collectOptions } from "../lib/agents/collect";
import { ingest, ingestOptions } from "../lib/agents/ingest";
import { loadDefinitions } from "../lib/datadog/apply";
import { allQueries, parseMetricQuery } from "../lib/datadog/queries";
import { validateReports } from "../lib/ingest/reports/ingest";
import { benchIngest, type BenchInput } from "../lib/http/ingest-bench";
import { memoryLogger } from "../lib/log";
import { createMetrics, type SeriesPoint } from "../lib/metrics";
import { LatestBenchRuns } from "../lib/metrics/bench";
import { METRICS, metricSpec } from "../lib/metrics/names";
import { parseEnv } from "../lib/env";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { MemoryRepo, fixedClock, testDeps } from "./helpers/deps";

/**
 * Benchmarks and users in Datadog (issue 23 item 4): the ingest agent, the ingest route and the collect agent send
 * `muse.bench.*` and `muse.users.*` gauges, and every one is sent with the tags the dashboard and the monitors query
 * (filters and groups), no others — benchmark_type, model and quant only, no instance — so the series are bounded by
 * types × models × quants (docs/operations.md, Metrics).
 */

const NEW_METRICS: string[] = METRICS.map((m) => m.name as string).filter((n) => n.startsWith("muse.bench.") || n.startsWith("muse.users."));
const BASE = new Set(["service", "env"]);
const NOW = "2026-03-06T10:20:00.000Z";
const fixture = (name: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "reports", `${name}.json`), "utf8")) as Record<string, unknown>;
const tagKeys = (s: SeriesPoint) => s.tags.map((t) => t.slice(0, t.indexOf(":"))).filter((k) => !BASE.has(k));
const tagOf = (s: SeriesPoint, key: string) => s.tags.find((t) => t.startsWith(`${key}:`))?.slice(key.length + 1);
/** As lib/agents/types Metrics, with the base tags of production (service, env and a per-process instance). */
const productionMetrics = () =>
  createMetrics({ apiUrl: "http://127.0.0.1:9", baseTags: ["service:muse", "env:test", "instance:abc123"], log: memoryLogger(), clock: () => Date.parse(NOW) });

let t: TestDatabase;
const sent: SeriesPoint[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  // The ingest agent: two commits, a quantization report (with a baseline) and an inference report.
  const shas = ["a".repeat(40), "b".repeat(40)];
  const hearts = new MemoryRepo(
    "banterhearts",
    shas.map((sha, i) => ({
      sha,
      ts: `2026-03-06T0${i + 1}:00:00.000Z`,
      author: "bench-bot",
      message: "nightly",
      parents: i ? [shas[i - 1]] : [],
      files: [{ path: `reports/r${i}.json`, status: "added" as const, additions: 1, deletions: 0 }],
    })),
  );
  hearts.files.set(`${shas[0]}:reports/r0.json`, JSON.stringify({ ...fixture("quantization"), commit_sha: shas[0] }));
  hearts.files.set(`${shas[1]}:reports/r1.json`, JSON.stringify({ ...fixture("inference_performance"), commit_sha: shas[1] }));
  const deps = { ...testDeps(t.db, { upstream: { hearts, packs: new MemoryRepo("banterpacks") }, clock: fixedClock(NOW) }), metrics: productionMetrics() };
  expect((await ingest(ingestOptions.parse({}), deps)).summary).toMatchObject({ reports: 2, rejected: [] });
  sent.push(...deps.metrics.pending());

  // The ingest route: its `stored` answer sends the same gauges for what it wrote.
  const validated = validateReports([{ report: fixture("quantization") }]);
  if (!validated.ok) throw new Error("fixture report invalid");
  const routeMetrics = productionMetrics();
  const input = { reports: validated.reports, now: new Date(NOW), context: { env: parseEnv({ MUSE_ACCURACY_GATES: "int4=0.97" }) } } as unknown as BenchInput;
  benchIngest.stored(input, { accepted: 1, run_ids: [], llm_rows: 0, bench_rows: 0, requests_done: [], requests_unknown: [] } as never, routeMetrics);
  sent.push(...routeMetrics.pending());

  // The collect agent: overlay events in the last complete hour (09:00–10:00 at 10:20).
  const session = "aaaaaaaa-1111-4111-8111-111111111111";
  const event = (ts: string, type: string, latency: number) => ({
    ts,
    event_id: uuidv5(`${ts}|${type}`, "6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
    session_id: session,
    commit_sha: "c".repeat(40),
    event_type: type,
    latency_ms: latency,
    user_agent: "",
    metadata: "{}",
  });
  await t.db.insert("ui_events", [
    event("2026-03-06T09:05:00.000Z", "query_submit", 0),
    event("2026-03-06T09:05:02.000Z", "query_result", 800),
    event("2026-03-06T09:10:00.000Z", "query_submit", 0),
    event("2026-03-06T09:11:00.000Z", "overlay.error", 0),
  ]);
  const collectDeps = { ...testDeps(t.db, { clock: fixedClock(NOW) }), metrics: productionMetrics() };
  await collect(collectOptions.parse({ hours: 6 }), collectDeps);
  sent.push(...collectDeps.metrics.pending());
}, 60_000);

afterAll(async () => {
  await t?.drop();
});

describe("benchmark and user gauges", () => {
  it("are in the registry as shared gauges with bounded tags", () => {
    expect(NEW_METRICS.sort()).toEqual(
      [
        "muse.bench.accuracy",
        "muse.bench.accuracy_gate_ratio",
        "muse.bench.latency_p95_ms",
        "muse.bench.latency_p99_ms",
        "muse.bench.memory_peak_mb",
        "muse.bench.tokens_per_sec",
        "muse.users.abandonment_rate",
        "muse.users.error_rate",
        "muse.users.latency_ms",
      ].sort(),
    );
    for (const name of NEW_METRICS) {
      const spec = metricSpec(name)!;
      expect(spec.type, name).toBe("gauge");
      expect(spec.shared, name).toBe(true);
      expect(spec.tags, name).toEqual(name.startsWith("muse.bench.") ? ["benchmark_type", "model", "quant"] : []);
    }
  });

  it("are all sent by the agents and the route, with exactly their declared tags and no instance", () => {
    for (const name of NEW_METRICS) {
      const series = sent.filter((s) => s.metric === name);
      expect(series.length, `${name} was not sent`).toBeGreaterThan(0);
      for (const s of series) {
        expect(s.type, name).toBe(3);
        expect(tagKeys(s).sort(), `${name} ${s.tags.join(",")}`).toEqual([...metricSpec(name)!.tags].sort());
        expect(s.tags).toEqual(expect.arrayContaining(["service:muse", "env:test"]));
        // Stamped at send time (Datadog drops points older than about an hour), not at the run's own.
        expect(s.points[0].timestamp).toBe(Math.floor(Date.parse(NOW) / 10_000) * 10);
      }
    }
  });

  it("are sent with every tag the dashboard and the monitors filter or group them by", async () => {
    const defs = await loadDefinitions();
    const problems: string[] = [];
    let checked = 0;
    for (const { where, query } of allQueries(defs)) {
      for (const ref of parseMetricQuery(query).refs) {
        if (!NEW_METRICS.includes(ref.metric)) continue;
        checked += 1;
        const wanted = [...ref.tagKeys, ...ref.groupBy].filter((k) => !BASE.has(k));
        for (const s of sent.filter((x) => x.metric === ref.metric))
          for (const key of wanted) if (!tagKeys(s).includes(key)) problems.push(`${where}: ${ref.metric} sent without ${key}`);
      }
    }
    expect(problems).toEqual([]);
    // Every new metric is queried somewhere, and the monitor groups the gate ratio by model and quant.
    expect(checked).toBeGreaterThanOrEqual(NEW_METRICS.length);
    const monitor = defs.monitors.find((m) => m.tags.includes("muse-id:accuracy-below-gate"))!;
    expect(parseMetricQuery(monitor.query).refs[0]).toMatchObject({
      metric: "muse.bench.accuracy_gate_ratio",
      groupBy: ["env", "benchmark_type", "model", "quant"],
    });
  });

  it("carry the latest run's figures: accuracy in points, the gate ratio over the same run's baseline and the method's gate", () => {
    const route = (metric: string, quant: string) =>
      sent.filter((s) => s.metric === metric && tagOf(s, "benchmark_type") === "quantization" && tagOf(s, "quant") === quant).map((s) => s.points[0].value);
    // int8 of the fixture: accuracy 0.7268 against the baseline's 0.7312; p95 6.61 ms.
    expect(route("muse.bench.accuracy", "int8")[0]).toBeCloseTo(72.68, 6);
    expect(route("muse.bench.latency_p95_ms", "int8")[0]).toBe(6.61);
    const ratios = route("muse.bench.accuracy_gate_ratio", "int8");
    expect(ratios).toHaveLength(2); // the agent's and the route's
    for (const r of ratios) expect(r).toBeCloseTo(0.7268 / 0.7312 / 0.99, 9);
    // int4 (no timing) still has accuracy; the route was given int4=0.97, the agent the default 0.99.
    expect(route("muse.bench.accuracy_gate_ratio", "int4").sort()).toEqual([0.7097 / 0.7312 / 0.99, 0.7097 / 0.7312 / 0.97].sort());
    expect(route("muse.bench.latency_p95_ms", "int4")).toEqual([]);
    // No gate ratio for the baseline itself, nor for other benchmark types.
    expect(sent.filter((s) => s.metric === "muse.bench.accuracy_gate_ratio" && tagOf(s, "benchmark_type") !== "quantization")).toEqual([]);
    // The overlay's last complete hour: 1 answer of 800 ms, 1 error in 4 events, 1 of 2 queries abandoned.
    const user = (metric: string) => sent.find((s) => s.metric === metric)!.points[0].value;
    expect(user("muse.users.latency_ms")).toBe(800);
    expect(user("muse.users.error_rate")).toBe(0.25);
    expect(user("muse.users.abandonment_rate")).toBe(0.5);
  });

  it("take the newest report per key, and leave out bisection and pull-request runs", () => {
    const validated = validateReports([
      { report: { ...fixture("quantization"), generated_at: "2026-03-02T10:00:00.000Z" } },
      { report: fixture("quantization") },
      { report: { ...fixture("quantization"), generated_at: "2026-03-06T09:00:00.000Z" }, requestId: "bisect-1" },
      { report: { ...fixture("quantization"), generated_at: "2026-03-06T09:30:00.000Z" }, pullRequest: 12 },
    ]);
    if (!validated.ok) throw new Error("invalid");
    const [older, newer, bisection, pullRequest] = validated.reports;
    expect([bisection.request_id, pullRequest.pull_request]).toEqual(["bisect-1", 12]);
    const latest = new LatestBenchRuns();
    latest.add([newer, bisection, pullRequest]);
    latest.add([older]);
    const metrics = productionMetrics();
    latest.emit(metrics);
    const p95 = metrics.pending().find((s) => s.metric === "muse.bench.latency_p95_ms" && tagOf(s, "quant") === "int8")!;
    expect(p95.points[0].value).toBe(6.61);
    expect(latest.size).toBe(new Set(newer.bench_runs.map((r) => r.quant)).size);
  });
});
