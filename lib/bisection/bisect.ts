import { v5 as uuidv5 } from "uuid";

/**
 * Bisection of a change's commit range, as Chromium's Pinpoint does it: when
 * a change falls between two nightly runs with several code commits in
 * between, benchmark the lead series' benchmark at commits inside the range,
 * halving it each step, until one commit is left.
 *
 * The state is never stored: every council run replays it from the requests
 * made so far and the runs that answered them, so it survives serverless
 * instances and crashes, and two council runs compute the same next requests
 * (with the same deterministic ids, which the request store keeps once).
 *
 * How a commit is classified (docs/bisection.md):
 * - Both ends of the range are re-run on the bisection day, because the
 *   machine on that day is not the machine of the nightlies (Pinpoint re-runs
 *   both ends in each batch). Comparisons use only runs of one UTC day.
 * - A step model: every commit measures either the level before the change or
 *   the level after it. The two levels are estimated from the ends and from
 *   every commit already classified on that day, so each step sharpens the
 *   next comparison.
 * - z = (mean(commit) − midpoint) / SE, signed so that positive means "like the
 *   after end". |z| ≥ zDecide decides; otherwise the commit gets another run,
 *   up to maxRunsPerCommit, after which the sign decides and the step is marked
 *   as decided by the repeat limit.
 * - The noise σ pools the day's runs within commits with the series' own σ as
 *   a prior worth PRIOR_DF degrees of freedom.
 * - A commit a runner answered "cannot build or run" is skipped like
 *   `git bisect skip`: the nearest other commit inside the range is tried.
 */

export interface BisectionOptions {
  /** |z| that decides a comparison (2.33: about 1 % one-sided error). */
  zDecide: number;
  /** Runs of each end in a day's first batch. */
  endRuns: number;
  /** Most runs at one commit (ends included) before its side is decided by the sign. */
  maxRunsPerCommit: number;
  /** Requests expire after this many hours (a runner that never answers). */
  expiresHours: number;
}

export const DEFAULT_BISECTION_OPTIONS: BisectionOptions = { zDecide: 2.33, endRuns: 1, maxRunsPerCommit: 4, expiresHours: 24 };

/** A stored request as bisection needs it. */
export interface RequestState {
  request_id: string;
  commit_sha: string;
  repeats: number;
  status: "pending" | "claimed" | "done" | "cannot_run" | "expired";
  requested_at: string;
}

/** A run that answered one of the event's requests. */
export interface BisectionRun {
  commit_sha: string;
  run_ts: string;
  value: number;
  request_id: string;
}

export interface BisectionInput {
  event_id: string;
  /** The last commit known to measure the level before the change (the earlier nightly's code). */
  from: string;
  /** Code commits after `from`, oldest first; the last one is the later nightly's code. */
  candidates: string[];
  requests: RequestState[];
  runs: BisectionRun[];
  /** The series' noise standard deviation (same unit as the values), the prior for σ. */
  sigma: number;
  /** The size of the change (after − before, same unit), when known: a small step against σ gets more end runs. */
  step?: number;
  now: Date;
}

export interface PlannedRequest {
  request_id: string;
  commit_sha: string;
  repeats: number;
  reason: string;
}

export interface CommitVerdict {
  sha: string;
  side: "before" | "after";
  n: number;
  mean: number;
  z: number;
  /** Decided by the repeat limit rather than by |z| ≥ zDecide. */
  by_limit: boolean;
}

export interface BisectionState {
  /**
   * - bisecting: waiting for runs (requests outstanding or to be made);
   * - bisected: one commit left;
   * - stuck: commits left that cannot be told apart (every commit between them was skipped, or the change did not
   *   reproduce on the bisection machine).
   */
  status: "bisecting" | "bisected" | "stuck";
  /** The change lies in (range_from, blamed]: `blamed` is the first after-like commit. */
  range_from: string;
  blamed: string;
  /** Code commits still suspected: (range_from, blamed]. */
  remaining: string[];
  /** Commits classified so far (the steps). */
  verdicts: CommitVerdict[];
  /** Runs answered so far. */
  extra_runs: number;
  /** Steps needed to finish at most (log2 of what remains, rounded up). */
  steps_left: number;
  /** What to ask for now: nothing while requests are outstanding. */
  next: PlannedRequest[];
  /** Why it is stuck, for the story. */
  note: string;
}

const BISECTION_NAMESPACE = "5d0c1d7e-6f1a-4c3e-9a52-0b7e1f2a9c44";
/** Degrees of freedom the series' σ is worth against the day's own spread. */
const PRIOR_DF = 2;

/** The deterministic id of the `attempt`-th request for `sha` in an event's bisection: two council runs agree on it. */
export function bisectionRequestId(eventId: string, sha: string, attempt: number): string {
  return uuidv5(`${eventId}|${sha}|${attempt}`, BISECTION_NAMESPACE);
}

interface Level {
  n: number;
  mean: number;
}

export function planBisection(input: BisectionInput, options: BisectionOptions = DEFAULT_BISECTION_OPTIONS): BisectionState {
  const { candidates, from } = input;
  const last = candidates.at(-1)!;
  const state = (partial: Partial<BisectionState> & Pick<BisectionState, "status">): BisectionState => ({
    range_from: from,
    blamed: last,
    remaining: candidates,
    verdicts: [],
    extra_runs: input.runs.length,
    steps_left: Math.ceil(Math.log2(Math.max(1, candidates.length))),
    next: [],
    note: "",
    ...partial,
  });
  if (candidates.length <= 1) return state({ status: "bisected", steps_left: 0 });

  const outstanding = new Set(input.requests.filter((r) => r.status === "pending" || r.status === "claimed").map((r) => r.commit_sha));
  const skipped = new Set(
    [...groupBy(input.requests, (r) => r.commit_sha)]
      // cannot run, or two requests that expired unanswered: a commit the runners will not measure.
      .filter(([, rs]) => rs.some((r) => r.status === "cannot_run") || rs.filter((r) => r.status === "expired").length >= 2)
      .map(([sha]) => sha),
  );
  const attempts = (sha: string) => input.requests.filter((r) => r.commit_sha === sha).length;
  const request = (sha: string, repeats: number, reason: string): PlannedRequest => ({
    request_id: bisectionRequestId(input.event_id, sha, attempts(sha)),
    commit_sha: sha,
    repeats,
    reason,
  });

  // Only the newest bisection day's runs are compared with each other.
  const day = input.runs.reduce((d, r) => (r.run_ts.slice(0, 10) > d ? r.run_ts.slice(0, 10) : d), "");
  const today = input.runs.filter((r) => r.run_ts.slice(0, 10) === day);
  const byCommit = groupBy(today, (r) => r.commit_sha);
  const stats = (sha: string): Level => {
    const values = (byCommit.get(sha) ?? []).map((r) => r.value);
    return { n: values.length, mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN };
  };
  const sigma = pooledSigma(byCommit, input.sigma);

  // The ends, re-run on the bisection day.
  const ends = [from, last];
  // A step under 8 σ: two runs of each end in the first batch, or every comparison waits on the ends' precision.
  const endRuns = input.step !== undefined && Math.abs(input.step) < 8 * input.sigma ? Math.max(2, options.endRuns) : options.endRuns;
  const endsShort = ends.filter((sha) => stats(sha).n < endRuns && !skipped.has(sha));
  if (ends.some((sha) => skipped.has(sha))) {
    return state({ status: "stuck", note: "an end of the range cannot be run, so there is nothing to compare with" });
  }

  let lo = -1; // index into candidates; -1 = from
  let hi = candidates.length - 1;
  const verdicts: CommitVerdict[] = [];
  const next: PlannedRequest[] = [];
  const wait = outstanding.size > 0;

  if (endsShort.length === 0) {
    const levels = { before: stats(from), after: stats(last) };
    const difference = levels.after.mean - levels.before.mean;
    const seDifference = sigma * Math.sqrt(1 / levels.before.n + 1 / levels.after.n);
    if (Math.abs(difference) / seDifference < options.zDecide) {
      // The ends look alike today: more runs of both, or the change did not reproduce.
      const room = ends.filter((sha) => stats(sha).n < options.maxRunsPerCommit);
      if (room.length === 0) {
        return state({
          status: "stuck",
          note: "the change did not reproduce on the bisection machine: both ends measured alike",
          extra_runs: input.runs.length,
        });
      }
      if (!wait) next.push(...room.map((sha) => request(sha, 1, "the ends do not differ clearly yet: one more run of each")));
      return state({ status: "bisecting", next });
    }
    const sign = Math.sign(difference);
    // Halve (lo, hi] until one commit is left.
    while (hi - lo > 1) {
      const mid = pickMidpoint(lo, hi, (i) => !skipped.has(candidates[i]));
      if (mid === undefined) {
        return state({
          status: "stuck",
          range_from: lo < 0 ? from : candidates[lo],
          blamed: candidates[hi],
          remaining: candidates.slice(lo + 1, hi + 1),
          verdicts,
          steps_left: 0,
          note: "every commit left in the range was answered as one that cannot be built or run",
        });
      }
      const sha = candidates[mid];
      const own = stats(sha);
      // The two levels: the ends and every commit already placed on either side.
      const before = pool([levels.before, ...verdicts.filter((v) => v.side === "before").map((v) => ({ n: v.n, mean: v.mean }))]);
      const after = pool([levels.after, ...verdicts.filter((v) => v.side === "after").map((v) => ({ n: v.n, mean: v.mean }))]);
      if (own.n === 0) {
        if (!wait && !outstanding.has(sha)) next.push(request(sha, 1, `bisection step ${verdicts.length + 1}: is the change before or after this commit?`));
        break;
      }
      const midpoint = (before.mean + after.mean) / 2;
      const se = sigma * Math.sqrt(1 / own.n + 1 / (4 * before.n) + 1 / (4 * after.n));
      const z = (sign * (own.mean - midpoint)) / se;
      const decided = Math.abs(z) >= options.zDecide;
      if (!decided && own.n < options.maxRunsPerCommit) {
        if (!wait && !outstanding.has(sha))
          next.push(request(sha, 1, `bisection step ${verdicts.length + 1}: not decided yet (z = ${z.toFixed(2)}), one more run`));
        break;
      }
      const side = z >= 0 ? "after" : "before";
      verdicts.push({ sha, side, n: own.n, mean: own.mean, z, by_limit: !decided });
      if (side === "after") hi = mid;
      else lo = mid;
    }
  } else if (!wait) {
    // The day's first batch: both ends and the first midpoint together.
    for (const sha of endsShort) next.push(request(sha, endRuns - stats(sha).n, "re-run an end of the range on the bisection machine"));
    const mid = pickMidpoint(lo, hi, (i) => !skipped.has(candidates[i]));
    if (mid !== undefined && stats(candidates[mid]).n === 0)
      next.push(request(candidates[mid], 1, "bisection step 1: is the change before or after this commit?"));
  }

  const remaining = candidates.slice(lo + 1, hi + 1);
  const done = hi - lo <= 1;
  return state({
    status: done ? "bisected" : "bisecting",
    range_from: lo < 0 ? from : candidates[lo],
    blamed: candidates[hi],
    remaining,
    verdicts,
    steps_left: done ? 0 : Math.ceil(Math.log2(remaining.length)),
    next,
  });
}

/** The middle index of (lo, hi) that may be run, searching outwards from the centre; undefined when none. */
function pickMidpoint(lo: number, hi: number, runnable: (i: number) => boolean): number | undefined {
  const centre = Math.floor((lo + hi) / 2);
  for (let d = 0; d < hi - lo; d++) {
    for (const i of [centre - d, centre + d + 1]) if (i > lo && i < hi && runnable(i)) return i;
  }
  return undefined;
}

function pool(levels: Level[]): Level {
  const n = levels.reduce((a, l) => a + l.n, 0);
  return { n, mean: levels.reduce((a, l) => a + l.n * l.mean, 0) / n };
}

/** σ from the day's repeats (within commits), shrunk towards the series' σ. */
function pooledSigma(byCommit: Map<string, BisectionRun[]>, prior: number): number {
  let sumSquares = 0;
  let df = 0;
  for (const runs of byCommit.values()) {
    if (runs.length < 2) continue;
    const m = runs.reduce((a, r) => a + r.value, 0) / runs.length;
    sumSquares += runs.reduce((a, r) => a + (r.value - m) ** 2, 0);
    df += runs.length - 1;
  }
  return Math.sqrt((PRIOR_DF * prior * prior + sumSquares) / (PRIOR_DF + df));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
