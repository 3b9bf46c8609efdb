import { z } from "zod";
import { BASELINE_VARIANT, DEFAULT_ACCURACY_GATES, gateFraction, measuredSeries, type AccuracyGates, type AttributedChange, type Attribution } from "./changes";
import { seriesId, seriesLabel, type Series, type SeriesKey } from "./series";

/**
 * Latency against accuracy per model (docs/quality.md, issue 23 item 3): for each quantization configuration whose
 * accuracy has a `baseline`, every method's latest segment means — p95 latency and accuracy in points — its ratio to
 * the same run's baseline accuracy, its gate, and, for a trade-off or a gate breach the story tells, the move from
 * before to after. Stored in the facts (`quality`) and the episode's front-matter; drawn by
 * components/charts/TradeoffChart.tsx. Pure: no I/O.
 *
 * "Latest segment" is the detector's: the runs after a series' last kept change (all its runs when it has none),
 * bisection runs left out (they measured old code), so a noisy last run never moves a point.
 */

export const qualityPoint = z.object({
  /** The report's method (variant): int4, int8, …, or `baseline`. */
  method: z.string(),
  /** Its quantization column (the baseline's is the model's dtype, e.g. fp16). */
  quant: z.string(),
  baseline: z.boolean(),
  /** Mean p95 latency (ms) of the latest segment of the method's p95 series. */
  latency_p95_ms: z.number(),
  /** Mean accuracy (points) of the latest segment of the method's accuracy series. */
  accuracy: z.number(),
  /** Mean over the latest segment's runs of accuracy / the same run's baseline accuracy (fraction); null for the baseline. */
  ratio: z.number().nullable(),
  /** The method's gate (fraction of the baseline's accuracy); null for the baseline. */
  gate: z.number().nullable(),
  below_gate: z.boolean(),
  /** Runs of the latest accuracy segment. */
  runs: z.number().int().min(0),
});
export type QualityPoint = z.infer<typeof qualityPoint>;

const position = z.object({ latency_p95_ms: z.number(), accuracy: z.number() });

/** A told event's move of one method: segment means before and after its commit. */
export const qualityMove = z.object({
  method: z.string(),
  /** The story's event number (facts `event.<n>.…`). */
  event_n: z.number().int().min(1),
  commit_sha: z.string(),
  kind: z.enum(["tradeoff", "gate_breach"]),
  before: position,
  after: position,
  /** The p95 latency did not change at the event (the speed side was another metric): before and after share the latest level. */
  latency_unchanged: z.boolean().default(false),
});
export type QualityMove = z.infer<typeof qualityMove>;

export const qualityModel = z.object({
  /** "quantization llama-3.1-8b (wikitext, cuda)" */
  label: z.string(),
  benchmark_type: z.string(),
  model: z.string(),
  dataset: z.string(),
  device: z.string(),
  /** The baseline's quantization (e.g. fp16). */
  baseline: z.string(),
  /** Latest segment mean of the baseline's accuracy (points): the gate lines are gate × this. */
  baseline_accuracy: z.number(),
  points: z.array(qualityPoint),
  moves: z.array(qualityMove).default([]),
});
export type QualityModel = z.infer<typeof qualityModel>;

/** At most this many models are kept (those with a move or a method below its gate first). */
export const MAX_QUALITY_MODELS = 6;

/** A story event as buildQuality needs it: its number, commit and members (the stored event's changes). */
export interface QualityEvent {
  n: number;
  commit_sha: string;
  tradeoff: boolean;
  gate_breached: boolean;
  lead_metric: string;
  lead_label: string;
  members: AttributedChange[];
}

export interface QualityInput {
  /** Series as loaded (lib/analysis/series.ts loadSeries); only quantization configurations with a baseline are used. */
  series: Series[];
  attribution: Attribution;
  /** The detector's kept changes (their `after.n` marks each series' latest segment). */
  changes: AttributedChange[];
  events?: QualityEvent[];
  gates?: AccuracyGates;
}

const configKey = (k: Pick<SeriesKey, "benchmark_type" | "model" | "dataset" | "device">) => [k.benchmark_type, k.model, k.dataset, k.device].join("|");
const methodKey = (k: Pick<SeriesKey, "variant" | "quant">) => `${k.variant}|${k.quant}`;
const meanOf = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const r = (v: number, d = 6) => Number(v.toFixed(d));

export function buildQuality(input: QualityInput): QualityModel[] {
  const gates = input.gates ?? DEFAULT_ACCURACY_GATES;
  // Configurations whose accuracy has a baseline, and their accuracy and p95 series.
  const withBaseline = new Set(input.series.filter((s) => s.key.metric === "accuracy" && s.key.variant === BASELINE_VARIANT).map((s) => configKey(s.key)));
  if (withBaseline.size === 0) return [];
  const wanted = input.series.filter((s) => withBaseline.has(configKey(s.key)) && (s.key.metric === "accuracy" || s.key.metric === "latency_p95_ms"));
  const measured = measuredSeries(wanted, input.attribution);
  // The latest change of each series (changes of one series are in step order).
  const lastChange = new Map<string, AttributedChange>();
  for (const c of input.changes) lastChange.set(seriesId(c.key), c);
  const latest = (s: Series) => {
    const c = lastChange.get(seriesId(s.key));
    const n = c ? Math.min(c.after.n, s.points.length) : s.points.length;
    return s.points.slice(s.points.length - n);
  };

  const byConfig = new Map<string, Series[]>();
  for (const s of measured) if (s.points.length) byConfig.set(configKey(s.key), [...(byConfig.get(configKey(s.key)) ?? []), s]);

  const models: QualityModel[] = [];
  for (const [key, list] of byConfig) {
    const baseAcc = list.find((s) => s.key.metric === "accuracy" && s.key.variant === BASELINE_VARIANT);
    if (!baseAcc) continue;
    const baseByRun = new Map(baseAcc.points.map((p) => [p.run_id, p.value]));
    const baselineAccuracy = meanOf(latest(baseAcc).map((p) => p.value));
    if (baselineAccuracy === null) continue;
    const methods = new Map<string, { acc?: Series; p95?: Series }>();
    for (const s of list) {
      const m = methods.get(methodKey(s.key)) ?? {};
      if (s.key.metric === "accuracy") m.acc = s;
      else m.p95 = s;
      methods.set(methodKey(s.key), m);
    }
    const points: QualityPoint[] = [];
    const latencyOf = new Map<string, number>();
    for (const { acc, p95 } of methods.values()) {
      if (!acc || !p95) continue;
      const accLatest = latest(acc);
      const accuracy = meanOf(accLatest.map((p) => p.value));
      const latency = meanOf(latest(p95).map((p) => p.value));
      if (accuracy === null || latency === null) continue;
      const isBaseline = acc.key.variant === BASELINE_VARIANT;
      const ratio = isBaseline
        ? null
        : meanOf(
            accLatest.flatMap((p) => {
              const b = baseByRun.get(p.run_id);
              return b !== undefined && b > 0 ? [p.value / b] : [];
            }),
          );
      const gate = isBaseline ? null : gateFraction(gates, acc.key.variant);
      latencyOf.set(acc.key.variant, latency);
      points.push({
        method: acc.key.variant,
        quant: acc.key.quant,
        baseline: isBaseline,
        latency_p95_ms: r(latency, 3),
        accuracy: r(accuracy, 4),
        ratio: ratio === null ? null : r(ratio),
        gate,
        below_gate: ratio !== null && gate !== null && ratio < gate,
        runs: accLatest.length,
      });
    }
    if (points.filter((p) => !p.baseline).length === 0) continue;
    // The baseline first, then methods by name.
    points.sort((a, b) => Number(b.baseline) - Number(a.baseline) || a.method.localeCompare(b.method));
    const k = baseAcc.key;
    models.push({
      label: seriesLabel({ ...k, quant: "", variant: "" }),
      benchmark_type: k.benchmark_type,
      model: k.model,
      dataset: k.dataset,
      device: k.device,
      baseline: k.quant,
      baseline_accuracy: r(baselineAccuracy, 4),
      points,
      moves: movesOf(key, input.events ?? [], latencyOf),
    });
  }
  const weight = (m: QualityModel) => (m.moves.length > 0 ? 2 : 0) + (m.points.some((p) => p.below_gate) ? 1 : 0);
  return models.sort((a, b) => weight(b) - weight(a) || a.label.localeCompare(b.label)).slice(0, MAX_QUALITY_MODELS);
}

/**
 * The moves of a configuration: for each told event whose lead is an accuracy change of one of its methods (a
 * trade-off, or a gate breach), the accuracy segment means before → after and the p95 latency's, from the event's p95
 * change of the same method; when p95 did not change (the speed side was p99, mean or tokens/s), both ends take the
 * method's latest p95 level and the arrow is vertical.
 */
function movesOf(config: string, events: QualityEvent[], latencyOf: Map<string, number>): QualityMove[] {
  const moves: QualityMove[] = [];
  for (const e of events) {
    if (!e.tradeoff && !e.gate_breached) continue;
    const lead =
      e.members.find((c) => c.key.metric === "accuracy" && c.label === e.lead_label && e.lead_metric === "accuracy") ??
      e.members.find((c) => c.key.metric === "accuracy" && c.kind === "regression");
    if (!lead || configKey(lead.key) !== config || lead.key.variant === BASELINE_VARIANT) continue;
    const p95 = e.members.find((c) => c.key.metric === "latency_p95_ms" && configKey(c.key) === config && methodKey(c.key) === methodKey(lead.key));
    const level = latencyOf.get(lead.key.variant);
    if (!p95 && level === undefined) continue;
    moves.push({
      method: lead.key.variant,
      event_n: e.n,
      commit_sha: e.commit_sha,
      kind: e.tradeoff ? "tradeoff" : "gate_breach",
      before: { latency_p95_ms: r(p95 ? p95.before.mean : level!, 3), accuracy: r(lead.before.mean, 4) },
      after: { latency_p95_ms: r(p95 ? p95.after.mean : level!, 3), accuracy: r(lead.after.mean, 4) },
      latency_unchanged: !p95,
    });
  }
  return moves;
}
