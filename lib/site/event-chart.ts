import { z } from "zod";
import { studentTQuantileTwoSided } from "../analysis/student-t";

/**
 * The chart of one event: its lead series run by run around the change, in
 * commit order (not time order), with the nightly runs and the bisection runs
 * Muse asked for inside the range told apart, the segment means before and
 * after with their 95 % intervals, the blamed commit (or the range while
 * still bisecting) and the fixing commit. Stored in the episode's front-matter
 * with the event (`change_events[].chart`); drawn by
 * components/charts/EventChart.tsx. Pure: no I/O.
 */

export const eventChart = z.object({
  label: z.string(),
  metric: z.string(),
  unit: z.string(),
  /** x = the commit's position along the repository's first-parent history (runs of one commit share an x and are spread slightly). */
  points: z.array(z.object({ x: z.number(), commit_sha: z.string(), run_ts: z.string(), value: z.number(), kind: z.enum(["nightly", "bisection"]) })),
  /** Commits on the x axis with their subjects, in order (code commits only). */
  commits: z.array(z.object({ x: z.number(), sha: z.string(), subject: z.string() })),
  segments: z.array(z.object({ from_x: z.number(), to_x: z.number(), mean: z.number(), ci: z.tuple([z.number(), z.number()]), n: z.number().int() })),
  /** The change falls between range_from (exclusive) and blamed (inclusive); range_from === previous blamed commit once bisected to one commit. */
  blamed: z.object({ sha: z.string(), x: z.number(), range_from_sha: z.string(), range_from_x: z.number(), bisected: z.boolean() }),
  fix: z.object({ sha: z.string(), x: z.number() }).nullable(),
});
export type EventChart = z.infer<typeof eventChart>;
export type EventChartPoint = EventChart["points"][number];

export interface EventChartInput {
  label: string;
  metric: string;
  unit: string;
  /** request_id non-empty = a bisection run. */
  runs: { commit_sha: string; run_ts: string; value: number; request_id: string }[];
  /** Commit sha → position along the first-parent history (runs whose commit is missing are dropped). */
  order: Map<string, number>;
  /** Commit sha → subject line. */
  subjects: Map<string, string>;
  /** Shas of code commits to show on the axis (already ordered). */
  codeCommits: string[];
  before: { mean: number; stdev: number; n: number };
  after: { mean: number; stdev: number; n: number };
  rangeFromSha: string;
  blamedSha: string;
  bisected: boolean;
  fix: { sha: string } | null;
  /** How many runs to keep either side of the change (default 15). */
  around?: number;
}

export const DEFAULT_AROUND = 15;

/** The widest spread of one commit's runs along x (in positions), and the step between two of them at most. */
const MAX_SPREAD = 0.6;
const MAX_STEP = 0.15;

/** mean ± t(0.975, n − 1)·stdev/√n; a point interval when n < 2 (or the spread is unknown). */
export function meanInterval(mean: number, stdev: number, n: number): [number, number] {
  if (!(n >= 2) || !Number.isFinite(stdev) || !Number.isFinite(mean)) return [mean, mean];
  const half = (studentTQuantileTwoSided(0.05, n - 1) * Math.abs(stdev)) / Math.sqrt(n);
  return [mean - half, mean + half];
}

/** The offsets of k runs of one commit around its position: centred, at most MAX_SPREAD wide. */
function spread(k: number): number[] {
  if (k <= 1) return [0];
  const step = Math.min(MAX_STEP, MAX_SPREAD / (k - 1));
  return Array.from({ length: k }, (_, i) => (i - (k - 1) / 2) * step);
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * The chart of one event. Runs are ordered by their commit's position in the
 * history, then by time (a bisection run made today at an old commit sits at
 * that commit); the last `around` runs at or before range_from and the first
 * `around` at or after the blamed commit are kept, with every run inside the
 * range (the bisection's). Throws a RangeError when the blamed or range_from
 * commit has no position (the chart could not place the change).
 */
export function buildEventChart(input: EventChartInput): EventChart {
  const around = Math.max(0, Math.floor(input.around ?? DEFAULT_AROUND));
  const blamedX = input.order.get(input.blamedSha);
  const rangeFromX = input.order.get(input.rangeFromSha);
  if (blamedX === undefined) throw new RangeError(`blamed commit ${input.blamedSha} is not in the commit order`);
  if (rangeFromX === undefined) throw new RangeError(`range_from commit ${input.rangeFromSha} is not in the commit order`);

  const placed = input.runs
    .filter((r) => input.order.has(r.commit_sha) && Number.isFinite(r.value))
    .map((r) => ({ ...r, pos: input.order.get(r.commit_sha)! }))
    .sort((a, b) => a.pos - b.pos || a.run_ts.localeCompare(b.run_ts) || a.request_id.localeCompare(b.request_id));
  const before = placed.filter((r) => r.pos <= rangeFromX);
  const inside = placed.filter((r) => r.pos > rangeFromX && r.pos < blamedX);
  const after = placed.filter((r) => r.pos >= blamedX);
  const kept = [...before.slice(Math.max(0, before.length - around)), ...inside, ...after.slice(0, around)];

  // Runs of one commit share its x, spread slightly in time order.
  const byCommit = new Map<string, number>();
  for (const r of kept) byCommit.set(r.commit_sha, (byCommit.get(r.commit_sha) ?? 0) + 1);
  const seen = new Map<string, number>();
  const points: EventChartPoint[] = kept.map((r) => {
    const i = seen.get(r.commit_sha) ?? 0;
    seen.set(r.commit_sha, i + 1);
    return {
      x: round(r.pos + spread(byCommit.get(r.commit_sha)!)[i]),
      commit_sha: r.commit_sha,
      run_ts: r.run_ts,
      value: r.value,
      kind: r.request_id !== "" ? "bisection" : "nightly",
    };
  });

  const fixX = input.fix ? input.order.get(input.fix.sha) : undefined;
  const fix = input.fix && fixX !== undefined ? { sha: input.fix.sha, x: fixX } : null;

  const firstX = kept.length > 0 ? kept[0].pos : rangeFromX;
  const lastX = kept.length > 0 ? kept[kept.length - 1].pos : blamedX;
  // The after segment ends at the fix when the fix is within the kept runs (what follows is a third level, not drawn).
  const afterTo = fix && fix.x > blamedX && fix.x <= lastX ? fix.x : Math.max(blamedX, lastX);
  const segments = [
    {
      from_x: Math.min(firstX, rangeFromX),
      to_x: rangeFromX,
      mean: input.before.mean,
      ci: meanInterval(input.before.mean, input.before.stdev, input.before.n),
      n: input.before.n,
    },
    { from_x: blamedX, to_x: afterTo, mean: input.after.mean, ci: meanInterval(input.after.mean, input.after.stdev, input.after.n), n: input.after.n },
  ];

  // The axis' commits: the code commits within what the chart shows.
  const lo = Math.min(firstX, rangeFromX);
  const hi = Math.max(lastX, blamedX);
  const commits = input.codeCommits.flatMap((sha) => {
    const x = input.order.get(sha);
    return x !== undefined && x >= lo && x <= hi ? [{ x, sha, subject: input.subjects.get(sha) ?? "" }] : [];
  });

  return eventChart.parse({
    label: input.label,
    metric: input.metric,
    unit: input.unit,
    points,
    commits,
    segments,
    blamed: { sha: input.blamedSha, x: blamedX, range_from_sha: input.rangeFromSha, range_from_x: rangeFromX, bisected: input.bisected },
    fix,
  });
}
