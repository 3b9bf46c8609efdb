import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestReports, MAX_REPORT_FUTURE_SKEW_MS, validateReports } from "../lib/ingest/reports/ingest";
import type { NormalizedReport } from "../lib/ingest/reports/normalize";
import type { BenchmarkType } from "../lib/ingest/reports/schemas";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * Reports as they really come (issue 14, item 6): a variant that failed is
 * stored as a failed variant (NULL figures, `extra.failed`, `extra.error`,
 * listed in `failed_variants`) while the others are ingested; reports dated
 * more than 5 minutes in the future are refused. The all-or-nothing rule is
 * otherwise unchanged: a malformed figure still refuses the whole report.
 */

const SHA = "0123456789abcdef0123456789abcdef01234567";
const NOW = new Date("2026-11-20T12:00:00.000Z");
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const fixture = (type: BenchmarkType): Json => JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "reports", `${type}.json`), "utf8"));

function accept(report: Json): NormalizedReport {
  const result = validateReports([{ report, commitSha: SHA }], { now: NOW });
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  return result.reports[0];
}

function row(report: NormalizedReport, variant: string) {
  const found = report.bench_runs.find((r) => r.variant === variant);
  if (!found) throw new Error(`no row ${variant}`);
  return { ...found, extra: JSON.parse(found.extra) as Json };
}

describe("failed variants are stored, the others ingested", () => {
  it("compilation: onnx failed to compile (success false, an error, benchmark null)", () => {
    const report = fixture("compilation");
    report.backends.onnx = {
      compilation: { success: false, compile_time_s: null, error: "Unsupported ONNX opset 19 for aten::scaled_dot_product_attention" },
      benchmark: null,
    };
    const normalized = accept(report);
    expect(normalized.bench_runs).toHaveLength(Object.keys(report.backends).length);
    const onnx = row(normalized, "onnx");
    expect(onnx.latency_mean_ms).toBeNull();
    expect(onnx.extra).toMatchObject({ failed: true, error: expect.stringContaining("opset 19"), compile_success: false });
    expect(row(normalized, "eager").latency_mean_ms).toEqual(expect.any(Number));
    expect(row(normalized, "eager").extra.failed).toBeUndefined();
    // (The fixture's torch_trt failed to compile already.)
    expect(normalized.failed_variants).toEqual([
      { variant: "onnx", error: expect.stringContaining("opset 19") },
      { variant: "torch_trt", error: expect.stringContaining("TensorRT engine build failed") },
    ]);
  });

  it("compilation: a backend that compiled but has no benchmark block (missing or null)", () => {
    const report = fixture("compilation");
    delete report.backends.jit.benchmark;
    report.backends.torch_trt.benchmark = null;
    report.backends.torch_trt = { compilation: { success: true, compile_time_s: 12.5 }, benchmark: null };
    const normalized = accept(report);
    expect(normalized.failed_variants.map((f) => f.variant).sort()).toEqual(["jit", "torch_trt"]);
    expect(row(normalized, "jit").extra.error).toBe("no benchmark block for a backend that compiled");
  });

  it("quantization: an errored method", () => {
    const report = fixture("quantization");
    report.quantization_methods.int4 = {
      error: "CUDA error: no kernel image for int4 on sm_75",
      accuracy: null,
      loss: null,
      model_size_bytes: null,
      benchmark: null,
    };
    const normalized = accept(report);
    const int4 = row(normalized, "int4");
    expect(int4).toMatchObject({ quant: "int4", latency_mean_ms: null, tokens_per_sec: null });
    expect(int4.extra).toMatchObject({ failed: true, error: expect.stringContaining("sm_75") });
    expect(row(normalized, "int8").latency_mean_ms).toEqual(expect.any(Number));
  });

  it("kernel_optimization and attention_mechanism: a variant with an error instead of its timing", () => {
    const kernels = fixture("kernel_optimization");
    const [group] = Object.keys(kernels.kernels);
    const [name] = Object.keys(kernels.kernels[group]);
    kernels.kernels[group][name] = { error: "triton compilation timed out" };
    expect(accept(kernels).failed_variants).toEqual([{ variant: `${group}/${name}`, error: "triton compilation timed out" }]);

    const attention = fixture("attention_mechanism");
    attention.performance_results.sparse = { error: "OOM at seq_len 8192", mean_time_ms: null };
    const normalized = accept(attention);
    expect(normalized.failed_variants).toEqual([{ variant: "sparse", error: "OOM at seq_len 8192" }]);
    expect(row(normalized, "sparse").extra).toMatchObject({ mechanism: "sparse", failed: true });
  });

  it("memory_optimization: a method that errored", () => {
    const report = fixture("memory_optimization");
    report.optimization_methods.activation_offload = { error: "offload target not available", benchmark: null };
    const normalized = accept(report);
    expect(normalized.failed_variants).toEqual([{ variant: "activation_offload", error: "offload target not available" }]);
  });

  it("nothing else changes: a malformed figure, or a block missing a figure without an error, still refuses the report", () => {
    const bad = fixture("compilation");
    bad.backends.eager.benchmark.p95_time_ms = "fast";
    expect(validateReports([{ report: bad, commitSha: SHA }], { now: NOW })).toMatchObject({
      ok: false,
      problems: [{ path: "backends.eager.benchmark.p95_time_ms" }],
    });
    const kernels = fixture("kernel_optimization");
    const [group] = Object.keys(kernels.kernels);
    const [name] = Object.keys(kernels.kernels[group]);
    delete kernels.kernels[group][name].mean_time_ms;
    expect(validateReports([{ report: kernels, commitSha: SHA }], { now: NOW })).toMatchObject({
      ok: false,
      problems: [{ path: `kernels.${group}.${name}.mean_time_ms` }],
    });
    const quant = fixture("quantization");
    quant.quantization_methods.int8.accuracy = 1.5;
    expect(validateReports([{ report: quant, commitSha: SHA }], { now: NOW }).ok).toBe(false);
  });
});

describe("reports dated in the future", () => {
  it("are refused beyond 5 minutes with a clear error; within the skew they are accepted", () => {
    const at = (ms: number) => ({ ...fixture("system_performance"), generated_at: new Date(NOW.getTime() + ms).toISOString() });
    const refused = validateReports([{ report: at(MAX_REPORT_FUTURE_SKEW_MS + 60_000), commitSha: SHA }], { now: NOW });
    expect(refused).toEqual({
      ok: false,
      problems: [{ index: 0, path: "generated_at", message: expect.stringMatching(/is 6 minutes in the future \(at most 5 are accepted\): check the clock/) }],
    });
    expect(validateReports([{ report: at(4 * 60_000), commitSha: SHA }], { now: NOW }).ok).toBe(true);
    // Python's naive isoformat() is read as UTC, as everywhere else.
    const naive = { ...fixture("system_performance"), generated_at: "2026-11-20T12:30:00.000001" };
    expect(validateReports([{ report: naive, commitSha: SHA }], { now: NOW }).ok).toBe(false);
  });
});

describe("in ClickHouse", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it("a partially failed report writes every variant, the failed one marked", async () => {
    const report = fixture("compilation");
    report.backends.onnx = { compilation: { success: false, compile_time_s: null, error: "export failed" }, benchmark: null };
    const normalized = accept(report);
    await ingestReports(t.db, [normalized]);
    const rows = await t.db.query<{ variant: string; failed: number; mean: number | null }>(
      `SELECT variant, JSONExtractBool(extra, 'failed') AS failed, latency_mean_ms AS mean FROM bench_runs FINAL WHERE run_id = {id:UUID} ORDER BY variant`,
      { id: normalized.run_id },
    );
    expect(rows.map((r) => r.variant)).toEqual(Object.keys(report.backends).sort());
    expect(rows.filter((r) => Number(r.failed) === 1).map((r) => [r.variant, r.mean])).toEqual([
      ["onnx", null],
      ["torch_trt", null],
    ]);
    expect(rows.filter((r) => Number(r.failed) !== 1).every((r) => typeof r.mean === "number")).toBe(true);
  });
});
