import { z } from "zod";

/**
 * Banterhearts benchmark reports (docs/report-formats.md), one schema
 * per `benchmark_type`, joined as a discriminated union.
 *
 * Strict where the contract is precise (required figures, enumerated backends,
 * quantization methods, devices and mechanisms, number ranges); loose objects
 * everywhere else, so the extra keys real reports carry (`metadata`,
 * `backend`, model hyper-parameters...) pass through to `extra`.
 * Optional figures may be absent or `null` (Python writes `None` as `null`):
 * both mean "the report does not contain it".
 */

export const BENCHMARK_TYPES = [
  "compilation",
  "quantization",
  "kernel_optimization",
  "attention_mechanism",
  "memory_optimization",
  "model_compilation",
  "inference_performance",
  "prompt_suite",
  "system_performance",
] as const;
export type BenchmarkType = (typeof BENCHMARK_TYPES)[number];

export const DEVICES = ["cpu", "gpu", "cuda", "mps"] as const;
export const COMPILATION_BACKENDS = ["eager", "jit", "torch_compile", "onnx", "torch_trt", "triton"] as const;
export const QUANTIZATION_METHODS = ["baseline", "qat", "int8", "fp8", "int4", "dynamic", "static"] as const;
export const ATTENTION_MECHANISMS = ["mqa", "gqa", "sliding_window", "sparse", "standard"] as const;

const figure = z.number().min(0);
/** A figure the report may leave out (absent or null = unknown). */
const optionalFigure = figure.nullish();
const count = z.int().min(0);
const percent = z.number().min(0).max(100);
const name = z.string().min(1);

/**
 * ISO 8601 date-time. Banterhearts writes Python's naive `isoformat()`
 * (no zone, microseconds); those are accepted and read as UTC by the normaliser.
 */
export const isoDateTime = z.iso.datetime({ offset: true, local: true, error: "expected an ISO 8601 date-time" });
export const commitSha = z
  .string()
  .regex(/^[0-9a-fA-F]{40}$/, "expected a 40-hex commit sha")
  .transform((s) => s.toLowerCase());

/** Pattern of a bisection request id (a report's `request_id`, the X-Muse-Request-Id header, lib/bisection/requests.ts). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
export const requestId = z.string().regex(REQUEST_ID_PATTERN, "expected a request id: 1–100 characters of A–Z, a–z, 0–9, _ and -");

/** A pull-request number (a report's `pull_request`, the X-Muse-Pull-Request header): a positive integer that fits bench_runs' UInt32. */
export const PULL_REQUEST_MAX = 4294967295;
export const pullRequest = z
  .number()
  .int("expected a pull-request number: a positive integer")
  .min(1, "expected a pull-request number: a positive integer")
  .max(PULL_REQUEST_MAX, "expected a pull-request number: a positive integer");

/** Record keyed by names; at least one entry, so every report yields rows. */
function namedRecord<V extends z.ZodType>(value: V, what: string) {
  return z.record(name, value).refine((r) => Object.keys(r).length > 0, `expected at least one ${what}`);
}

/** Record whose keys the contract enumerates; an unknown key is reported at its own path. */
function enumRecord<V extends z.ZodType>(keys: readonly string[], value: V, what: string) {
  return namedRecord(value, what).check((ctx) => {
    for (const key of Object.keys(ctx.value)) {
      if (!keys.includes(key)) {
        ctx.issues.push({ code: "custom", input: key, path: [key], message: `unknown ${what} "${key}": expected one of ${keys.join(", ")}` });
      }
    }
  });
}

/** The "performance metrics" timing block. */
export const timingBlock = z.looseObject({
  mean_time_ms: figure,
  std_time_ms: optionalFigure,
  min_time_ms: optionalFigure,
  max_time_ms: optionalFigure,
  p50_time_ms: optionalFigure,
  p95_time_ms: optionalFigure,
  p99_time_ms: optionalFigure,
  throughput_tokens_per_sec: optionalFigure,
  memory_used_mb: optionalFigure,
  gpu_utilization_percent: optionalFigure,
  // Process CPU time can exceed 100% on several cores, so no upper bound.
  cpu_utilization_percent: optionalFigure,
});
export type TimingBlock = z.infer<typeof timingBlock>;

/**
 * A variant the run could not measure, as real reports carry it: an `error`
 * text where the figures would be (`{"error": "CUDA out of memory"}`, maybe
 * with nulls). Stored as a failed variant (figures NULL, `extra.failed`,
 * `extra.error`) while the report's other variants are ingested.
 */
export interface FailedVariant {
  failed: true;
  error: string;
  /** The rest of the entry, kept for `extra`. */
  details: Record<string, unknown>;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * `schema`, or a FailedVariant for an entry that has an `error` text and lacks
 * the figure `required` (an entry with its figures is measured, whatever else
 * it says). Anything else is validated by `schema`, with its own messages.
 */
export function failedOr<S extends z.ZodType>(schema: S, required: string) {
  return z.unknown().transform((value, ctx): z.output<S> | FailedVariant => {
    if (isPlainRecord(value) && typeof value.error === "string" && value.error.trim() !== "" && (value[required] === undefined || value[required] === null)) {
      const { error, ...details } = value;
      return { failed: true, error: error.trim().slice(0, 2_000), details };
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data as z.output<S>;
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: value } as z.core.$ZodRawIssue);
    return z.NEVER;
  });
}

export function isFailed(value: unknown): value is FailedVariant {
  return isPlainRecord(value) && value.failed === true && typeof value.error === "string" && "details" in value;
}

export const modelConfig = z.looseObject({
  name,
  device: z.enum(DEVICES),
  dtype: name,
  batch_size: z.int().positive(),
  seq_len: z.int().positive(),
  /** Not in the contract; read when present (seeded reports name their quantization here). */
  quant: name.nullish(),
  dataset: name.nullish(),
});
export type ModelConfig = z.infer<typeof modelConfig>;

const common = {
  generated_at: isoDateTime,
  version: z.literal("1.0"),
  environment: z.looseObject({
    python_version: z.string().nullish(),
    pytorch_version: z.string().nullish(),
    device: z.string().nullish(),
  }),
  tags: z.array(z.string()),
  commit_sha: commitSha.optional(),
  /** The bisection request the run answers (docs/report-formats.md); also given as the X-Muse-Request-Id header. */
  request_id: requestId.optional(),
  /** The pull request whose head the run measured (docs/report-formats.md); also given as the X-Muse-Pull-Request header. */
  pull_request: pullRequest.optional(),
  /** Not in the contract; read when present (else a `dataset:<name>` tag). */
  dataset: name.nullish(),
};

/**
 * A backend that failed to compile (`success: false`, an `error`, `benchmark:
 * null`), or compiled without a benchmark block, is a failed variant of the
 * report: stored with its error, while the backends that ran are ingested.
 */
const compilationBackend = z.looseObject({
  compilation: z.looseObject({
    success: z.boolean(),
    // A backend that failed to compile has no time.
    compile_time_s: figure.nullable(),
    error: z.string().nullish(),
  }),
  benchmark: timingBlock.nullish(),
});

export const compilationReport = z.looseObject({
  benchmark_type: z.literal("compilation"),
  ...common,
  model: modelConfig,
  settings: z.looseObject({
    runs: z.int().positive(),
    warmup_runs: count,
    backends: z.array(z.enum(COMPILATION_BACKENDS)),
  }),
  backends: enumRecord(COMPILATION_BACKENDS, compilationBackend, "backend"),
});

export const quantizationReport = z.looseObject({
  benchmark_type: z.literal("quantization"),
  ...common,
  model: modelConfig,
  quantization_methods: enumRecord(
    QUANTIZATION_METHODS,
    failedOr(
      z.looseObject({
        accuracy: z.number().min(0).max(1),
        loss: figure,
        model_size_bytes: count,
        benchmark: timingBlock.nullish(),
      }),
      "accuracy",
    ),
    "quantization method",
  ),
});

export const kernelOptimizationReport = z.looseObject({
  benchmark_type: z.literal("kernel_optimization"),
  ...common,
  model: modelConfig.optional(),
  kernels: namedRecord(namedRecord(failedOr(timingBlock, "mean_time_ms"), "kernel variant"), "kernel group"),
});

export const attentionMechanismReport = z
  .looseObject({
    benchmark_type: z.literal("attention_mechanism"),
    ...common,
    model: modelConfig,
    attention_configs: namedRecord(
      z.looseObject({
        mechanism: z.enum(ATTENTION_MECHANISMS),
        num_heads: z.int().positive(),
        head_dim: z.int().positive(),
        num_kv_heads: z.int().positive().nullish(),
        window_size: z.int().positive().nullish(),
        sparsity_ratio: z.number().min(0).max(1).nullish(),
        sparse_pattern: z.string().nullish(),
      }),
      "attention config",
    ),
    performance_results: namedRecord(failedOr(timingBlock, "mean_time_ms"), "performance result"),
    cross_comparison: z.record(name, z.record(name, z.number())),
  })
  .check((ctx) => {
    for (const key of Object.keys(ctx.value.performance_results)) {
      if (!(key in ctx.value.attention_configs)) {
        ctx.issues.push({ code: "custom", input: key, path: ["performance_results", key], message: `no attention_configs entry named "${key}"` });
      }
    }
  });

export const memoryOptimizationReport = z
  .looseObject({
    benchmark_type: z.literal("memory_optimization"),
    ...common,
    model: modelConfig,
    // Method details are free-form; a `benchmark` timing block is read when present.
    optimization_methods: z.record(name, z.looseObject({ benchmark: timingBlock.nullish(), error: z.string().nullish() })),
    memory_usage: z.record(name, figure),
    compression_ratio: z.record(name, z.number().positive()),
  })
  .refine((r) => Object.keys({ ...r.optimization_methods, ...r.memory_usage, ...r.compression_ratio }).length > 0, {
    message: "expected at least one optimization method",
    path: ["optimization_methods"],
  });

export const modelCompilationReport = z
  .looseObject({
    benchmark_type: z.literal("model_compilation"),
    ...common,
    model: modelConfig,
    compilation_targets: z.array(name).min(1),
    compilation_times: z.record(name, figure),
    optimization_levels: z.record(name, z.looseObject({})),
  })
  .check((ctx) => {
    const targets = ctx.value.compilation_targets;
    targets.forEach((target, i) => {
      if (targets.indexOf(target) !== i) {
        ctx.issues.push({ code: "custom", input: target, path: ["compilation_targets", i], message: `duplicate compilation target "${target}"` });
      }
    });
    for (const key of Object.keys(ctx.value.compilation_times)) {
      if (!targets.includes(key)) {
        ctx.issues.push({ code: "custom", input: key, path: ["compilation_times", key], message: `"${key}" is not in compilation_targets` });
      }
    }
  });

export const inferencePerformanceReport = z.looseObject({
  benchmark_type: z.literal("inference_performance"),
  ...common,
  model: modelConfig,
  test_scenarios: z.array(z.looseObject({})),
  generation_times: z.array(figure),
  total_tokens: count,
  /** Not in the contract; when a report states prompt tokens they become llm_events.tokens_in. */
  prompt_tokens: count.nullish(),
  performance_summary: z.looseObject({
    average_time_ms: figure,
    min_time_ms: figure,
    max_time_ms: figure,
    tokens_per_second: figure,
    total_scenarios: count.nullish(),
  }),
});

export const promptSuiteReport = z.looseObject({
  benchmark_type: z.literal("prompt_suite"),
  ...common,
  model: modelConfig.optional(),
  prompt_count: count,
  prompts: z.array(z.string()),
  models: z.array(
    z.looseObject({
      model: name,
      prompt_count: count,
      completed: count,
      options: z.looseObject({ temperature: z.number().min(0), top_p: z.number().min(0).max(1) }),
    }),
  ),
  results: namedRecord(
    z.looseObject({
      total_time_ms: figure,
      average_time_ms: figure,
      tokens_generated: count,
      success_rate: z.number().min(0).max(1),
      prompt_tokens: count.nullish(),
    }),
    "model result",
  ),
});

export const systemPerformanceReport = z.looseObject({
  benchmark_type: z.literal("system_performance"),
  ...common,
  model: modelConfig.optional(),
  duration_minutes: z.number().positive(),
  system_metrics: z.looseObject({
    cpu_avg_percent: percent,
    cpu_peak_percent: percent,
    memory_avg_percent: percent,
    memory_peak_percent: percent,
    gpu_temperature_avg_c: z.number().nullish(),
    gpu_temperature_peak_c: z.number().nullish(),
    gpu_power_avg_w: optionalFigure,
    gpu_power_peak_w: optionalFigure,
    gpu_utilization_avg_percent: percent.nullish(),
    gpu_utilization_peak_percent: percent.nullish(),
  }),
  gpu_info: z.looseObject({
    gpus: z.array(
      z.looseObject({
        index: count,
        name,
        memory_used_mb: figure,
        memory_total_mb: figure,
      }),
    ),
  }),
});

export const benchmarkReport = z.discriminatedUnion(
  "benchmark_type",
  [
    compilationReport,
    quantizationReport,
    kernelOptimizationReport,
    attentionMechanismReport,
    memoryOptimizationReport,
    modelCompilationReport,
    inferencePerformanceReport,
    promptSuiteReport,
    systemPerformanceReport,
  ],
  { error: (issue) => (issue.code === "invalid_union" ? `benchmark_type must be one of ${BENCHMARK_TYPES.join(", ")}` : undefined) },
);

export type CompilationReport = z.infer<typeof compilationReport>;
export type QuantizationReport = z.infer<typeof quantizationReport>;
export type KernelOptimizationReport = z.infer<typeof kernelOptimizationReport>;
export type AttentionMechanismReport = z.infer<typeof attentionMechanismReport>;
export type MemoryOptimizationReport = z.infer<typeof memoryOptimizationReport>;
export type ModelCompilationReport = z.infer<typeof modelCompilationReport>;
export type InferencePerformanceReport = z.infer<typeof inferencePerformanceReport>;
export type PromptSuiteReport = z.infer<typeof promptSuiteReport>;
export type SystemPerformanceReport = z.infer<typeof systemPerformanceReport>;
/** A validated report (commit_sha lower-cased). */
export type BenchmarkReport = z.infer<typeof benchmarkReport>;
/** What a producer writes (the seed generator's output type). */
export type BenchmarkReportInput = z.input<typeof benchmarkReport>;
