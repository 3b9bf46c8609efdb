import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { SPEED_METRICS, shapeFields, shapeOf, sinceLookbackStart, type AttributedChange } from "../analysis/changes";
import { SPEED_SIDE_ALPHA } from "../analysis/speed-side";
import { changeShapeColumns, type ChangeShape } from "../clickhouse/tables";
import { HIGHER_IS_WORSE, seriesId, seriesLabel, type SeriesKey, type SeriesMetric } from "../analysis/series";

/**
 * Events and their lifecycle, in one place: the status page, GET /api/changes,
 * the open-regressions metric, bisection and the stories all read what this
 * module stores in `bench_events`.
 *
 * An event is a change across benchmark series at one place in Banterhearts'
 * history. Its place is a range of code commits between two measured commits
 * (one commit when every commit was measured or bisection has narrowed it;
 * none when only bots and docs committed in between — a `no_code` event, never
 * blamed on a commit).
 *
 * Identity: an event's id is derived from the range it was first found in and
 * its direction. A later council run whose change overlaps a stored event's
 * range in the same direction keeps the stored id, so the id survives the
 * detector moving a change by a run, and bisection (which narrows
 * `blamed_sha`, not the range the id was made from).
 *
 * Lifecycle of a regression:
 * - open, until a later improvement moves one of its series back (the lead
 *   series if it can, else the first of its series that moved back);
 * - then the recovered fraction f = (after − fixed level) / (after − before) of
 *   that series, with a delta-method 95 % interval from the three segment
 *   means (independent runs assumed): *fixed* when the interval reaches 100 %,
 *   *partly fixed* (recovered f, the rest still open) otherwise;
 * - a regression that comes back in a fixed event's series after its fix is a
 *   new event with `returns_of` naming the old one.
 *
 * Shapes (docs/change-points.md "Kinds"): an event is of one shape — steps,
 * drifts or spread changes — grouped only with changes of its shape and fixed
 * only by a later event of its shape going the other way (a spread regression
 * by a later spread decrease; the recovered share is then measured on the log
 * of the noise ratio, for a drift on its slope). Drifts and spread changes are
 * never bisected: a drift has no one commit where it jumps, and a spread
 * change's runs say little about a level at the range's commits. A drift that
 * began before the lookback's first run has no range (range_from_sha '') and
 * keeps its stored place while it goes on.
 */

const EVENT_NAMESPACE = "0f6c2a8e-4b1d-4e7a-9c3f-5a6b7c8d9e01";

export const EVENT_KINDS = ["regression", "improvement", "no_code"] as const;
export const EVENT_STATES = ["open", "partly_fixed", "fixed", "kept", "environment", "withdrawn"] as const;
export const BISECTION_STATUSES = ["", "bisecting", "bisected", "stuck"] as const;
/** A maintainer's word on an event (lib/triage, docs/triage.md): '' none; expected and invalid are not open. */
export const TRIAGE_STATES = ["", "expected", "invalid", "ack"] as const;
export type TriageState = (typeof TRIAGE_STATES)[number];

const timestamp = z.string().transform((v) => new Date(v.includes("T") ? v : `${v.replace(" ", "T")}Z`).toISOString());
const nullableNumber = z.number().nullable();

export const benchEventRow = z.object({
  event_id: z.string(),
  first_detected_at: timestamp,
  updated_at: timestamp,
  run_id: z.string(),
  kind: z.enum(EVENT_KINDS),
  state: z.enum(EVENT_STATES),
  range_from_sha: z.string(),
  range_to_sha: z.string(),
  range_method: z.enum(["graph", "time"]),
  code_commits: z.array(z.string()),
  commit_ts: timestamp,
  blamed_sha: z.string(),
  bisection_status: z.enum(BISECTION_STATUSES),
  bisection_steps: z.number().int().min(0),
  bisection_steps_left: z.number().int().min(0),
  bisection_extra_runs: z.number().int().min(0),
  bisection_note: z.string(),
  benchmark_type: z.string(),
  model: z.string(),
  quant: z.string(),
  variant: z.string(),
  dataset: z.string(),
  device: z.string(),
  metric: z.string(),
  label: z.string(),
  change_pct: z.number(),
  ci_low_pct: z.number(),
  ci_high_pct: z.number(),
  q_value: z.number(),
  mean_before: z.number(),
  mean_after: z.number(),
  stdev_before: z.number(),
  stdev_after: z.number(),
  n_before: z.number().int().min(0),
  n_after: z.number().int().min(0),
  series_changed: z.number().int().min(0),
  fixed_by_event_id: z.string(),
  fixed_by_sha: z.string(),
  recovered_pct: nullableNumber,
  recovered_ci_low: nullableNumber,
  recovered_ci_high: nullableNumber,
  returns_of: z.string(),
  // Triage (sql/016, lib/triage): the effective word of the event_triage log, kept across detections.
  triage: z.enum(TRIAGE_STATES).default(""),
  triage_reason: z.string().default(""),
  triage_actor: z.string().default(""),
  triage_source: z.string().default(""),
  triage_at: timestamp.nullable().default(null),
  /** A maintainer's `blame <sha>`: overrides bisection ('' none). */
  blame_sha: z.string().default(""),
  blame_actor: z.string().default(""),
  blame_reason: z.string().default(""),
  // Accuracy gate (sql/018, docs/quality.md): where the event's quantization method stands against its gate, from the
  // segment means of its accuracy series around the change; NULL / false / '' for events without an accuracy change.
  gate_method: z.string().default(""),
  gate_baseline: z.string().default(""),
  gate_fraction: nullableNumber.default(null),
  gate_ratio_before: nullableNumber.default(null),
  gate_ratio_after: nullableNumber.default(null),
  /** The change took the method from at or above its gate to below it: a quality regression even when nothing else moved. */
  gate_breached: z.boolean().default(false),
  /** Faster and less accurate at the same place: one trade-off event (its lead is the accuracy change). */
  tradeoff: z.boolean().default(false),
  tradeoff_latency_metric: z.string().default(""),
  tradeoff_latency_label: z.string().default(""),
  /** The latency change of the trade-off (negative: faster), percent. */
  tradeoff_latency_pct: nullableNumber.default(null),
  /** The accuracy change of the trade-off, in points (negative: less accurate). */
  tradeoff_accuracy_points: nullableNumber.default(null),
  // The shape of the event's changes (sql/020, docs/change-points.md): step, drift or spread; its lead's size in its own
  // terms. Rows written before are steps. change_pct is, for a drift, its change over the stretch; for a spread change,
  // (ratio − 1) × 100 of the noise deviation.
  ...changeShapeColumns,
});
export type BenchEventRow = z.infer<typeof benchEventRow>;

/** An event as a council run builds it: the stored row plus its member changes (not stored). */
export interface BenchEvent extends BenchEventRow {
  changes: AttributedChange[];
  /** Series ids of the members, for linking fixes and returns. */
  series: string[];
}

/** A step event keeps the id it had before shapes; a drift or spread event at the same place is another event. */
export function eventId(rangeFrom: string, rangeTo: string, direction: "worse" | "better", shape: ChangeShape = "step"): string {
  return uuidv5(`${rangeFrom}..${rangeTo}:${direction}${shape === "step" ? "" : `:${shape}`}`, EVENT_NAMESPACE);
}

/** A benchmark configuration: a series without its metric. */
const configurationId = (k: Pick<SeriesKey, "benchmark_type" | "model" | "quant" | "variant" | "dataset" | "device">) =>
  [k.benchmark_type, k.model, k.quant, k.variant, k.dataset, k.device].join("|");

const direction = (c: Pick<AttributedChange, "kind">) => (c.kind === "regression" ? "worse" : "better");
/** A stored event's lead series is this change's series. */
const sameSeries = (e: Pick<BenchEventRow, "metric" | "benchmark_type" | "model" | "quant" | "variant" | "dataset" | "device">, c: AttributedChange) =>
  e.metric === c.key.metric && configurationId(e) === configurationId(c.key);

/** The same method of the same benchmark and model: the two sides of a trade-off. */
const sameMethod = (a: AttributedChange, b: AttributedChange) =>
  a.key.benchmark_type === b.key.benchmark_type && a.key.model === b.key.model && a.key.variant === b.key.variant && a.key.quant === b.key.quant;
/** A: an accuracy regression, b: a speed-up of the same method — faster and less accurate. */
const tradeoffPair = (a: AttributedChange, b: AttributedChange) =>
  shapeOf(a) === "step" &&
  shapeOf(b) === "step" &&
  a.key.metric === "accuracy" &&
  a.kind === "regression" &&
  SPEED_METRICS.includes(b.key.metric) &&
  b.kind === "improvement" &&
  sameMethod(a, b);

/**
 * How large a change is in its own shape's terms: a step's relative size, a drift's slope, a spread change's log
 * ratio (twice as noisy and half as noisy are as large). Picks an event's lead.
 */
const sizeOf = (c: AttributedChange) =>
  c.drift ? Math.abs(c.drift.slope_pct_per_run) : c.spread ? Math.abs(Math.log(c.spread.ratio)) : Math.abs(c.change_pct);

/**
 * A drift's or spread change's size as notices tell it (English, plain text): "creeping +0.41 % per run (95 % interval
 * +0.38 % to +0.44 % per run)", "2.04× as noisy (95 % interval 1.62× to 2.57×)"; undefined for a step (its change_pct).
 */
export function shapeSizeText(
  e: Pick<BenchEventRow, "shape" | "slope_pct_per_run" | "slope_ci_low" | "slope_ci_high" | "spread_ratio" | "spread_ci_low" | "spread_ci_high">,
): string | undefined {
  const pct = (v: number) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(2)} %`;
  const times = (v: number) => `${v.toFixed(2)}×`;
  if (e.shape === "drift" && e.slope_pct_per_run !== null) {
    const ci = e.slope_ci_low !== null && e.slope_ci_high !== null ? ` (95 % interval ${pct(e.slope_ci_low)} to ${pct(e.slope_ci_high)} per run)` : "";
    return `creeping ${pct(e.slope_pct_per_run)} per run${ci}`;
  }
  if (e.shape === "spread" && e.spread_ratio !== null) {
    const ci = e.spread_ci_low !== null && e.spread_ci_high !== null ? ` (95 % interval ${times(e.spread_ci_low)} to ${times(e.spread_ci_high)})` : "";
    return `${times(e.spread_ratio)} as noisy${ci}`;
  }
  return undefined;
}

/** A drift that began before the first run of the lookback: blamed on no commit, placed nowhere. */
export const isUnplaced = (e: Pick<BenchEventRow, "shape" | "range_from_sha">) => e.shape === "drift" && e.range_from_sha === "";

/** Gate and trade-off fields of an event with its members (lib/analysis/changes.ts gateCheck; docs/quality.md). */
export function qualityFields(members: AttributedChange[], lead: AttributedChange): QualityFields {
  const gated = members.filter((c) => c.gate);
  const gateOf = gated.find((c) => c.gate!.breached) ?? (lead.gate ? lead : gated[0]);
  const g = gateOf?.gate;
  const fields: QualityFields = {
    ...NO_QUALITY,
    ...(g
      ? {
          gate_method: g.method,
          gate_baseline: g.baseline_quant,
          gate_fraction: g.fraction,
          gate_ratio_before: g.ratio_before,
          gate_ratio_after: g.ratio_after,
          gate_breached: g.breached,
        }
      : {}),
  };
  if (lead.key.metric !== "accuracy" || lead.kind !== "regression") return fields;
  // The speed side: the method's p95 asked at this one split, between the family's changes (lib/analysis/speed-side.ts),
  // in each model the event holds; the clearest told, its p-value Bonferroni-adjusted over them. It is asked whether
  // or not the search found a speed change here, because a speed series' own segments can span a release it missed;
  // the speed changes the search found are the fallback (the p95 change preferred, then the largest speed-up).
  const asked = members.filter((c) => c.speed_side && c.key.metric === "accuracy" && c.kind === "regression");
  const best = [...asked].sort((a, b) => a.speed_side!.p_adjusted - b.speed_side!.p_adjusted)[0];
  const side = best?.speed_side;
  if (side && side.p_adjusted <= SPEED_SIDE_ALPHA && side.change_pct < 0)
    return {
      ...fields,
      tradeoff: true,
      tradeoff_latency_metric: side.metric,
      tradeoff_latency_label: side.label,
      tradeoff_latency_pct: side.change_pct,
      tradeoff_accuracy_points: best.after.mean - best.before.mean,
    };
  const faster = members.filter((c) => tradeoffPair(lead, c));
  if (faster.length === 0) return fields;
  const speed = [...faster].sort(
    (a, b) => Number(b.key.metric === "latency_p95_ms") - Number(a.key.metric === "latency_p95_ms") || Math.abs(b.change_pct) - Math.abs(a.change_pct),
  )[0];
  // tokens/s up is faster: told as the latency it saves (−x %), so "faster" is always a negative percent.
  const latencyPct = speed.key.metric === "tokens_per_sec" ? -speed.change_pct : speed.change_pct;
  return {
    ...fields,
    tradeoff: true,
    tradeoff_latency_metric: speed.key.metric,
    tradeoff_latency_label: seriesLabel(speed.key),
    tradeoff_latency_pct: latencyPct,
    tradeoff_accuracy_points: lead.after.mean - lead.before.mean,
  };
}

export type QualityFields = Pick<
  BenchEventRow,
  | "gate_method"
  | "gate_baseline"
  | "gate_fraction"
  | "gate_ratio_before"
  | "gate_ratio_after"
  | "gate_breached"
  | "tradeoff"
  | "tradeoff_latency_metric"
  | "tradeoff_latency_label"
  | "tradeoff_latency_pct"
  | "tradeoff_accuracy_points"
>;
export const NO_QUALITY: QualityFields = {
  gate_method: "",
  gate_baseline: "",
  gate_fraction: null,
  gate_ratio_before: null,
  gate_ratio_after: null,
  gate_breached: false,
  tradeoff: false,
  tradeoff_latency_metric: "",
  tradeoff_latency_label: "",
  tradeoff_latency_pct: null,
  tradeoff_accuracy_points: null,
};

/**
 * Groups the changes into events: changes in the same direction between the same two measured commits are one
 * event; so are changes whose code-commit ranges overlap (series measured on different cadences narrowing one
 * change). A change with no code commit in its range groups only with changes between the same two runs' commits.
 */
export function groupIntoEvents(changes: AttributedChange[], stored: BenchEventRow[], context: { now: Date; runId: string }): BenchEvent[] {
  const parent = changes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const suspects = changes.map((c) => new Set(c.candidates));
  for (let i = 0; i < changes.length; i++) {
    for (let j = i + 1; j < changes.length; j++) {
      if (direction(changes[i]) !== direction(changes[j]) || shapeOf(changes[i]) !== shapeOf(changes[j])) continue;
      const samePair = changes[i].previous_sha === changes[j].previous_sha && changes[i].commit_sha === changes[j].commit_sha;
      const overlap = [...suspects[i]].some((sha) => suspects[j].has(sha));
      // One benchmark configuration moving the same way in two adjacent nightly ranges (one metric's change placed a
      // night later than another's, where a run is missing or noisy): one event over both ranges, which bisection
      // searches together, rather than a second event blamed on the next night's commit.
      const adjacent =
        configurationId(changes[i].key) === configurationId(changes[j].key) &&
        (changes[i].previous_sha === changes[j].commit_sha || changes[j].previous_sha === changes[i].commit_sha);
      if (samePair || overlap || adjacent) parent[find(i)] = find(j);
    }
  }
  // Faster and less accurate at the same place (docs/quality.md): a method's accuracy regression and its speed-up are
  // one trade-off event, whatever their directions.
  for (let i = 0; i < changes.length; i++) {
    for (let j = 0; j < changes.length; j++) {
      if (i === j || !tradeoffPair(changes[i], changes[j])) continue;
      const samePair = changes[i].previous_sha === changes[j].previous_sha && changes[i].commit_sha === changes[j].commit_sha;
      const overlap = [...suspects[i]].some((sha) => suspects[j].has(sha));
      if (samePair || overlap) parent[find(i)] = find(j);
    }
  }
  // A lone change a night off a larger event in the same direction (a noisy run moved its step by one run) is part of
  // that event: its next night's code commit is not blamed on its own.
  const size = new Map<number, number>();
  changes.forEach((_, i) => size.set(find(i), (size.get(find(i)) ?? 0) + 1));
  // Only a short range joins (a run a night off, not a sparse series' change spanning many nights), and it never leads.
  const joinedLone = new Set<AttributedChange>();
  changes.forEach((c, i) => {
    if (size.get(find(i)) !== 1) return;
    const j = changes.findIndex(
      (o, k) =>
        find(k) !== find(i) &&
        (size.get(find(k)) ?? 0) > 1 &&
        direction(o) === direction(c) &&
        shapeOf(o) === shapeOf(c) &&
        !sinceLookbackStart(c) &&
        !sinceLookbackStart(o) &&
        c.candidates.length <= Math.max(1, o.candidates.length) &&
        (o.commit_sha === c.previous_sha || o.previous_sha === c.commit_sha),
    );
    if (j >= 0) {
      parent[find(i)] = find(j);
      joinedLone.add(c);
    }
  });
  const groups = new Map<number, AttributedChange[]>();
  changes.forEach((c, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), c]));

  const events: BenchEvent[] = [];
  const taken = new Set<string>();
  for (const unordered of groups.values()) {
    const members = [...unordered].sort((a, b) => Date.parse(a.commit_ts) - Date.parse(b.commit_ts));
    // The range: the commits most members suspect (all of them when the cadence is shared), in history order.
    const votes = new Map<string, number>();
    for (const c of members) for (const sha of c.candidates) votes.set(sha, (votes.get(sha) ?? 0) + 1);
    const ordered = members.reduce<string[]>((acc, c) => [...acc, ...c.candidates.filter((s) => !acc.includes(s))], []);
    let codeCommits = ordered.filter((sha) => (votes.get(sha) ?? 0) > members.length / 2);
    if (codeCommits.length === 0) codeCommits = ordered;
    else {
      // A member joined for an adjacent range (none of its commits in the majority's) adds its range: the change may
      // be in either.
      const kept = new Set(codeCommits);
      for (const c of members) if (c.candidates.length && !c.candidates.some((sha) => kept.has(sha))) for (const sha of c.candidates) kept.add(sha);
      codeCommits = ordered.filter((sha) => kept.has(sha));
    }
    // The pair most members sit between names the event.
    const pairs = new Map<string, { n: number; c: AttributedChange }>();
    for (const c of members) {
      const key = `${c.previous_sha}..${c.commit_sha}`;
      pairs.set(key, { n: (pairs.get(key)?.n ?? 0) + 1, c: pairs.get(key)?.c ?? c });
    }
    const anchor = [...pairs.values()].reduce((a, b) => (b.n > a.n ? b : a)).c;
    // The range's ends: the run before its first code commit and the run after its last (the anchor's pair unless
    // adjacent ranges were joined).
    const first = members.find((c) => c.candidates.includes(codeCommits[0]));
    const last = [...members].reverse().find((c) => c.candidates.includes(codeCommits[codeCommits.length - 1]));
    const rangeFrom = codeCommits.length && first ? first.previous_sha : anchor.previous_sha;
    const rangeTo = codeCommits.length && last ? last.commit_sha : anchor.commit_sha;
    // Lead: p95 latency preferred, then the largest change. A trade-off (accuracy down, speed up) is led by its accuracy
    // change, a gate breach first: the quality regression is what stays open.
    const leading = members.filter((c) => !joinedLone.has(c));
    const tradeoffLeads = leading.filter((c) => leading.some((o) => tradeoffPair(c, o)));
    // Without a p95 change, an accuracy change leads (a gate breach first): what a quality event is about.
    const accuracy = leading.filter((c) => c.key.metric === "accuracy");
    const p95 = leading.filter((c) => c.key.metric === "latency_p95_ms");
    const lead = tradeoffLeads.length
      ? tradeoffLeads.reduce((a, b) => ((Number(!!b.gate?.breached) - Number(!!a.gate?.breached) || sizeOf(b) - sizeOf(a)) > 0 ? b : a))
      : (p95.length ? p95 : accuracy.length ? accuracy : leading.length ? leading : members).reduce((a, b) =>
          (Number(!!b.gate?.breached) - Number(!!a.gate?.breached) || sizeOf(b) - sizeOf(a)) > 0 ? b : a,
        );
    const shape = shapeOf(lead);
    // A drift that began before the lookback has no range at all: not an environment change, just not placed.
    const unplaced = sinceLookbackStart(anchor);
    const noCode = codeCommits.length === 0 && !unplaced;
    const dir = direction(lead);
    // Keep the id of a stored event this one overlaps (same direction and shape), else derive one from its range. An
    // unplaced drift is the stored unplaced drift of its lead series in its direction.
    const match = stored.find(
      (e) =>
        !taken.has(e.event_id) &&
        e.state !== "withdrawn" &&
        (e.shape ?? "step") === shape &&
        (unplaced
          ? e.range_from_sha === "" && e.kind !== "no_code" && (e.kind === "regression") === (dir === "worse") && members.some((c) => sameSeries(e, c))
          : (e.kind === "no_code" ? noCode && e.range_from_sha === anchor.previous_sha && e.range_to_sha === anchor.commit_sha : !noCode) &&
            (e.kind === "no_code" || (e.kind === "regression") === (dir === "worse")) &&
            (e.kind === "no_code" ? directionOfPct(e) === dir : e.code_commits.some((sha) => codeCommits.includes(sha)))),
    );
    const id = match?.event_id ?? eventId(anchor.previous_sha, anchor.commit_sha, dir, shape);
    // The stored bisection holds only for the range it searched: a changed range is bisected again. Only steps are bisected.
    const sameRange = shape === "step" && match && match.code_commits.join() === codeCommits.join() ? match : undefined;
    const bisectable = shape === "step" && codeCommits.length > 1;
    // An unplaced drift keeps the place it was first seen at (the lookback's first run then): it moves with the window otherwise.
    const keptPlace = unplaced && match ? { range_to_sha: match.range_to_sha, commit_ts: match.commit_ts } : undefined;
    taken.add(id);
    const k: SeriesKey = lead.key;
    events.push({
      event_id: id,
      first_detected_at: match?.first_detected_at ?? context.now.toISOString(),
      updated_at: context.now.toISOString(),
      run_id: context.runId,
      kind: noCode ? "no_code" : lead.kind,
      state: noCode ? "environment" : lead.kind === "regression" ? "open" : "kept",
      range_from_sha: unplaced ? "" : rangeFrom,
      range_to_sha: keptPlace?.range_to_sha ?? rangeTo,
      range_method: members.some((c) => c.range_method === "time") ? "time" : "graph",
      code_commits: codeCommits,
      commit_ts: keptPlace?.commit_ts ?? anchor.commit_ts,
      // One code commit: blamed outright. Several: bisection decides (lib/bisection), starting from what is stored.
      blamed_sha: codeCommits.length === 1 ? codeCommits[0] : (sameRange?.blamed_sha ?? ""),
      bisection_status: bisectable ? sameRange?.bisection_status || "bisecting" : "",
      bisection_steps: sameRange?.bisection_steps ?? 0,
      bisection_steps_left: sameRange?.bisection_steps_left ?? (bisectable ? Math.ceil(Math.log2(codeCommits.length)) : 0),
      bisection_extra_runs: sameRange?.bisection_extra_runs ?? 0,
      bisection_note: sameRange?.bisection_note ?? "",
      benchmark_type: k.benchmark_type,
      model: k.model,
      quant: k.quant,
      variant: k.variant,
      dataset: k.dataset,
      device: k.device,
      metric: k.metric,
      label: seriesLabel(k),
      change_pct: lead.change_pct,
      ci_low_pct: finite(lead.ci_pct[0]),
      ci_high_pct: finite(lead.ci_pct[1]),
      q_value: lead.q_value,
      mean_before: lead.before.mean,
      mean_after: lead.after.mean,
      stdev_before: lead.before.stdev,
      stdev_after: lead.after.stdev,
      n_before: lead.before.n,
      n_after: lead.after.n,
      series_changed: members.length,
      fixed_by_event_id: "",
      fixed_by_sha: "",
      recovered_pct: null,
      recovered_ci_low: null,
      recovered_ci_high: null,
      returns_of: "",
      ...triageFields(match),
      ...qualityFields(members, lead),
      ...shapeFields(lead),
      changes: members,
      series: [...new Set(members.map((c) => seriesId(c.key)))],
    });
    withTriageEffects(events[events.length - 1]);
  }
  return events.sort((a, b) => Date.parse(a.commit_ts) - Date.parse(b.commit_ts));
}

export type TriageFields = Pick<
  BenchEventRow,
  "triage" | "triage_reason" | "triage_actor" | "triage_source" | "triage_at" | "blame_sha" | "blame_actor" | "blame_reason"
>;
export const NO_TRIAGE: TriageFields = {
  triage: "",
  triage_reason: "",
  triage_actor: "",
  triage_source: "",
  triage_at: null,
  blame_sha: "",
  blame_actor: "",
  blame_reason: "",
};

/** The triage a stored event carries (a triaged event keeps it across later detections: its id is stable). */
export function triageFields(row: Partial<TriageFields> | undefined): TriageFields {
  if (!row) return { ...NO_TRIAGE };
  return {
    triage: row.triage ?? "",
    triage_reason: row.triage_reason ?? "",
    triage_actor: row.triage_actor ?? "",
    triage_source: row.triage_source ?? "",
    triage_at: row.triage_at ?? null,
    blame_sha: row.blame_sha ?? "",
    blame_actor: row.blame_actor ?? "",
    blame_reason: row.blame_reason ?? "",
  };
}

/**
 * What a maintainer's blame does to an event (in place; returns it): the blamed commit is theirs, and bisection
 * stops (status '', nothing left), so no more runs are asked for. A full sha of the range replaces a prefix.
 */
export function withTriageEffects<T extends BenchEventRow>(event: T): T {
  if (!event.blame_sha) return event;
  const full = event.code_commits.find((sha) => sha.startsWith(event.blame_sha.toLowerCase()));
  event.blamed_sha = full ?? event.blame_sha;
  event.bisection_status = "";
  event.bisection_steps_left = 0;
  event.bisection_note = event.blame_actor ? `blamed by ${event.blame_actor} (maintainer)` : "blamed by a maintainer";
  return event;
}

/** Whether a maintainer said the event is not (or no longer) an open problem: invalid (not real) or expected (accepted). */
export const isTriagedAway = (e: { triage?: string }) => e.triage === "invalid" || e.triage === "expected";

function directionOfPct(e: Pick<BenchEventRow, "change_pct" | "metric">): "worse" | "better" {
  const higherIsWorse = HIGHER_IS_WORSE[e.metric as SeriesMetric] ?? true;
  return e.change_pct > 0 === higherIsWorse ? "worse" : "better";
}

export interface Recovery {
  fraction: number;
  ci: [number, number];
}

/**
 * How much of a step from `before` to `after` a later level recovered: f = (after − level) / (after − before), with a
 * delta-method 95 % interval from the three means' standard errors (sd/√n, runs taken as independent).
 */
export function recoveredFraction(
  before: { mean: number; stdev: number; n: number },
  after: { mean: number; stdev: number; n: number },
  level: { mean: number; stdev: number; n: number },
): Recovery {
  const step = after.mean - before.mean;
  const f = (after.mean - level.mean) / step;
  const v = (s: { stdev: number; n: number }) => (s.n > 0 ? (s.stdev * s.stdev) / s.n : 0);
  // ∂f/∂before = (after − level)/step², ∂f/∂after = (level − before)/step², ∂f/∂level = −1/step.
  const variance =
    ((after.mean - level.mean) / step ** 2) ** 2 * v(before) + ((level.mean - before.mean) / step ** 2) ** 2 * v(after) + (1 / step) ** 2 * v(level);
  const half = 1.959964 * Math.sqrt(variance);
  return { fraction: f, ci: [f - half, f + half] };
}

/**
 * How much of a drift's slope or a spread change's log ratio a later change of the same shape the other way took
 * back: f = −m_fix / m, m the slope (drift) or log ratio (spread), with a delta-method 95 % interval from the two
 * changes' own intervals (their standard errors read off the interval's half-width; independent changes assumed).
 */
export function recoveredShare(regression: AttributedChange, fix: AttributedChange): Recovery | undefined {
  const measure = (c: AttributedChange): { m: number; se: number } | undefined => {
    if (c.drift) return { m: c.drift.slope_pct_per_run, se: (c.drift.ci_pct_per_run[1] - c.drift.ci_pct_per_run[0]) / (2 * 1.959964) };
    if (c.spread && c.spread.ratio > 0 && c.spread.ci_ratio[0] > 0)
      return { m: Math.log(c.spread.ratio), se: (Math.log(c.spread.ci_ratio[1]) - Math.log(c.spread.ci_ratio[0])) / (2 * 1.959964) };
    return undefined;
  };
  const [a, b] = [measure(regression), measure(fix)];
  if (!a || !b || a.m === 0 || !Number.isFinite(a.se) || !Number.isFinite(b.se)) return undefined;
  const f = -b.m / a.m;
  const half = 1.959964 * Math.sqrt((b.se / a.m) ** 2 + ((b.m * a.se) / (a.m * a.m)) ** 2);
  return { fraction: f, ci: [f - half, f + half] };
}

/**
 * Fixes and returns, over the events of one run (oldest first). A regression's fix is the latest later improvement
 * of its lead series and shape: its level after decides how much was recovered (for a drift or a spread change, its
 * slope or noise ratio: recoveredShare). A regression in a series of a (partly) fixed event of its shape, after that
 * fix, returns_of the old event.
 */
export function linkLifecycle(events: BenchEvent[]): void {
  const byTime = [...events].sort((a, b) => Date.parse(a.commit_ts) - Date.parse(b.commit_ts));
  for (const event of byTime) {
    if (event.kind !== "regression") continue;
    const leadSeries = seriesId({ ...event, metric: event.metric as SeriesKey["metric"] });
    const later = byTime.filter((e) => e.kind === "improvement" && e.shape === event.shape && Date.parse(e.commit_ts) > Date.parse(event.commit_ts));
    // The lead series first; else the first of the event's series that a later improvement moved back.
    // Only the changes that made things worse can be fixed (a trade-off's speed-up is not undone by a fix).
    const members = event.changes
      .filter((c) => c.kind === "regression")
      .sort((a, b) => Number(seriesId(b.key) === leadSeries) - Number(seriesId(a.key) === leadSeries));
    let found: { change: AttributedChange; fix: { event: BenchEvent; change: AttributedChange } } | undefined;
    for (const change of members) {
      const fixes = later.flatMap((e) => e.changes.filter((c) => seriesId(c.key) === seriesId(change.key)).map((c) => ({ event: e, change: c })));
      if (fixes.length > 0) {
        found = { change, fix: fixes.at(-1)! };
        break;
      }
    }
    if (!found) continue;
    const recovery =
      event.shape === "step"
        ? recoveredFraction(found.change.before, found.change.after, found.fix.change.after)
        : recoveredShare(found.change, found.fix.change);
    if (!recovery) continue;
    event.fixed_by_event_id = found.fix.event.event_id;
    event.fixed_by_sha = found.fix.event.blamed_sha || found.fix.event.range_to_sha;
    event.recovered_pct = round(recovery.fraction * 100, 1);
    event.recovered_ci_low = round(recovery.ci[0] * 100, 1);
    event.recovered_ci_high = round(recovery.ci[1] * 100, 1);
    event.state = recovery.ci[1] >= 1 ? "fixed" : "partly_fixed";
  }
  for (const event of byTime) {
    if (event.kind !== "regression") continue;
    const old = byTime.find(
      (e) =>
        e !== event &&
        e.shape === event.shape &&
        (e.state === "fixed" || e.state === "partly_fixed") &&
        Date.parse(e.commit_ts) < Date.parse(event.commit_ts) &&
        e.series.some((s) => event.series.includes(s)) &&
        fixTime(byTime, e) < Date.parse(event.commit_ts),
    );
    if (old) event.returns_of = old.event_id;
  }
}

function fixTime(events: BenchEvent[], e: BenchEvent): number {
  const fix = events.find((x) => x.event_id === e.fixed_by_event_id);
  return fix ? Date.parse(fix.commit_ts) : Infinity;
}

/** Is this regression still (partly) open? */
export const isOpenRegression = (e: Pick<BenchEventRow, "kind" | "state"> & { triage?: string }) =>
  e.kind === "regression" && (e.state === "open" || e.state === "partly_fixed") && !isTriagedAway(e);

// ---------------------------------------------------------------- storage

export const EVENT_COLUMNS = Object.keys(benchEventRow.shape);

/** The stored columns of an event (rows written before the triage columns existed get their defaults). */
export function toRow(e: BenchEvent | BenchEventRow | z.input<typeof benchEventRow>): BenchEventRow {
  return benchEventRow.parse(Object.fromEntries(EVENT_COLUMNS.map((k) => [k, (e as Record<string, unknown>)[k]])));
}

/** The stored events whose commit falls at or after `from` (latest versions). */
export async function loadEvents(db: Db, from: Date): Promise<BenchEventRow[]> {
  return db.query(`SELECT * FROM bench_events FINAL WHERE commit_ts >= {from:DateTime64(3, 'UTC')} ORDER BY commit_ts`, { from }, benchEventRow);
}

/**
 * Writes this run's events; a stored event of the lookback that the run no longer finds is withdrawn. Idempotent:
 * the same run writes the same versions.
 */
export async function storeEvents(db: Db, events: BenchEvent[], options: { now: Date; runId: string; stored: BenchEventRow[] }): Promise<BenchEventRow[]> {
  const rows = events.map(toRow);
  const found = new Set(rows.map((r) => r.event_id));
  const now = options.now.toISOString();
  const withdrawn = options.stored
    .filter((e) => !found.has(e.event_id) && e.state !== "withdrawn")
    .map((e) => ({ ...e, state: "withdrawn" as const, updated_at: now, run_id: options.runId }));
  const all = [...rows, ...withdrawn];
  if (all.length) await db.insert("bench_events", all);
  return all;
}

/** A newer version of one event (bisection moved it). */
export async function updateEvent(db: Db, row: BenchEventRow): Promise<void> {
  await db.insert("bench_events", [toRow(row)]);
}

/** Open (and partly fixed) regressions, newest first: the status page, the API, the Datadog metric. Triaged invalid or expected ones are not open. */
export async function openRegressionEvents(db: Db, limit = 50): Promise<BenchEventRow[]> {
  return db.query(
    `SELECT * FROM bench_events FINAL WHERE kind = 'regression' AND state IN ('open', 'partly_fixed') AND triage NOT IN ('invalid', 'expected')
      ORDER BY commit_ts DESC, abs(change_pct) DESC LIMIT {limit:UInt32}`,
    { limit },
    benchEventRow,
  );
}

/** Events that bisection is still narrowing. */
export async function bisectingEvents(db: Db): Promise<BenchEventRow[]> {
  return db.query(`SELECT * FROM bench_events FINAL WHERE bisection_status = 'bisecting' AND state != 'withdrawn' ORDER BY commit_ts`, {}, benchEventRow);
}

function finite(v: number): number {
  return Number.isFinite(v) ? v : Math.sign(v) * 1e308;
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
