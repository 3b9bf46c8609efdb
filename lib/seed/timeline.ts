/**
 * The sample world's performance story, shared by the Banterhearts reports and
 * the Banterpacks sessions so that correlations exist to be found: releases
 * change how fast the LLM backend is, and users feel it.
 *
 * A factor of 1 is the baseline; 1.3 means 30 % slower.
 */

export interface Release {
  /** Position in the sample window, 0 = start, 1 = now. */
  at: number;
  /** Multiplies the factor from then on. */
  factor: number;
  message: string;
  files: string[];
  /** An effect on one quantization method only (the matching variant of quantization reports), on top of `factor`. */
  quant?: QuantEffect;
}

/**
 * What a release does to one quantization method: its latency is multiplied by `latency` and its accuracy moves by
 * `accuracyPoints` (points: 0.01 of accuracy), its loss by `loss`. The other methods, and every other report, are
 * untouched.
 */
export interface QuantEffect {
  quant: string;
  latency: number;
  accuracyPoints: number;
  loss?: number;
}

export const HEARTS_RELEASES: readonly Release[] = [
  { at: 0.3, factor: 0.8, message: "perf(quant): enable fused INT8 GEMM kernels", files: ["banterhearts/kernels/int8_gemm.py", "banterhearts/quant/int8.py"] },
  { at: 0.62, factor: 1.4, message: "refactor(attention): route decode through the generic SDPA path", files: ["banterhearts/attention/dispatch.py"] },
  {
    at: 0.8,
    factor: 0.85,
    message: "fix(attention): restore flash-attention for decode",
    files: ["banterhearts/attention/dispatch.py", "banterhearts/attention/flash.py"],
  },
  // The planted trade-off (docs/quality.md): int4 about 20 % faster, 1.5 accuracy points lower, below the 99 % gate.
  {
    at: 0.47,
    factor: 1,
    message: "perf(quant): faster int4 dequantisation",
    files: ["banterhearts/quant/int4.py", "banterhearts/kernels/dequant.py"],
    quant: { quant: "int4", latency: 0.8, accuracyPoints: -1.5, loss: 0.06 },
  },
];

export function releaseFactor(position: number, releases: readonly Release[] = HEARTS_RELEASES): number {
  return releases.filter((r) => position >= r.at).reduce((f, r) => f * r.factor, 1);
}

/** Shared daily load cycle: both systems are busier on some days. */
export function loadFactor(time: Date): number {
  const day = time.getTime() / 86_400_000;
  return 1 + 0.06 * Math.sin((2 * Math.PI * day) / 7);
}

export function performanceAt(time: Date, from: Date, to: Date): number {
  const position = (time.getTime() - from.getTime()) / Math.max(1, to.getTime() - from.getTime());
  return releaseFactor(position) * loadFactor(time);
}
