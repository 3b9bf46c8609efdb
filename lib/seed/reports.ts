import type { BenchmarkReportInput, BenchmarkType, TimingBlock } from "../ingest/reports/schemas";
import type { QuantEffect } from "./timeline";

/**
 * Realistic Banterhearts reports for sample data: every type of
 * report-formats.md, schema-valid, with numbers in plausible ranges for a
 * single RTX 4090 (fp16 decode is memory-bound: ~2 ms per billion parameters
 * per token), and some optional figures left out as real runs do.
 * Deterministic: all randomness comes from `opts.rng`.
 */

/** Models the sample data benchmarks; each has a price in BENCH_MODEL_PRICES. */
export const SAMPLE_MODELS = ["llama-3.1-8b", "mistral-7b", "qwen2.5-7b"] as const;

export interface GenerateReportOptions {
  generatedAt: Date;
  commitSha: string;
  model: string;
  /** Quantization the model runs with (e.g. "q4_k_m", "int8"); default fp16. */
  quant?: string;
  /** Latency multiplier, ~0.6–1.4: above 1 is slower. */
  performance: number;
  rng: () => number;
  /** Per-method effects of the releases the measured code contains (quantization reports: the matching method only). */
  quantEffects?: readonly QuantEffect[];
}

/**
 * The accuracy a model has on the sample's dataset, in points: a stable level per model (a measurement, not a
 * draw), 68–74 points.
 */
export function baselineAccuracyPoints(model: string): number {
  let h = 2166136261;
  for (const ch of model) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return 68 + ((h >>> 0) % 6000) / 1000;
}

/**
 * Each method's stable accuracy cost against the baseline (points) and loss rise: all within the 99 % gate (at 68–74
 * points, 1 % is 0.68–0.74 points), int4 the closest to it.
 */
export const METHOD_QUALITY = {
  baseline: { accuracyDrop: 0, lossRise: 0 },
  int8: { accuracyDrop: 0.3, lossRise: 0.015 },
  fp8: { accuracyDrop: 0.2, lossRise: 0.01 },
  int4: { accuracyDrop: 0.45, lossRise: 0.05 },
  dynamic: { accuracyDrop: 0.35, lossRise: 0.03 },
} as const;

type ReportOf<T extends BenchmarkType> = Extract<BenchmarkReportInput, { benchmark_type: T }>;

const GPU = "NVIDIA GeForce RTX 4090";
const GPU_MEMORY_MB = 24564;
const SEQ_LEN = 512;
const HOSTED_COMPARISON_MODEL = "gpt-4o-mini";

const BANTER_PROMPTS = [
  "Generate encouraging banter for a player who failed a mission",
  "Create celebratory text for defeating a boss",
  "Write excited commentary for finding rare loot",
  "Craft a witty remark after a photo-finish race",
  "Motivate a teammate before the final boss fight",
];
const BANTER_SCENARIOS = [
  { context: "player_died", tone: "encouraging", game_type: "rpg", player_level: 25 },
  { context: "boss_defeated", tone: "celebratory", game_type: "action", player_level: 50 },
  { context: "rare_item_drop", tone: "excited", game_type: "mmo", player_level: 75 },
  { context: "close_race_finish", tone: "witty", game_type: "racing", player_level: 12 },
  { context: "team_wipe", tone: "supportive", game_type: "shooter", player_level: 40 },
];

const round = (value: number, places = 3) => Number(value.toFixed(places));

/** Parameters in billions from a name like "llama-3.1-8b" or "mixtral-8x7b"; 7 when the name has none. */
function paramsBillions(model: string): number {
  const moe = /(\d+)x(\d+(?:\.\d+)?)b/i.exec(model);
  if (moe) return Number(moe[1]) * Number(moe[2]);
  const dense = /(\d+(?:\.\d+)?)b\b/i.exec(model);
  return dense ? Number(dense[1]) : 7;
}

/** Bytes per weight and relative decode cost of a quantization. */
function precision(quant: string | undefined): { bytesPerParam: number; speed: number } {
  const q = (quant ?? "fp16").toLowerCase();
  if (/^(i?q[2-4]|int4|awq|gptq|nf4)/.test(q)) return { bytesPerParam: 0.56, speed: 0.55 };
  if (/^(q5|q6)/.test(q)) return { bytesPerParam: 0.75, speed: 0.65 };
  if (/^(q8|int8|fp8)/.test(q)) return { bytesPerParam: 1.06, speed: 0.72 };
  if (q === "fp32") return { bytesPerParam: 4, speed: 1.9 };
  return { bytesPerParam: 2, speed: 1 };
}

class Gen {
  constructor(private readonly opts: GenerateReportOptions) {}
  get perf() {
    return this.opts.performance;
  }
  between(lo: number, hi: number) {
    return lo + this.opts.rng() * (hi - lo);
  }
  chance(p: number) {
    return this.opts.rng() < p;
  }
  int(lo: number, hi: number) {
    return Math.floor(this.between(lo, hi + 1));
  }
  /** ±5% run-to-run noise. */
  jitter() {
    return this.between(0.95, 1.05);
  }

  /** A timing block around `baseMs` (before the performance multiplier); p99 and memory sometimes missing. */
  timing(baseMs: number, options: { tokens?: number; memoryMb?: number; percentiles?: boolean } = {}): TimingBlock {
    const mean = baseMs * this.perf * this.jitter();
    const std = mean * this.between(0.03, 0.12);
    const block: TimingBlock = {
      mean_time_ms: round(mean, 4),
      std_time_ms: round(std, 4),
      min_time_ms: round(mean - 1.4 * std, 4),
      max_time_ms: round(mean + 3.2 * std, 4),
    };
    if (options.percentiles ?? true) {
      block.p50_time_ms = round(mean - 0.1 * std, 4);
      block.p95_time_ms = round(mean + 1.7 * std, 4);
      // Short runs do not report a p99.
      if (this.chance(0.7)) block.p99_time_ms = round(mean + 2.5 * std, 4);
    }
    if (options.tokens !== undefined) block.throughput_tokens_per_sec = round(options.tokens / (mean / 1000), 2);
    if (options.memoryMb !== undefined && this.chance(0.85)) block.memory_used_mb = round(options.memoryMb * this.between(0.98, 1.03), 1);
    return block;
  }
}

export function generateReport(type: BenchmarkType, opts: GenerateReportOptions): BenchmarkReportInput {
  const g = new Gen(opts);
  const params = paramsBillions(opts.model);
  const { bytesPerParam, speed } = precision(opts.quant);
  const weightsMb = (params * 1e9 * bytesPerParam) / 2 ** 20;
  /** fp16 decode on one GPU is bound by reading the weights once per token. */
  const decodeMsPerToken = 2 * params * speed;
  /** A 512-token prefill of the whole model (compute-bound). */
  const prefillMs = 6.5 * params * Math.min(speed * 1.3, 1.9);

  const common = {
    generated_at: opts.generatedAt.toISOString(),
    version: "1.0" as const,
    environment: { python_version: "3.11.9", pytorch_version: "2.4.1+cu121", device: "cuda", cuda_version: "12.1", gpu: GPU },
    commit_sha: opts.commitSha,
  };
  const model = {
    name: opts.model,
    device: "cuda" as const,
    dtype: "torch.float16",
    batch_size: 1,
    seq_len: SEQ_LEN,
    ...(opts.quant ? { quant: opts.quant } : {}),
  };

  switch (type) {
    case "compilation": {
      const speedups = { eager: 1, jit: 0.93, torch_compile: 0.71, onnx: 0.82, torch_trt: 0.56, triton: 0.77 } as const;
      const compileSeconds = { eager: 0, jit: 2.1, torch_compile: 38, onnx: 21, torch_trt: 145, triton: 52 } as const;
      const backendNames = Object.keys(speedups) as (keyof typeof speedups)[];
      const backends = Object.fromEntries(
        backendNames.map((backend) => {
          // TensorRT sometimes fails to build an engine for a new op set.
          if (backend === "torch_trt" && g.chance(0.15)) {
            return [
              backend,
              {
                backend,
                compilation: {
                  backend,
                  success: false,
                  compile_time_s: null,
                  error: "TensorRT engine build failed: unsupported op aten::scaled_dot_product_attention",
                },
              },
            ];
          }
          const compile_time_s = round(compileSeconds[backend] * (params / 8) * g.between(0.9, 1.15), 3);
          return [
            backend,
            {
              backend,
              compilation: { backend, success: true, compile_time_s, metadata: {}, error: null },
              benchmark: { backend, ...g.timing(prefillMs * speedups[backend], { tokens: SEQ_LEN, memoryMb: weightsMb * 1.12 }) },
            },
          ];
        }),
      );
      return {
        ...common,
        benchmark_type: "compilation",
        tags: ["compilation", "performance"],
        model,
        settings: { runs: 50, warmup_runs: 5, backends: backendNames },
        backends,
      };
    }

    case "quantization": {
      // Accuracy behaves like a measurement: a stable level per model and method, ±0.2 points from run to run.
      const baseAccuracy = baselineAccuracyPoints(opts.model);
      const baseLoss = 1.9 + (baseAccuracy - 68) / 20;
      const methods = {
        baseline: { ...METHOD_QUALITY.baseline, bytes: 2, speed: 1 },
        int8: { ...METHOD_QUALITY.int8, bytes: 1.06, speed: 0.72 },
        fp8: { ...METHOD_QUALITY.fp8, bytes: 1.06, speed: 0.7 },
        int4: { ...METHOD_QUALITY.int4, bytes: 0.56, speed: 0.55 },
        dynamic: { ...METHOD_QUALITY.dynamic, bytes: 1.1, speed: 0.8 },
      };
      const quantization_methods = Object.fromEntries(
        Object.entries(methods).map(([method, m]) => {
          const sizeBytes = Math.round(params * 1e9 * m.bytes);
          const effects = (opts.quantEffects ?? []).filter((e) => e.quant === method);
          const latency = effects.reduce((f, e) => f * e.latency, 1);
          const points = effects.reduce((p, e) => p + e.accuracyPoints, 0);
          const lossShift = effects.reduce((l, e) => l + (e.loss ?? 0), 0);
          const entry = {
            accuracy: round((baseAccuracy - m.accuracyDrop + points + g.between(-0.2, 0.2)) / 100, 5),
            loss: round(baseLoss + m.lossRise + lossShift + g.between(-0.005, 0.005), 4),
            model_size_bytes: sizeBytes,
            // Not every method is timed (accuracy-only runs).
            ...(g.chance(0.9) ? { benchmark: g.timing(2 * params * m.speed * latency, { tokens: 1, memoryMb: (sizeBytes / 2 ** 20) * 1.08 }) } : {}),
          };
          return [method, entry];
        }),
      );
      return { ...common, benchmark_type: "quantization", tags: ["quantization", "accuracy", "dataset:wikitext-2"], model, quantization_methods };
    }

    case "kernel_optimization": {
      const kernel = (ms: number) => g.timing(ms, { percentiles: g.chance(0.6) });
      return {
        ...common,
        benchmark_type: "kernel_optimization",
        tags: ["kernel", "optimization"],
        model,
        kernels: {
          attention: { torch: kernel(0.36), flash_attention: kernel(0.12), sdpa_mem_efficient: kernel(0.17) },
          tensor_core: { "512x512x512": kernel(0.011), "1024x1024x1024": kernel(0.019), "2048x2048x2048": kernel(0.121) },
          fusion: { baseline_linear_gelu: kernel(0.094), fused_linear_gelu: kernel(0.052) },
        },
      };
    }

    case "attention_mechanism": {
      const layerMs = 0.9 * (params / 8);
      const configs = {
        standard: { mechanism: "standard", num_heads: 32, head_dim: 128, factor: 1, kvHeads: 32 },
        mqa: { mechanism: "mqa", num_heads: 32, head_dim: 128, num_kv_heads: 1, factor: 0.78, kvHeads: 1 },
        gqa: { mechanism: "gqa", num_heads: 32, head_dim: 128, num_kv_heads: 8, factor: 0.85, kvHeads: 8 },
        sliding_window: { mechanism: "sliding_window", num_heads: 32, head_dim: 128, window_size: 256, factor: 0.72, kvHeads: 32 },
        sparse: { mechanism: "sparse", num_heads: 32, head_dim: 128, sparsity_ratio: 0.5, sparse_pattern: "strided", factor: 0.64, kvHeads: 32 },
      } as const;
      const attention_configs: ReportOf<"attention_mechanism">["attention_configs"] = {};
      const performance_results: Record<string, TimingBlock> = {};
      for (const [name, { factor, kvHeads, ...config }] of Object.entries(configs)) {
        attention_configs[name] = config;
        const kvCacheMb = (2 * kvHeads * 128 * SEQ_LEN * 2 * 32) / 2 ** 20;
        performance_results[name] = g.timing(layerMs * factor, { tokens: SEQ_LEN, memoryMb: kvCacheMb + 48 });
      }
      const standardMs = performance_results.standard.mean_time_ms;
      const cross_comparison = Object.fromEntries(
        Object.entries(performance_results).map(([name, t]) => [name, { speedup_vs_standard: round(standardMs / t.mean_time_ms, 4) }]),
      );
      return {
        ...common,
        benchmark_type: "attention_mechanism",
        tags: ["attention", "mechanism"],
        model,
        attention_configs,
        performance_results,
        cross_comparison,
      };
    }

    case "memory_optimization": {
      const kvMb = (2 * 32 * 8 * 128 * 4096 * 2) / 2 ** 20;
      const activationsMb = 1400 * (params / 8);
      const baseline = weightsMb + kvMb + activationsMb;
      const usage = {
        baseline,
        gradient_checkpointing: weightsMb + kvMb + activationsMb * 0.35,
        kv_cache_int8: weightsMb + kvMb * 0.52 + activationsMb,
        activation_offload: weightsMb + kvMb + activationsMb * 0.2,
        paged_attention: weightsMb + kvMb * 0.61 + activationsMb,
      };
      const memory_usage = Object.fromEntries(Object.entries(usage).map(([k, mb]) => [k, round(mb * g.between(0.99, 1.02), 1)]));
      // Offloading moves memory rather than compressing it; its ratio is sometimes not reported.
      const compression_ratio = Object.fromEntries(
        Object.entries(memory_usage)
          .filter(([k]) => k !== "activation_offload" || g.chance(0.5))
          .map(([k, mb]) => [k, round(memory_usage.baseline / mb, 4)]),
      );
      return {
        ...common,
        benchmark_type: "memory_optimization",
        tags: ["memory", "optimization"],
        model,
        optimization_methods: {
          baseline: {},
          gradient_checkpointing: { recompute: "full", segments: 4 },
          kv_cache_int8: { bits: 8, group_size: 64 },
          activation_offload: { target: "cpu", pinned: true },
          paged_attention: { block_size: 16 },
        },
        memory_usage,
        compression_ratio,
      };
    }

    case "model_compilation": {
      const compilation_targets = ["torchscript", "onnx", "tensorrt", "torch_compile"];
      const baseSeconds: Record<string, number> = { torchscript: 11, onnx: 42, tensorrt: 260, torch_compile: 64 };
      const compilation_times = Object.fromEntries(
        compilation_targets
          // A target whose build failed has no time.
          .filter((t) => t !== "tensorrt" || g.chance(0.8))
          .map((t) => [t, round(baseSeconds[t] * (params / 8) * opts.performance * g.jitter(), 2)]),
      );
      return {
        ...common,
        benchmark_type: "model_compilation",
        tags: ["compilation", "model"],
        model,
        compilation_targets,
        compilation_times,
        optimization_levels: {
          O0: { description: "no graph optimizations", passes: 0 },
          O1: { description: "constant folding, dead-code elimination", passes: 6 },
          O2: { description: "O1 plus operator fusion and layout optimization", passes: 14 },
        },
      };
    }

    case "inference_performance": {
      const scenarios = BANTER_SCENARIOS.slice(0, g.int(3, BANTER_SCENARIOS.length));
      const tokens = scenarios.map(() => g.int(120, 260));
      const generation_times = tokens.map((n) => round((prefillMs * 0.5 + n * decodeMsPerToken) * opts.performance * g.jitter(), 1));
      const total_tokens = tokens.reduce((a, b) => a + b, 0);
      const totalMs = generation_times.reduce((a, b) => a + b, 0);
      return {
        ...common,
        benchmark_type: "inference_performance",
        tags: ["inference", "performance", "dataset:banter-scenarios"],
        model,
        test_scenarios: scenarios,
        generation_times,
        total_tokens,
        performance_summary: {
          average_time_ms: round(totalMs / generation_times.length, 1),
          min_time_ms: Math.min(...generation_times),
          max_time_ms: Math.max(...generation_times),
          tokens_per_second: round(total_tokens / (totalMs / 1000), 2),
          total_scenarios: scenarios.length,
        },
      };
    }

    case "prompt_suite": {
      const models = g.chance(0.5) ? [opts.model, HOSTED_COMPARISON_MODEL] : [opts.model];
      const options = { temperature: 0.3, top_p: 0.9 };
      const runs = models.map((name) => {
        // A prompt occasionally times out.
        const completed = g.chance(0.15) ? BANTER_PROMPTS.length - 1 : BANTER_PROMPTS.length;
        const perToken = name === HOSTED_COMPARISON_MODEL ? 1000 / g.between(70, 110) : decodeMsPerToken * opts.performance;
        const firstToken = name === HOSTED_COMPARISON_MODEL ? g.between(300, 600) : prefillMs * 0.2;
        const tokens = Array.from({ length: completed }, () => g.int(90, 220));
        const times = tokens.map((n) => (firstToken + n * perToken) * g.jitter());
        const total = times.reduce((a, b) => a + b, 0);
        return { name, completed, tokens: tokens.reduce((a, b) => a + b, 0), total };
      });
      return {
        ...common,
        benchmark_type: "prompt_suite",
        tags: ["prompt", "suite", "dataset:banter-prompts"],
        model,
        prompt_count: BANTER_PROMPTS.length,
        prompts: BANTER_PROMPTS,
        models: runs.map((r) => ({ model: r.name, prompt_count: BANTER_PROMPTS.length, completed: r.completed, options })),
        results: Object.fromEntries(
          runs.map((r) => [
            r.name,
            {
              total_time_ms: round(r.total, 1),
              average_time_ms: round(r.total / r.completed, 1),
              tokens_generated: r.tokens,
              success_rate: round(r.completed / BANTER_PROMPTS.length, 4),
            },
          ]),
        ),
      };
    }

    case "system_performance": {
      const clamp = (v: number) => round(Math.min(100, Math.max(0, v)), 1);
      const cpuAvg = g.between(18, 40) * opts.performance;
      const gpuUtil = g.between(70, 92) / opts.performance;
      const memoryUsedMb = Math.min(GPU_MEMORY_MB, weightsMb * 1.15);
      const powerReported = g.chance(0.8);
      return {
        ...common,
        benchmark_type: "system_performance",
        tags: ["system", "performance"],
        model,
        duration_minutes: round(g.between(5, 30), 1),
        system_metrics: {
          cpu_avg_percent: clamp(cpuAvg),
          cpu_peak_percent: clamp(cpuAvg + g.between(15, 35)),
          memory_avg_percent: clamp(g.between(35, 55)),
          memory_peak_percent: clamp(g.between(58, 80)),
          gpu_temperature_avg_c: round(g.between(58, 68), 1),
          gpu_temperature_peak_c: round(g.between(70, 80), 1),
          // Older drivers do not expose power draw.
          ...(powerReported ? { gpu_power_avg_w: round(g.between(250, 330), 1), gpu_power_peak_w: round(g.between(360, 440), 1) } : {}),
          gpu_utilization_avg_percent: clamp(gpuUtil),
          gpu_utilization_peak_percent: clamp(gpuUtil + g.between(5, 12)),
        },
        gpu_info: {
          gpus: [{ index: 0, name: GPU, memory_used_mb: round(memoryUsedMb, 0), memory_total_mb: GPU_MEMORY_MB, driver_version: "550.54.15" }],
        },
      };
    }
  }
}
