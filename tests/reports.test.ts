import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { benchRunRow, llmEventRow, type BenchRunRow } from "../lib/clickhouse/tables";
import { ingestReports, MAX_REPORT_DEPTH, validateReports, type ReportInput } from "../lib/ingest/reports/ingest";
import { canonicalJson, UNKNOWN, type NormalizedReport } from "../lib/ingest/reports/normalize";
import { BENCHMARK_TYPES, type BenchmarkType } from "../lib/ingest/reports/schemas";
import { BENCH_MODEL_PRICES, costPer1k, llmCostUsd, modelFamilyKey } from "../lib/pricing";
import { seededRandom } from "../lib/seed/random";
import { generateReport, SAMPLE_MODELS } from "../lib/seed/reports";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

const FIXTURES = path.join(import.meta.dirname, "fixtures", "reports");
const PASSED_SHA = "0123456789abcdef0123456789abcdef01234567";

function fixture(type: BenchmarkType): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${type}.json`), "utf8"));
}

function normalized(type: BenchmarkType, input: Partial<ReportInput> = {}): NormalizedReport {
  const result = validateReports([{ report: fixture(type), commitSha: PASSED_SHA, ...input }]);
  if (!result.ok) throw new Error(`${type}: ${JSON.stringify(result.problems)}`);
  return result.reports[0];
}

const byVariant = (rows: BenchRunRow[]) => Object.fromEntries(rows.map((r) => [r.variant, r]));
const extraOf = (row: BenchRunRow) => JSON.parse(row.extra) as Record<string, unknown>;

describe("fixtures: every report type validates and normalises", () => {
  it.each(BENCHMARK_TYPES)("%s rows match the table schemas", (type) => {
    const report = normalized(type);
    expect(report.benchmark_type).toBe(type);
    expect(report.bench_runs.length).toBeGreaterThan(0);
    for (const row of report.bench_runs) {
      expect(benchRunRow.parse(row)).toEqual(row);
      expect(row.run_id).toBe(report.run_id);
      expect(row.ts).toBe(report.ts);
      expect(row.dataset).not.toBe("synthetic");
    }
    for (const event of report.llm_events) expect(llmEventRow.parse(event)).toEqual(event);
    // Variants are unique within a run, so no row replaces another.
    expect(new Set(report.bench_runs.map((r) => r.variant)).size).toBe(report.bench_runs.length);
  });

  it("compilation: one row per backend, missing percentiles stay null, a failed backend has no figures", () => {
    const report = normalized("compilation");
    expect(report.commit_sha).toBe("3f9c2a7e8b1d4c6f0a5e9d2b7c4f1a8e6d3b0c95"); // the report's own wins
    expect(report.ts).toBe("2026-03-02T14:21:07.512Z"); // naive timestamp read as UTC
    const rows = byVariant(report.bench_runs);
    expect(Object.keys(rows)).toEqual(["eager", "jit", "torch_compile", "onnx", "torch_trt"]);
    expect(rows.eager).toMatchObject({
      model: "llama3.1:8b-instruct-q4_0",
      quant: "q4_0",
      dataset: UNKNOWN,
      device: "cuda",
      latency_mean_ms: 48.62,
      latency_p50_ms: 47.95,
      latency_p95_ms: 53.8,
      latency_p99_ms: 59.44,
      tokens_per_sec: 10530.65,
      memory_peak_mb: 5321.4,
      cost_per_1k: 0.00018,
    });
    expect(rows.jit).toMatchObject({ latency_mean_ms: 45.03, latency_p50_ms: null, latency_p95_ms: null, latency_p99_ms: null });
    expect(rows.onnx).toMatchObject({ latency_p95_ms: 41.83, latency_p99_ms: null, memory_peak_mb: null });
    expect(rows.torch_trt).toMatchObject({ latency_mean_ms: null, latency_p95_ms: null, tokens_per_sec: null, memory_peak_mb: null });
    expect(extraOf(rows.torch_trt)).toMatchObject({ compile_success: false, compile_time_s: null, compile_error: expect.stringContaining("TensorRT") });
    expect(extraOf(rows.torch_compile)).toMatchObject({ compile_success: true, compile_time_s: 41.772, timing: { std_time_ms: 0.74 } });
    expect(report.llm_events).toEqual([]);
  });

  it("quantization: one row per method with the method as quant; untimed methods have null latencies", () => {
    const rows = byVariant(normalized("quantization").bench_runs);
    expect(Object.keys(rows)).toEqual(["baseline", "int8", "int4", "dynamic"]);
    expect(rows.baseline.quant).toBe("bf16"); // the unquantized model, in its dtype
    expect(rows.int8.quant).toBe("int8");
    expect(rows.int4).toMatchObject({ quant: "int4", latency_mean_ms: null, tokens_per_sec: null, memory_peak_mb: null });
    expect(rows.dynamic).toMatchObject({ latency_mean_ms: 7.02, latency_p95_ms: null, tokens_per_sec: 142.45 });
    expect(rows.int8).toMatchObject({ latency_p95_ms: 6.61, latency_p99_ms: null, dataset: "wikitext-2", cost_per_1k: 0.00006 });
    expect(extraOf(rows.int4)).toMatchObject({ accuracy: 0.7097, loss: 2.1265, model_size_bytes: 1799356416 });
  });

  it("kernel_optimization: group/variant rows; no model means unknown model and unknown cost", () => {
    const report = normalized("kernel_optimization");
    expect(report.commit_sha).toBe(PASSED_SHA); // the report has none: the passed one applies
    const rows = byVariant(report.bench_runs);
    expect(Object.keys(rows)).toEqual([
      "attention/torch",
      "attention/flash_attention",
      "tensor_core/512x512x512",
      "tensor_core/1024x1024x1024",
      "fusion/baseline_linear_gelu",
      "fusion/fused_linear_gelu",
    ]);
    expect(rows["tensor_core/512x512x512"]).toMatchObject({
      model: UNKNOWN,
      quant: UNKNOWN,
      device: "cuda",
      latency_mean_ms: 0.0114, // sub-millisecond figures survive
      latency_p95_ms: null,
      cost_per_1k: null,
    });
    expect(rows["attention/flash_attention"]).toMatchObject({ latency_p95_ms: 0.129, latency_p99_ms: null });
  });

  it("attention_mechanism: one row per measured config, config and comparison in extra", () => {
    const rows = byVariant(normalized("attention_mechanism").bench_runs);
    expect(Object.keys(rows)).toEqual(["mqa", "gqa", "sliding_window", "sparse"]);
    expect(rows.sparse).toMatchObject({ model: "transformer", quant: "fp32", memory_peak_mb: null, cost_per_1k: null, latency_p50_ms: null });
    expect(rows.mqa).toMatchObject({ memory_peak_mb: 41.5, tokens_per_sec: 621359.2 });
    expect(extraOf(rows.gqa)).toMatchObject({ mechanism: "gqa", num_kv_heads: 2, cross_comparison: { mqa: 0.922 } });
  });

  it("memory_optimization: memory per method from memory_usage; a missing ratio is null", () => {
    const rows = byVariant(normalized("memory_optimization").bench_runs);
    expect(Object.keys(rows)).toEqual(["baseline", "gradient_checkpointing", "kv_cache_int8", "activation_offload"]);
    expect(rows.gradient_checkpointing).toMatchObject({ memory_peak_mb: 17342.1, latency_mean_ms: null, quant: "bf16", cost_per_1k: 0.0003 });
    expect(extraOf(rows.gradient_checkpointing)).toMatchObject({ compression_ratio: 1.2613, method: { recompute: "full" } });
    expect(extraOf(rows.activation_offload).compression_ratio).toBeNull();
  });

  it("model_compilation: one row per target; a target without a time keeps compile_time_s null", () => {
    const rows = byVariant(normalized("model_compilation").bench_runs);
    expect(Object.keys(rows)).toEqual(["torchscript", "onnx", "tensorrt"]);
    expect(extraOf(rows.onnx).compile_time_s).toBe(19.3);
    expect(extraOf(rows.tensorrt).compile_time_s).toBeNull();
    expect(rows.tensorrt).toMatchObject({ model: "phi3:mini", quant: "fp16", latency_mean_ms: null, cost_per_1k: 0.000325 });
  });

  it("inference_performance: one row from the summary and one llm_event with the real token count", () => {
    const report = normalized("inference_performance");
    expect(report.bench_runs).toHaveLength(1);
    expect(report.bench_runs[0]).toMatchObject({
      variant: "inference",
      model: "mistral:7b-instruct-q4_K_M",
      quant: "q4_k_m",
      dataset: "banter-scenarios",
      latency_mean_ms: 1500.04,
      latency_p50_ms: null,
      latency_p95_ms: null, // never derived from the mean
      latency_p99_ms: null,
      tokens_per_sec: 158.26,
      cost_per_1k: 0.0002,
    });
    expect(report.llm_events).toEqual([
      {
        ts: report.ts,
        event_id: expect.any(String),
        run_id: report.run_id,
        source: "banterhearts",
        model: "mistral:7b-instruct-q4_K_M",
        operation: "benchmark",
        tokens_in: 0,
        tokens_out: 1187,
        latency_ms: 7500, // the reported generation times, summed
        cost_usd: 0.000237,
        status: "reported",
        error_msg: "",
      },
    ]);
  });

  it("prompt_suite: a row and an llm_event per model, with real tokens, latency and priced cost", () => {
    const report = normalized("prompt_suite");
    const rows = byVariant(report.bench_runs);
    expect(Object.keys(rows)).toEqual(["llama3.1:8b-instruct-q4_0", "gemma2:9b", "gpt-4o-mini"]);
    expect(rows["llama3.1:8b-instruct-q4_0"]).toMatchObject({
      model: "llama3.1:8b-instruct-q4_0",
      quant: "q4_0",
      latency_mean_ms: 1375.83,
      tokens_per_sec: null,
      cost_per_1k: 0.00018,
    });
    expect(rows["gpt-4o-mini"]).toMatchObject({ quant: UNKNOWN, cost_per_1k: null }); // no serving price for a hosted model
    expect(extraOf(rows["gemma2:9b"])).toMatchObject({ completed: 2, success_rate: 0.6667, tokens_generated: 341 });

    const events = Object.fromEntries(report.llm_events.map((e) => [e.model, e]));
    expect(events["llama3.1:8b-instruct-q4_0"]).toMatchObject({ tokens_in: 0, tokens_out: 512, latency_ms: 4128, cost_usd: 0.000092, status: "reported" });
    expect(events["gemma2:9b"]).toMatchObject({ tokens_out: 341, latency_ms: 3390, error_msg: "success_rate 0.6667" });
    expect(events["gpt-4o-mini"]).toMatchObject({ tokens_in: 129, tokens_out: 468, cost_usd: llmCostUsd("gpt-4o-mini", 129, 468) });
    expect(new Set(report.llm_events.map((e) => e.event_id)).size).toBe(3);
  });

  it("system_performance: one row, system metrics in extra, no invented memory figure", () => {
    const [row] = normalized("system_performance").bench_runs;
    expect(row).toMatchObject({ variant: "system", model: UNKNOWN, device: "cuda", memory_peak_mb: null, latency_mean_ms: null, cost_per_1k: null });
    expect(extraOf(row)).toMatchObject({ duration_minutes: 15, cpu_avg_percent: 31.7, gpu_power_avg_w: null, gpus: [{ memory_used_mb: 17204 }] });
  });
});

describe("run ids", () => {
  it("the same report always gets the same run_id and event ids, whatever its key order", () => {
    const a = normalized("prompt_suite");
    const reordered = Object.fromEntries(Object.entries(fixture("prompt_suite")).reverse());
    const b = validateReports([{ report: reordered }]);
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    expect(b.reports[0].run_id).toBe(a.run_id);
    expect(b.reports[0].llm_events.map((e) => e.event_id)).toEqual(a.llm_events.map((e) => e.event_id));
  });

  it("a different figure or a different report gives a different run_id", () => {
    const changed = fixture("compilation");
    (changed.settings as { runs: number }).runs = 51;
    const ids = new Set([
      normalized("compilation").run_id,
      normalized("quantization").run_id,
      (validateReports([{ report: changed }]) as { reports: NormalizedReport[] }).reports[0].run_id,
    ]);
    expect(ids.size).toBe(3);
  });

  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }));
  });
});

describe("validation problems", () => {
  it("names the index and the path of each problem", () => {
    const bad = fixture("compilation");
    (bad.backends as Record<string, { benchmark: Record<string, unknown> }>).onnx.benchmark.p95_time_ms = "fast";
    const result = validateReports([{ report: fixture("quantization") }, { report: bad }]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ index: 1, path: "backends.onnx.benchmark.p95_time_ms", message: expect.stringContaining("expected number") }]);
  });

  it("rejects an unknown type, unknown backend, bad version and bad commit sha", () => {
    const unknownBackend = fixture("compilation");
    (unknownBackend.backends as Record<string, unknown>).tvm = { compilation: { success: false, compile_time_s: null } };
    const result = validateReports([
      { report: { ...fixture("kernel_optimization"), benchmark_type: "vibes" } },
      { report: unknownBackend },
      { report: { ...fixture("system_performance"), version: "2.0" } },
      { report: { ...fixture("system_performance"), commit_sha: "abc" } },
      { report: "not a report" },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const at = (index: number) => result.problems.filter((p) => p.index === index).map((p) => p.path);
    expect(at(0)).toEqual(["benchmark_type"]);
    expect(at(1)).toEqual(["backends.tvm"]);
    expect(at(2)).toEqual(["version"]);
    expect(at(3)).toEqual(["commit_sha"]);
    expect(at(4)).toEqual([""]);
  });

  it("a report without commit_sha needs one passed with it, and a passed one must be 40 hex", () => {
    const missing = validateReports([{ report: fixture("kernel_optimization") }]);
    expect(missing).toEqual({ ok: false, problems: [{ index: 0, path: "commit_sha", message: expect.stringContaining("X-Commit-Sha") }] });
    const invalid = validateReports([{ report: fixture("kernel_optimization"), commitSha: "HEAD" }]);
    expect(invalid.ok).toBe(false);
  });

  it("optional figures may be null or absent, required ones may not", () => {
    const report = fixture("kernel_optimization");
    const kernels = report.kernels as Record<string, Record<string, Record<string, unknown>>>;
    kernels.fusion.fused_linear_gelu.p95_time_ms = null;
    expect(validateReports([{ report, commitSha: PASSED_SHA }]).ok).toBe(true);
    delete kernels.fusion.fused_linear_gelu.mean_time_ms;
    const result = validateReports([{ report, commitSha: PASSED_SHA }]);
    expect(result.ok === false && result.problems.map((p) => p.path)).toEqual(["kernels.fusion.fused_linear_gelu.mean_time_ms"]);
  });

  it("refuses a report nested deeper than MAX_REPORT_DEPTH instead of overflowing the stack", () => {
    const nested = (levels: number): unknown => {
      let value: unknown = "bottom";
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    const shallow = { ...fixture("system_performance"), extra: nested(MAX_REPORT_DEPTH - 2) };
    const deep = { ...fixture("system_performance"), extra: nested(5_000) };
    expect(validateReports([{ report: shallow, commitSha: PASSED_SHA }]).ok).toBe(true);
    const result = validateReports([{ report: fixture("quantization") }, { report: deep, commitSha: PASSED_SHA }]);
    expect(result).toEqual({ ok: false, problems: [{ index: 1, path: "", message: `the report is nested deeper than ${MAX_REPORT_DEPTH} levels` }] });
  });

  it("keeps extra keys real reports carry", () => {
    const report = fixture("quantization");
    const rows = byVariant((validateReports([{ report }]) as { reports: NormalizedReport[] }).reports[0].bench_runs);
    expect(extraOf(rows.dynamic).calibration_samples).toBe(0);
  });
});

describe("price table", () => {
  it("matches exact names, then the normalised family key; unknown is null", () => {
    expect(costPer1k("llama-3.1-8b")).toBe(BENCH_MODEL_PRICES["llama-3.1-8b"]);
    for (const name of ["llama3.1:8b-instruct-q4_0", "meta-llama/Meta-Llama-3.1-8B-Instruct", "Llama-3.1-8B-Instruct-Turbo"]) {
      expect(modelFamilyKey(name)).toBe("llama3.1-8b");
      expect(costPer1k(name)).toBe(0.00018);
    }
    expect(costPer1k("Qwen/Qwen2.5-7B-Instruct")).toBe(0.0003);
    expect(costPer1k("google/gemma-2-9b-it")).toBe(0.0003);
    expect(costPer1k("mistral")).toBeNull(); // no size: no guess
    expect(costPer1k("llama3.1:70b")).toBe(0.00088);
    expect(costPer1k("transformer")).toBeNull();
    expect(costPer1k("gpt-4o-mini")).toBeNull();
  });

  it("prices LLM calls per direction, snapshots at their alias; unknown is null", () => {
    expect(llmCostUsd("gpt-4o-mini", 1_000_000, 1_000_000)).toBe(0.75);
    expect(llmCostUsd("gpt-4o-mini-2024-07-18", 1000, 500)).toBe(llmCostUsd("gpt-4o-mini", 1000, 500));
    expect(llmCostUsd("gpt-4.1", 2000, 1000)).toBe(0.012);
    expect(llmCostUsd("claude-unknown", 10, 10)).toBeNull();
  });

  it("every sample model has a price", () => {
    for (const model of SAMPLE_MODELS) expect(costPer1k(model)).not.toBeNull();
  });
});

describe("generated sample reports", () => {
  const opts = (seed: number, model: string, performance = 1, quant?: string) => ({
    generatedAt: new Date("2026-04-01T12:00:00Z"),
    commitSha: "ab".repeat(20),
    model,
    quant,
    performance,
    rng: seededRandom(seed),
  });

  it.each(BENCHMARK_TYPES)("%s validates for every sample model and normalises to priced rows", (type) => {
    for (const [i, model] of SAMPLE_MODELS.entries()) {
      for (const quant of [undefined, "q4_k_m"]) {
        const report = generateReport(type, opts(i + 1, model, 0.6 + i * 0.4, quant));
        const result = validateReports([{ report }]);
        if (!result.ok) throw new Error(`${type}/${model}: ${JSON.stringify(result.problems.slice(0, 3))}`);
        const [normalizedReport] = result.reports;
        expect(normalizedReport.bench_runs.length).toBeGreaterThan(0);
        for (const row of normalizedReport.bench_runs) {
          benchRunRow.parse(row);
          if (row.model === model) expect(row.cost_per_1k).toBe(costPer1k(model));
        }
        if (quant && type !== "quantization") expect(normalizedReport.bench_runs.find((r) => r.model === model)?.quant).toBe(quant);
        if (type === "prompt_suite" || type === "inference_performance") {
          expect(normalizedReport.llm_events.find((e) => e.model === model)?.tokens_out).toBeGreaterThan(0);
        }
      }
    }
  });

  it("is deterministic given the rng, and slower with a higher performance multiplier", () => {
    for (const type of BENCHMARK_TYPES) expect(generateReport(type, opts(7, "mistral-7b"))).toEqual(generateReport(type, opts(7, "mistral-7b")));
    const mean = (performance: number) => {
      const result = validateReports([{ report: generateReport("compilation", opts(7, "mistral-7b", performance)) }]);
      if (!result.ok) throw new Error("invalid");
      return result.reports[0].bench_runs.find((r) => r.variant === "eager")!.latency_mean_ms!;
    };
    expect(mean(1.4)).toBeGreaterThan(mean(0.6) * 2);
  });

  it("leaves some optional figures out across seeds, as real runs do", () => {
    const nullP99 = Array.from({ length: 10 }, (_, seed) => generateReport("compilation", opts(seed, "qwen2.5-7b")))
      .flatMap((report) => (validateReports([{ report }]) as { reports: NormalizedReport[] }).reports[0].bench_runs)
      .filter((row) => row.latency_mean_ms !== null && row.latency_p99_ms === null);
    expect(nullP99.length).toBeGreaterThan(0);
  });
});

describe("ingestReports on ClickHouse", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("writes a batch with one insert per table, and reads nulls and prices back", async () => {
    const reports = BENCHMARK_TYPES.map((type) => normalized(type));
    const insert = vi.spyOn(test.db, "insert");
    const result = await ingestReports(test.db, reports);
    expect(insert.mock.calls.map((call) => call[0])).toEqual(["bench_runs", "llm_events"]);
    insert.mockRestore();

    const benchRows = reports.reduce((n, r) => n + r.bench_runs.length, 0);
    expect(result).toEqual({ accepted: 9, run_ids: reports.map((r) => r.run_id), bench_rows: benchRows, llm_rows: 4 });
    const [counts] = await test.db.query<{ bench: number; llm: number }>(
      "SELECT (SELECT count() FROM bench_runs FINAL) AS bench, (SELECT count() FROM llm_events FINAL) AS llm",
    );
    expect(counts).toEqual({ bench: benchRows, llm: 4 });

    const jit = await test.db.query(
      "SELECT * EXCEPT (schema_version, ingested_at) FROM bench_runs FINAL WHERE benchmark_type = 'compilation' AND variant = 'jit'",
      undefined,
      benchRunRow,
    );
    expect(jit).toEqual([{ ...byVariant(normalized("compilation").bench_runs).jit }]);
  });

  it("a batch naming the same report twice writes it once", async () => {
    const report = normalized("model_compilation");
    const result = await ingestReports(test.db, [report, report]);
    expect(result).toMatchObject({ accepted: 2, run_ids: [report.run_id, report.run_id], bench_rows: 3 });
  });
});
