import { v5 as uuidv5 } from "uuid";
import type { BenchRunRow, LlmEventRow } from "../../clickhouse/tables";
import { costPer1k, tokenCostUsd } from "../../pricing";
import { isFailed, type BenchmarkReport, type BenchmarkType, type FailedVariant, type ModelConfig, type TimingBlock } from "./schemas";

/**
 * A validated Banterhearts report → `bench_runs` rows (one per variant) and
 * `llm_events` rows (the LLM usage it describes). Only figures the report
 * contains are stored; everything else is NULL or the UNKNOWN sentinel.
 */

/** Namespace of report run ids. Fixed forever: changing it would re-key every stored report. */
export const REPORT_RUN_NAMESPACE = "d2a8d25d-8625-483d-90b1-44f8e77ae5f6";

/**
 * model / quant / dataset / device a report does not name. Those columns are
 * non-nullable LowCardinality(String) in the sorting key, so "unknown" is the
 * documented sentinel — never a guess such as "synthetic".
 */
export const UNKNOWN = "unknown";

export const LLM_EVENT_SOURCE = "banterhearts";
export const LLM_EVENT_OPERATION = "benchmark";

export interface NormalizedReport {
  run_id: string;
  benchmark_type: BenchmarkType;
  commit_sha: string;
  /** generated_at, ISO 8601 UTC with milliseconds. */
  ts: string;
  source_path: string;
  bench_runs: BenchRunRow[];
  llm_events: LlmEventRow[];
  /** The bisection request the report answers ('' when none): its `request_id`, else the one it came with. */
  request_id: string;
  /** The pull request whose head the report measured (0 for main): its `pull_request`, else the one it came with. */
  pull_request: number;
  /** Variants the report says failed (stored with `extra.failed`), with their errors. */
  failed_variants: { variant: string; error: string }[];
}

export interface NormalizeContext {
  /** The commit the report came with (X-Commit-Sha, the commit that added the file); its own commit_sha wins. */
  commitSha?: string;
  sourcePath?: string;
  /** The bisection request the report came with (X-Muse-Request-Id); its own request_id wins. */
  requestId?: string;
  /** The pull request the report came with (X-Muse-Pull-Request); its own pull_request must agree. */
  pullRequest?: number;
}

/** JSON with object keys sorted at every depth, so equal content serialises equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * Deterministic run id of a report: the same content always gets the same id.
 * The request id is how the report was delivered, not what it measured, so it
 * is left out: a report keeps its id whether the request id came in its body
 * or in the X-Muse-Request-Id header (and reports without one keep theirs);
 * so is the pull-request number (its field or X-Muse-Pull-Request).
 * Two repeats at one commit differ in generated_at, so they get two ids.
 */
export function reportRunId(report: BenchmarkReport): string {
  const measured: Record<string, unknown> = { ...report };
  delete measured.request_id;
  delete measured.pull_request;
  return uuidv5(canonicalJson(measured), REPORT_RUN_NAMESPACE);
}

/** Naive timestamps (Python's isoformat() without a zone) are read as UTC. */
export function utcTimestamp(iso: string): string {
  const zoned = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(iso) ? iso : `${iso}Z`;
  return new Date(zoned).toISOString();
}

/** Quantization named in a model name: Ollama/GGUF tags (q4_0, q4_k_m), fp16, int8, awq, gptq... */
const QUANT_TAG = /^(i?q\d+(_[a-z0-9]+)*|fp(4|8|16|32)|bf16|int(2|3|4|8)|nf4|mxfp4|awq|gptq|exl2)$/;

export function quantFromModelName(name: string): string | undefined {
  return name
    .toLowerCase()
    .split(/[:/\s-]+/)
    .findLast((token) => QUANT_TAG.test(token));
}

const DTYPE_LABELS: Record<string, string> = {
  float32: "fp32",
  float: "fp32",
  float16: "fp16",
  half: "fp16",
  bfloat16: "bf16",
  float64: "fp64",
  double: "fp64",
  float8_e4m3fn: "fp8",
  float8_e5m2: "fp8",
};

/** "torch.float16" → "fp16"; dtypes without a short label keep their name ("int8"). */
export function dtypeLabel(dtype: string): string {
  const bare = dtype.toLowerCase().replace(/^torch\./, "");
  return DTYPE_LABELS[bare] ?? bare;
}

/**
 * Quantization of the model a report measured, from the report only: an
 * explicit `model.quant`, else a tag in the model name (the weights an Ollama
 * model runs with), else the dtype it ran in; UNKNOWN without a model.
 */
export function modelQuant(model: ModelConfig | undefined): string {
  if (!model) return UNKNOWN;
  return model.quant ?? quantFromModelName(model.name) ?? dtypeLabel(model.dtype);
}

/** A report's dataset: top-level `dataset`, `model.dataset`, or a `dataset:<name>` / `dataset=<name>` tag. */
export function reportDataset(report: BenchmarkReport): string {
  const tagged = report.tags.map((tag) => /^dataset[:=](.+)$/.exec(tag)?.[1]).find((d) => d !== undefined && d !== "");
  return report.dataset ?? report.model?.dataset ?? tagged ?? UNKNOWN;
}

type Figures = Pick<BenchRunRow, "latency_mean_ms" | "latency_p50_ms" | "latency_p95_ms" | "latency_p99_ms" | "tokens_per_sec" | "memory_peak_mb">;

const NO_FIGURES: Figures = {
  latency_mean_ms: null,
  latency_p50_ms: null,
  latency_p95_ms: null,
  latency_p99_ms: null,
  tokens_per_sec: null,
  memory_peak_mb: null,
};

/** Column figures of a timing block, and the rest of it (std/min/max, utilisation, extra keys) for `extra`. */
function splitTiming(timing: TimingBlock | null | undefined): { figures: Figures; rest: Record<string, unknown> | null } {
  if (!timing) return { figures: NO_FIGURES, rest: null };
  const { mean_time_ms, p50_time_ms, p95_time_ms, p99_time_ms, throughput_tokens_per_sec, memory_used_mb, ...rest } = timing;
  return {
    figures: {
      latency_mean_ms: mean_time_ms,
      latency_p50_ms: p50_time_ms ?? null,
      latency_p95_ms: p95_time_ms ?? null,
      latency_p99_ms: p99_time_ms ?? null,
      tokens_per_sec: throughput_tokens_per_sec ?? null,
      memory_peak_mb: memory_used_mb ?? null,
    },
    rest,
  };
}

interface Variant {
  variant: string;
  figures: Figures;
  extra: Record<string, unknown>;
  /** Overrides of the report-level dimensions (prompt_suite rows are per model, quantization rows per method). */
  model?: string;
  quant?: string;
}

function timed(variant: string, timing: TimingBlock | null | undefined, extra: Record<string, unknown>): Variant {
  const { figures, rest } = splitTiming(timing);
  return { variant, figures, extra: { ...extra, timing: rest } };
}

/** A variant the report says failed: no figures, `failed: true` and its error in `extra`. */
function failedVariant(variant: string, error: string, extra: Record<string, unknown>): Variant {
  return { variant, figures: NO_FIGURES, extra: { ...extra, failed: true, error } };
}

function timedMethod(method: string, entry: { benchmark?: TimingBlock | null } & Record<string, unknown>): Variant {
  const { benchmark, ...figures } = entry;
  return timed(method, benchmark, figures);
}

/** A timing entry, or the failed variant it stands for. */
function timedOrFailed(variant: string, entry: TimingBlock | FailedVariant, extra: Record<string, unknown>): Variant {
  return isFailed(entry) ? failedVariant(variant, entry.error, { ...extra, ...entry.details }) : timed(variant, entry, extra);
}

function variantsOf(report: BenchmarkReport): Variant[] {
  switch (report.benchmark_type) {
    case "compilation":
      return Object.entries(report.backends).map(([backend, entry]) => {
        const { compilation, benchmark, ...other } = entry;
        const { success, compile_time_s, error, ...compilationRest } = compilation;
        const extra = {
          compile_success: success,
          compile_time_s,
          compile_error: error ?? null,
          compilation: compilationRest,
          runs: report.settings.runs,
          warmup_runs: report.settings.warmup_runs,
          ...other,
        };
        // Failed to compile, or compiled without a benchmark: a failed variant, the other backends are kept.
        if (!benchmark) {
          const why = error?.trim() || (success ? "no benchmark block for a backend that compiled" : "compilation failed");
          return failedVariant(backend, why, extra);
        }
        return timed(backend, benchmark, extra);
      });
    case "quantization":
      return Object.entries(report.quantization_methods).map(([method, entry]) => ({
        // The baseline is the unquantized model, which runs in its dtype.
        ...(isFailed(entry) ? failedVariant(method, entry.error, entry.details) : timedMethod(method, entry)),
        quant: method === "baseline" ? dtypeLabel(report.model.dtype) : method,
      }));
    case "kernel_optimization":
      return Object.entries(report.kernels).flatMap(([group, variants]) =>
        Object.entries(variants).map(([name, timing]) => timedOrFailed(`${group}/${name}`, timing, { kernel_group: group, kernel: name })),
      );
    case "attention_mechanism":
      return Object.entries(report.performance_results).map(([name, timing]) =>
        timedOrFailed(name, timing, { ...report.attention_configs[name], cross_comparison: report.cross_comparison[name] ?? null }),
      );
    case "memory_optimization": {
      const methods = new Set([...Object.keys(report.optimization_methods), ...Object.keys(report.memory_usage), ...Object.keys(report.compression_ratio)]);
      return [...methods].map((method) => {
        const { benchmark, error, ...details } = report.optimization_methods[method] ?? { benchmark: undefined, error: undefined };
        const extra = { compression_ratio: report.compression_ratio[method] ?? null, method: details };
        // A method that errored (an `error` and no benchmark) is a failed variant; its memory figure is still the report's.
        const variant = error?.trim() && !benchmark ? failedVariant(method, error.trim(), extra) : timed(method, benchmark, extra);
        // The method's own memory figure is the one the report lists for it.
        const memory = report.memory_usage[method];
        return memory === undefined ? variant : { ...variant, figures: { ...variant.figures, memory_peak_mb: memory } };
      });
    }
    case "model_compilation":
      return report.compilation_targets.map((target) => ({
        variant: target,
        figures: NO_FIGURES,
        extra: { compile_time_s: report.compilation_times[target] ?? null, optimization_levels: report.optimization_levels },
      }));
    case "inference_performance": {
      const { average_time_ms, tokens_per_second, ...summary } = report.performance_summary;
      return [
        {
          variant: "inference",
          figures: { ...NO_FIGURES, latency_mean_ms: average_time_ms, tokens_per_sec: tokens_per_second },
          extra: {
            ...summary,
            total_tokens: report.total_tokens,
            prompt_tokens: report.prompt_tokens ?? null,
            generations: report.generation_times.length,
            generation_times_ms: report.generation_times,
            test_scenarios: report.test_scenarios,
          },
        },
      ];
    }
    case "prompt_suite":
      return Object.entries(report.results).map(([model, result]) => {
        const { average_time_ms, ...rest } = result;
        const config = report.models.find((m) => m.model === model);
        return {
          variant: model,
          model,
          // The report's model block (when it describes this model) knows its quantization best.
          quant: report.model?.name === model ? modelQuant(report.model) : (quantFromModelName(model) ?? UNKNOWN),
          // Throughput is not in a prompt_suite report, so tokens_per_sec stays unknown.
          figures: { ...NO_FIGURES, latency_mean_ms: average_time_ms },
          extra: {
            ...rest,
            prompt_count: config?.prompt_count ?? report.prompt_count,
            completed: config?.completed ?? null,
            options: config?.options ?? null,
          },
        };
      });
    case "system_performance":
      // GPU memory in gpu_info is a snapshot, not a peak: memory_peak_mb stays unknown.
      return [
        {
          variant: "system",
          figures: NO_FIGURES,
          extra: { duration_minutes: report.duration_minutes, ...report.system_metrics, gpus: report.gpu_info.gpus },
        },
      ];
  }
}

/**
 * The quality figures a variant carries (a quantization method's `accuracy` and `loss`, a `perplexity` where a report
 * has one) as columns (sql/017). They stay in `extra` too, where rows written before the columns keep them.
 */
function qualityFigures(extra: Record<string, unknown>): Pick<BenchRunRow, "accuracy" | "loss" | "perplexity"> {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return { accuracy: num(extra.accuracy), loss: num(extra.loss), perplexity: num(extra.perplexity) };
}

/** Model fields that are columns already. */
const MODEL_COLUMNS = new Set(["name", "device", "quant", "dataset"]);

/** The rest of the model block (dtype, batch_size, seq_len, hyper-parameters) for `extra`. */
function modelExtra(model: ModelConfig | undefined): Record<string, unknown> | null {
  if (!model) return null;
  return Object.fromEntries(Object.entries(model).filter(([key]) => !MODEL_COLUMNS.has(key)));
}

function llmEventsOf(report: BenchmarkReport, runId: string, ts: string): LlmEventRow[] {
  const event = (model: string, tokensIn: number, tokensOut: number, latencyMs: number, errorMsg = ""): LlmEventRow => ({
    ts,
    event_id: uuidv5(`${report.benchmark_type}/${model}`, runId),
    run_id: runId,
    source: LLM_EVENT_SOURCE,
    model,
    operation: LLM_EVENT_OPERATION,
    tokens_in: tokensIn,
    tokens_out: tokensOut,
    latency_ms: Math.round(latencyMs),
    cost_usd: tokenCostUsd(model, tokensIn, tokensOut),
    status: "reported",
    error_msg: errorMsg,
  });
  switch (report.benchmark_type) {
    case "prompt_suite":
      return Object.entries(report.results).map(([model, r]) =>
        event(model, r.prompt_tokens ?? 0, r.tokens_generated, r.total_time_ms, r.success_rate < 1 ? `success_rate ${r.success_rate}` : ""),
      );
    case "inference_performance":
      // One event for the run: total_tokens were produced over all generations together.
      if (report.generation_times.length === 0) return [];
      return [
        event(
          report.model.name,
          report.prompt_tokens ?? 0,
          report.total_tokens,
          report.generation_times.reduce((sum, ms) => sum + ms, 0),
        ),
      ];
    default:
      return [];
  }
}

export function normalizeReport(report: BenchmarkReport, context: NormalizeContext): NormalizedReport {
  const runId = reportRunId(report);
  const ts = utcTimestamp(report.generated_at);
  const commitSha = report.commit_sha ?? context.commitSha;
  if (!commitSha) throw new Error("a report needs a commit_sha: in the report or passed with it");
  const sourcePath = context.sourcePath ?? "";
  const requestId = report.request_id ?? context.requestId ?? "";
  const pullRequest = report.pull_request ?? context.pullRequest ?? 0;
  const model = report.model?.name ?? UNKNOWN;
  const quant = modelQuant(report.model);
  const dataset = reportDataset(report);
  const device = report.model?.device ?? report.environment.device ?? UNKNOWN;
  const model_config = modelExtra(report.model);

  const variants = variantsOf(report);
  const bench_runs = variants.map((v): BenchRunRow => {
    const rowModel = v.model ?? model;
    return {
      ts,
      run_id: runId,
      commit_sha: commitSha,
      benchmark_type: report.benchmark_type,
      variant: v.variant,
      model: rowModel,
      quant: v.quant ?? quant,
      dataset,
      device,
      ...v.figures,
      cost_per_1k: rowModel === UNKNOWN ? null : costPer1k(rowModel),
      ...qualityFigures(v.extra),
      extra: JSON.stringify({ ...v.extra, model_config }),
      source_path: sourcePath,
      request_id: requestId,
      pull_request: pullRequest,
    };
  });

  return {
    run_id: runId,
    benchmark_type: report.benchmark_type,
    commit_sha: commitSha,
    ts,
    source_path: sourcePath,
    request_id: requestId,
    pull_request: pullRequest,
    bench_runs,
    llm_events: llmEventsOf(report, runId, ts),
    failed_variants: variants.filter((v) => v.extra.failed === true).map((v) => ({ variant: v.variant, error: String(v.extra.error) })),
  };
}
