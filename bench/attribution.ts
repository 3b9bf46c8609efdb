import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { changeConfig } from "../lib/agents/council";
import { detectChanges, type Attribution } from "../lib/analysis/changes";
import type { Series, SeriesKey } from "../lib/analysis/series";
import { codeClassifier } from "../lib/attribution/code-commits";
import { CommitGraph, type GraphCommit } from "../lib/attribution/graph";
import { eventSigma } from "../lib/bisection/advance";
import {
  DEFAULT_BISECTION_OPTIONS,
  planBisection,
  type BisectionOptions,
  type BisectionRun,
  type BisectionState,
  type RequestState,
} from "../lib/bisection/bisect";
import { parseEnv } from "../lib/env";
import { groupIntoEvents, type BenchEvent } from "../lib/lifecycle/events";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { gaussian, seededRandom } from "../lib/seed/random";
import { median, say, type Row, type SectionResult } from "./lib";

/**
 * Attribution: does a change land on the commit that caused it? On seeded, in-memory nightly-cadence corpora (one
 * simulated upstream each: a git history with real parent links, a benchmark run every night), scored without
 * bisection (the range of code commits between two nightlies that `detectChanges` + `groupIntoEvents` give) and
 * with it (`planBisection` replayed round after round, each planned request answered at once with simulated runs
 * of the event's lead benchmark at that commit). No database: the council's pure functions only.
 *
 * A corpus: 60 nights. Between two nightlies 0–6 code commits (5–30 on the change's day), about 20 % of daytime
 * commits docs-only, now and then a merge bringing a 2–3 commit branch and a commit whose clock is earlier than its
 * parent's; every night a bot commit adding `reports/…json`, under which the run is recorded. One planted step
 * (10–50 %, either sign) at a random code commit of a day in the middle third, in 3–6 series that all move, beside
 * 6 series that do not; noise CV 1–3 % per run. About 15 % of corpora instead have no code commit that day (docs and
 * the bot only) and the environment shifts every series at that night: "no code changed", never a commit to blame.
 */

const NIGHTS = 60;
const STABLE_SERIES = 6;
const NO_CODE_SHARE = 0.15;
const DOCS_SHARE = 0.2;
const MERGE_SHARE = 0.2;
const BACKDATED_SHARE = 0.04;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const SEED = 20261205;
const MAX_ROUNDS = 60;
/** Day-to-day offset of the bisection machine, shared by all runs of a bisection day. */
const DAY_OFFSET_SD = 0.02;

type CommitKind = "code" | "merge" | "branch" | "docs" | "bot" | "root";

interface SimSeries {
  key: SeriesKey;
  base: number;
  cv: number;
  moves: boolean;
}

export interface Corpus {
  index: number;
  commits: GraphCommit[];
  kind: Map<string, CommitKind>;
  /** The bot commit each night's runs are recorded under. */
  nights: { sha: string; ts: string }[];
  changeNight: number;
  noCode: boolean;
  /** The commit that moves the level (none for a no-code corpus). */
  culprit: string | null;
  /** Code commits on the change's first-parent day (a merge counts once). */
  dayCodeCommits: number;
  culpritInBranch: boolean;
  /** Signed relative step (code step, or the environment's in a no-code corpus). */
  step: number;
  series: SimSeries[];
}

const sha = (corpus: number, n: number) => createHash("sha1").update(`attribution:${corpus}:${n}`).digest("hex");
const iso = (ms: number) => new Date(ms).toISOString();

export function buildCorpus(index: number, seed = SEED): Corpus {
  const r = seededRandom(seed + index * 7919);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const shuffle = <T>(xs: T[]) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const commits: GraphCommit[] = [];
  const kind = new Map<string, CommitKind>();
  const bySha = new Map<string, GraphCommit>();
  let n = 0;
  const add = (k: CommitKind, parents: string[], ts: number, files: string[], message: string) => {
    const c: GraphCommit = { sha: sha(index, n++), ts: iso(ts), parents, files, message, author: k === "bot" ? "bench-bot" : "dev" };
    commits.push(c);
    bySha.set(c.sha, c);
    kind.set(c.sha, k);
    return c;
  };
  const codeFile = () => `src/${["engine", "kv_cache", "sampler", "loader", "quant", "server"][int(0, 5)]}/${int(0, 9)}.py`;
  const docsFile = () => (r() < 0.5 ? "README.md" : `docs/${["x", "guide", "notes"][int(0, 2)]}.md`);

  const noCode = r() < NO_CODE_SHARE;
  const changeNight = int(NIGHTS / 3, (2 * NIGHTS) / 3 - 1);
  const step = (r() < 0.5 ? -1 : 1) * (0.1 + 0.4 * r());
  const moving = int(3, 6);
  const series: SimSeries[] = Array.from({ length: moving + STABLE_SERIES }, (_, i) => ({
    key: { benchmark_type: "generation", model: `model-${i}`, quant: "q4", variant: "", dataset: "prompts", device: "gpu", metric: "latency_p95_ms" },
    base: 50 + r() * 450,
    cv: (1 + 2 * r()) / 100,
    moves: i < moving,
  }));

  let tip = add("root", [], T0 - 2 * DAY_MS, [codeFile()], "initial").sha;
  const mainline: string[] = [tip];
  const nights: Corpus["nights"] = [];
  let culpritPool: string[] = [];
  let dayCodeCommits = 0;
  for (let d = 0; d < NIGHTS; d++) {
    const dayStart = T0 + d * DAY_MS + 7 * HOUR_MS;
    const code = d === changeNight ? (noCode ? 0 : int(5, 30)) : int(0, 6);
    // About DOCS_SHARE of daytime commits docs-only: docs / (code + docs) ≈ 0.2.
    let docs = 0;
    for (let k = 0; k < code; k++) if (r() < DOCS_SHARE / (1 - DOCS_SHARE)) docs++;
    if (code === 0) docs = d === changeNight ? int(1, 3) : int(0, 1);
    const mergeAt = code >= 1 && r() < MERGE_SHARE ? int(0, code - 1) : -1;
    const slots = shuffle([...Array.from({ length: code }, (_, k) => (k === mergeAt ? "merge" : "code")), ...Array.from({ length: docs }, () => "docs")]);
    const times = slots.map(() => dayStart + r() * 14 * HOUR_MS).sort((a, b) => a - b);
    const broughtToday: string[] = [];
    slots.forEach((slot, k) => {
      const parent = bySha.get(tip)!;
      let ts = times[k];
      if (slot === "merge") {
        // A branch of 2–3 code commits started from a mainline commit 1–10 steps back, merged now.
        const base = mainline[Math.max(0, mainline.length - 1 - int(1, 10))];
        let branchTip = base;
        const baseTs = Date.parse(bySha.get(base)!.ts);
        const count = int(2, 3);
        const files: string[] = [];
        for (let b = 0; b < count; b++) {
          const f = codeFile();
          files.push(f);
          const bt = baseTs + ((ts - baseTs) * (b + 1)) / (count + 1);
          branchTip = add("branch", [branchTip], bt, [f], `branch change ${b + 1}`).sha;
          broughtToday.push(branchTip);
        }
        tip = add("merge", [tip, branchTip], ts, [...new Set(files)], "Merge branch").sha;
      } else {
        if (r() < BACKDATED_SHARE) ts = Date.parse(parent.ts) - (1 + r() * 29) * HOUR_MS; // a clock behind its parent's
        const c = add(
          slot === "code" ? "code" : "docs",
          [tip],
          ts,
          [slot === "code" ? codeFile() : docsFile()],
          slot === "code" ? "perf-relevant change" : "docs",
        );
        tip = c.sha;
        if (slot === "code") broughtToday.push(tip);
      }
      mainline.push(tip);
    });
    if (d === changeNight) {
      culpritPool = broughtToday;
      dayCodeCommits = code;
    }
    const night = T0 + d * DAY_MS + 23 * HOUR_MS;
    const date = iso(night).slice(0, 10);
    tip = add(
      "bot",
      [tip],
      night - 5 * 60_000,
      series.map((s) => `reports/${date}/${s.key.model}.json`),
      `nightly reports ${date}`,
    ).sha;
    mainline.push(tip);
    nights.push({ sha: tip, ts: iso(night) });
  }
  const culprit = noCode ? null : culpritPool[int(0, culpritPool.length - 1)];
  return {
    index,
    commits,
    kind,
    nights,
    changeNight,
    noCode,
    culprit,
    dayCodeCommits,
    culpritInBranch: culprit !== null && kind.get(culprit) === "branch",
    step,
    series,
  };
}

/** The level a series measures at a commit (the environment's shift in a no-code corpus comes from the night, not the code). */
function levelAt(corpus: Corpus, graph: CommitGraph, s: SimSeries, commit: string, envShifted: boolean): number {
  if (corpus.noCode) return s.base * (envShifted ? 1 + corpus.step : 1);
  return s.base * (s.moves && graph.isAncestor(corpus.culprit!, commit) ? 1 + corpus.step : 1);
}

function nightlySeries(corpus: Corpus, graph: CommitGraph, r: () => number): Series[] {
  return corpus.series.map((s) => ({
    key: s.key,
    points: corpus.nights.map((night, d) => ({
      run_id: `${corpus.index}-${s.key.model}-${d}`,
      run_ts: night.ts,
      commit_sha: night.sha,
      commit_ts: graph.get(night.sha)!.ts,
      value: levelAt(corpus, graph, s, night.sha, d >= corpus.changeNight) * (1 + gaussian(r, 0, s.cv)),
      request_id: "",
    })),
  }));
}

export interface BisectionOutcome {
  status: BisectionState["status"];
  blamed: string;
  runs: number;
  rounds: number;
  steps: number;
  by_limit: number;
  note: string;
  stalled: boolean;
}

/**
 * Bisection as advanceBisection (lib/bisection/advance.ts) runs it, without the database: replay the state from the
 * requests and runs so far (a blamed merge searched again inside), answer every planned request at once, repeat.
 */
export function simulateBisection(
  event: BenchEvent,
  context: { graph: CommitGraph; isCode: Attribution["isCode"]; options: BisectionOptions; measure: (sha: string) => number; day: number; r: () => number },
): BisectionOutcome {
  const { graph, isCode, options, measure, day, r } = context;
  const requests: RequestState[] = [];
  const runs: BisectionRun[] = [];
  const offset = gaussian(r, 0, DAY_OFFSET_SD);
  const now = new Date(day + 6 * HOUR_MS);
  const sigma = eventSigma(event);
  let rounds = 0;
  let state: BisectionState;
  for (;;) {
    const input = {
      event_id: event.event_id,
      from: event.range_from_sha,
      candidates: event.code_commits,
      requests,
      runs,
      sigma,
      step: event.mean_after - event.mean_before,
      now,
    };
    state = planBisection(input, options);
    if (state.status === "bisected") {
      const merged = graph.mergedCommits(state.blamed).filter(isCode);
      if (merged.length > 0) {
        const inner = planBisection({ ...input, from: state.range_from, candidates: [...merged.map((c) => c.sha), state.blamed] }, options);
        state = { ...inner, verdicts: [...state.verdicts, ...inner.verdicts], steps_left: inner.steps_left };
      }
    }
    if (state.status !== "bisecting" || rounds >= MAX_ROUNDS || state.next.length === 0) break;
    rounds++;
    const at = day + 6 * HOUR_MS + rounds * 10 * 60_000;
    for (const q of state.next) {
      requests.push({ request_id: q.request_id, commit_sha: q.commit_sha, repeats: q.repeats, status: "done", requested_at: iso(at) });
      for (let k = 0; k < q.repeats; k++) {
        runs.push({ commit_sha: q.commit_sha, run_ts: iso(at + (k + 1) * 60_000), value: measure(q.commit_sha) * (1 + offset), request_id: q.request_id });
      }
    }
  }
  return {
    status: state.status,
    blamed: state.blamed,
    runs: runs.length,
    rounds,
    steps: state.verdicts.length,
    by_limit: state.verdicts.filter((v) => v.by_limit).length,
    note: state.note,
    stalled: state.status === "bisecting",
  };
}

const bound = (k: number) => 2 * Math.log2(k) + 4;

interface CorpusResult {
  index: number;
  no_code: boolean;
  change_night: number;
  step_pct: number;
  day_code_commits: number;
  culprit_in_branch: boolean;
  lead_cv_pct?: number;
  events: number;
  /** Events beside the one for the planted change. */
  spurious_events: number;
  /** Of those: the planted change in a series the detector placed a night off (same direction, ±1 night); of these, told as no code. */
  split_events: number;
  split_no_code_events: number;
  found: boolean;
  honest: boolean;
  exact_without: boolean;
  /** Code commits in the planted change's event. */
  k?: number;
  /** The same, with the code commits its merges brought (what bisection may search). */
  k_search?: number;
  bisection?: BisectionOutcome & { exact: boolean; within_bound: boolean };
  wrongly_blamed: number;
  no_code_told?: boolean;
  no_code_blamed?: boolean;
  spurious_bisection_runs: number;
  /** Other events that name a commit: one code commit, or bisected to one. */
  spurious_blamed: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function runCorpus(corpus: Corpus, config: ReturnType<typeof changeConfig>, options: BisectionOptions): CorpusResult {
  const r = seededRandom(SEED ^ (corpus.index * 104_729 + 1));
  const graph = new CommitGraph(corpus.commits);
  const isCode = codeClassifier();
  const series = nightlySeries(corpus, graph, r);
  const detection = detectChanges(series, { graph, isCode }, config);
  const now = new Date(T0 + NIGHTS * DAY_MS + 2 * HOUR_MS);
  const events = groupIntoEvents(detection.changes, [], { now, runId: `bench-attribution-${corpus.index}` });

  // Ground truth: which commits are code, which are docs or the bot's.
  const notCode = (s: string) => {
    const k = corpus.kind.get(s);
    return k === "docs" || k === "bot";
  };
  const brought = (s: string) => (corpus.kind.get(s) === "merge" ? graph.mergedCommits(s).map((c) => c.sha) : []);
  const contains = (e: BenchEvent, c: string) => e.code_commits.includes(c) || e.code_commits.some((m) => brought(m).includes(c));
  const wrongDirection = (e: BenchEvent) => (e.kind === "regression") !== corpus.step > 0;
  const night = (s: string) => corpus.nights.findIndex((n) => graph.isAncestor(s, n.sha));

  const target = corpus.culprit ? events.find((e) => e.kind !== "no_code" && contains(e, corpus.culprit!)) : undefined;
  const measuredOnChangeNight = corpus.noCode ? measuredCode(graph, corpus.nights[corpus.changeNight].sha, isCode) : "";
  const noCodeEvent = corpus.noCode ? events.find((e) => e.kind === "no_code" && e.range_to_sha === measuredOnChangeNight) : undefined;
  const found = corpus.noCode
    ? noCodeEvent !== undefined || events.some((e) => e.kind !== "no_code" && Math.abs(night(e.range_to_sha) - corpus.changeNight) <= 1)
    : target !== undefined || events.some((e) => e.kind !== "no_code" && !wrongDirection(e) && Math.abs(night(e.range_to_sha) - corpus.changeNight) <= 1);

  const lead = (e: BenchEvent) => corpus.series.find((s) => s.key.model === e.model)!;
  const bisectionContext = (e: BenchEvent) => ({
    graph,
    isCode,
    options,
    day: T0 + (NIGHTS + 1) * DAY_MS,
    r,
    measure: (s: string) => levelAt(corpus, graph, lead(e), s, true) * (1 + gaussian(r, 0, lead(e).cv)),
  });

  let wronglyBlamed = 0;
  let spuriousRuns = 0;
  let spuriousBlamed = 0;
  const others = events.filter((e) => e !== target && e !== noCodeEvent);
  const split = corpus.noCode
    ? []
    : // A no_code event's range_to is the code first measured on the night it falls after: the change's night for a split.
      others.filter((e) =>
        e.kind === "no_code" ? night(e.range_to_sha) === corpus.changeNight : !wrongDirection(e) && Math.abs(night(e.range_to_sha) - corpus.changeNight) <= 1,
      );
  let outcome: CorpusResult["bisection"];
  for (const e of events) {
    wronglyBlamed += e.code_commits.filter(notCode).length;
    if (e.code_commits.length <= 1) {
      if (e !== target && e.code_commits.length === 1) spuriousBlamed++;
      continue;
    }
    const b = simulateBisection(e, bisectionContext(e));
    if (b.status === "bisected" && notCode(b.blamed)) wronglyBlamed++;
    if (e === target) {
      const k = e.code_commits.length;
      outcome = { ...b, exact: b.status === "bisected" && b.blamed === corpus.culprit, within_bound: b.runs <= bound(k) };
    } else {
      spuriousRuns += b.runs;
      if (b.status === "bisected") spuriousBlamed++;
    }
  }
  return {
    index: corpus.index,
    no_code: corpus.noCode,
    change_night: corpus.changeNight,
    step_pct: Math.round(corpus.step * 1000) / 10,
    day_code_commits: corpus.dayCodeCommits,
    culprit_in_branch: corpus.culpritInBranch,
    lead_cv_pct: target ? Math.round(lead(target).cv * 1000) / 10 : undefined,
    events: events.length,
    spurious_events: others.length,
    split_events: split.length,
    split_no_code_events: split.filter((e) => e.kind === "no_code").length,
    found,
    honest: target !== undefined,
    exact_without: target !== undefined && target.code_commits.length === 1 && target.code_commits[0] === corpus.culprit,
    k: target?.code_commits.length,
    k_search: target && target.code_commits.length + target.code_commits.reduce((a, m) => a + graph.mergedCommits(m).filter(isCode).length, 0),
    bisection: outcome,
    wrongly_blamed: wronglyBlamed,
    no_code_told: corpus.noCode ? noCodeEvent !== undefined : undefined,
    no_code_blamed: corpus.noCode ? events.some((e) => e.code_commits.length > 0) : undefined,
    spurious_bisection_runs: spuriousRuns,
    spurious_blamed: spuriousBlamed,
  };
}

function measuredCode(graph: CommitGraph, s: string, isCode: Attribution["isCode"]): string {
  for (const c of graph.firstParentChain(s)) if (isCode(c)) return c.sha;
  return s;
}

const pct = (a: number, b: number) => (b === 0 ? NaN : (100 * a) / b);
const show = (x: number) => (Number.isNaN(x) ? "n/a" : `${x.toFixed(1)} %`);

export async function attributionSection(options: { corpora: number; quick?: boolean }): Promise<SectionResult> {
  const env = parseEnv({});
  const config = { ...changeConfig(env), lookbackDays: NIGHTS };
  const bisection: BisectionOptions = { ...DEFAULT_BISECTION_OPTIONS, zDecide: env.MUSE_BISECT_Z, maxRunsPerCommit: env.MUSE_BISECT_MAX_RUNS };
  say(`attribution: ${options.corpora} corpora of ${NIGHTS} nights (seed ${SEED})`);
  const results: CorpusResult[] = [];
  const t0 = performance.now();
  for (let i = 0; i < options.corpora; i++) {
    results.push(runCorpus(buildCorpus(i), config, bisection));
    if ((i + 1) % 50 === 0 || i + 1 === options.corpora) say(`attribution: ${i + 1}/${options.corpora} corpora`);
  }
  const ms = performance.now() - t0;

  const code = results.filter((x) => !x.no_code);
  const noCode = results.filter((x) => x.no_code);
  const bisected = code.filter((x) => x.bisection);
  const runs = bisected.map((x) => x.bisection!.runs);
  const within = bisected.filter((x) => x.bisection!.within_bound).length;
  const exactAfter = code.filter((x) => x.bisection?.exact || (x.exact_without && !x.bisection)).length;
  const honest = code.filter((x) => x.honest).length;
  const wronglyBlamed = results.reduce((a, x) => a + x.wrongly_blamed, 0);
  const noCodeCorrect = noCode.filter((x) => x.no_code_told && !x.no_code_blamed).length;
  const byStatus = Object.fromEntries(["bisected", "stuck", "bisecting"].map((s) => [s, bisected.filter((x) => x.bisection!.status === s).length]));
  const branch = code.filter((x) => x.culprit_in_branch);
  const figures = {
    corpora: results.length,
    code_corpora: code.length,
    no_code_corpora: noCode.length,
    detection_recall_pct: pct(results.filter((x) => x.found).length, results.length),
    detection_recall_code_pct: pct(code.filter((x) => x.found).length, code.length),
    honest_range_pct: pct(honest, code.length),
    exact_without_bisection_pct: pct(code.filter((x) => x.exact_without).length, code.length),
    exact_after_bisection_pct: pct(exactAfter, code.length),
    exact_after_bisection_of_honest_pct: pct(exactAfter, honest),
    culprit_in_merged_branch: { corpora: branch.length, exact_after_bisection: branch.filter((x) => x.bisection?.exact).length },
    bisection_status: byStatus,
    bisection_steps_by_limit: bisected.reduce((a, x) => a + x.bisection!.by_limit, 0),
    extra_runs: {
      median: runs.length ? median(runs) : NaN,
      p90: percentile(runs, 90),
      max: runs.length ? Math.max(...runs) : NaN,
      mean: runs.length ? runs.reduce((a, b) => a + b, 0) / runs.length : NaN,
      within_bound_pct: pct(within, bisected.length),
      over_bound: bisected.length - within,
      // The bound with K counting the code commits merges brought too (the space bisection may search).
      within_search_bound_pct: pct(bisected.filter((x) => x.bisection!.runs <= bound(x.k_search!)).length, bisected.length),
      rounds_median: bisected.length ? median(bisected.map((x) => x.bisection!.rounds)) : NaN,
      rounds_p90: percentile(
        bisected.map((x) => x.bisection!.rounds),
        90,
      ),
      // By signal to noise: |step| / CV of the lead series.
      by_step_over_cv: [
        [0, 5],
        [5, 8],
        [8, 12],
        [12, Infinity],
      ].map(([lo, hi]) => {
        const g = bisected.filter((x) => Math.abs(x.step_pct) / x.lead_cv_pct! >= lo && Math.abs(x.step_pct) / x.lead_cv_pct! < hi);
        return {
          step_over_cv: hi === Infinity ? `≥ ${lo}` : `${lo}–${hi}`,
          changes: g.length,
          median_runs: g.length ? median(g.map((x) => x.bisection!.runs)) : NaN,
          over_bound: g.filter((x) => !x.bisection!.within_bound).length,
          not_exact: g.filter((x) => !x.bisection!.exact).length,
          steps_decided_by_limit: g.reduce((a, x) => a + x.bisection!.by_limit, 0),
        };
      }),
    },
    range_code_commits: { median: bisected.length ? median(bisected.map((x) => x.k!)) : NaN, max: Math.max(0, ...bisected.map((x) => x.k!)) },
    bot_or_docs_blamed: wronglyBlamed,
    no_code_told_pct: pct(noCodeCorrect, noCode.length),
    no_code_event_found_pct: pct(noCode.filter((x) => x.no_code_told).length, noCode.length),
    no_code_corpora_with_a_code_event: noCode.filter((x) => x.no_code_blamed).length,
    spurious_events: results.reduce((a, x) => a + x.spurious_events, 0),
    split_events: results.reduce((a, x) => a + x.split_events, 0),
    split_no_code_events: results.reduce((a, x) => a + x.split_no_code_events, 0),
    spurious_bisection_runs: results.reduce((a, x) => a + x.spurious_bisection_runs, 0),
    spurious_events_blaming_a_commit: results.reduce((a, x) => a + x.spurious_blamed, 0),
    ms_per_corpus: ms / results.length,
  };

  // What went wrong, for the report: the first failing corpora.
  const failing = code.filter((x) => !x.bisection?.exact && !x.exact_without);
  const overBound = bisected.filter((x) => !x.bisection!.within_bound);
  for (const x of [...failing.slice(0, 8), ...overBound.filter((x) => !failing.includes(x)).slice(0, 4)]) {
    const b = x.bisection;
    say(
      `attribution: corpus ${x.index}: step ${x.step_pct} %, lead CV ${x.lead_cv_pct ?? "?"} %, ${x.day_code_commits} code commits that day` +
        `${x.culprit_in_branch ? " (culprit on a merged branch)" : ""}, found ${x.found}, honest range ${x.honest} (K = ${x.k ?? "-"})` +
        (b
          ? `, bisection ${b.status} in ${b.runs} runs / ${b.rounds} rounds, ${b.steps} steps (${b.by_limit} by the limit), exact ${b.exact}${b.note ? `: ${b.note}` : ""}`
          : ""),
    );
  }
  if (noCode.length) {
    for (const x of noCode.filter((x) => !(x.no_code_told && !x.no_code_blamed)).slice(0, 4)) {
      say(
        `attribution: no-code corpus ${x.index}: env step ${x.step_pct} %, told as no code ${x.no_code_told}, a code event ${x.no_code_blamed}, ${x.events} events`,
      );
    }
  }

  writeChart(bisected.map((x) => ({ k: x.k!, runs: x.bisection!.runs, exact: x.bisection!.exact })));

  const goal = {
    exact_after_bisection: figures.exact_after_bisection_pct >= 90,
    within_bound: figures.extra_runs.within_bound_pct >= 95,
    bot_docs_blamed: wronglyBlamed === 0,
    no_code: figures.no_code_told_pct >= 95,
  };
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const section = "attribution";
  const rows: Row[] = [
    {
      section,
      measure: "exact commit without bisection",
      value: show(figures.exact_without_bisection_pct),
      note: `${code.length} corpora with a code change; 5–30 code commits between the two nightlies`,
    },
    { section, measure: "honest range: the event's code commits contain the culprit", value: show(figures.honest_range_pct) },
    {
      section,
      measure: "exact commit after bisection",
      value: show(figures.exact_after_bisection_pct),
      ratio: `${show(figures.exact_after_bisection_of_honest_pct)} of honest ranges`,
      note: `goal ≥ 90 %: ${verdict(goal.exact_after_bisection)}; ${byStatus.bisected} bisected, ${byStatus.stuck} stuck, ${byStatus.bisecting} unfinished`,
    },
    {
      section,
      measure: "extra runs per change (median / p90 / max)",
      value: `${figures.extra_runs.median} / ${figures.extra_runs.p90} / ${figures.extra_runs.max}`,
      ratio: `${show(figures.extra_runs.within_bound_pct)} within 2·log2(K)+4`,
      note: `goal all or nearly all (≥ 95 %): ${verdict(goal.within_bound)}; ${figures.extra_runs.over_bound} over; K median ${figures.range_code_commits.median}; rounds median ${figures.extra_runs.rounds_median}, p90 ${figures.extra_runs.rounds_p90}`,
    },
    { section, measure: "bot/docs commits blamed", value: String(wronglyBlamed), note: `goal 0: ${verdict(goal.bot_docs_blamed)}` },
    {
      section,
      measure: "no-code corpora told as no code (and nothing blamed)",
      value: show(figures.no_code_told_pct),
      note: `${noCode.length} corpora: environment step, only docs and the bot that day`,
    },
    {
      section,
      measure: "detection recall (the planted change found at all)",
      value: show(figures.detection_recall_pct),
      note:
        `${figures.spurious_events} other events in ${results.length} corpora: ${figures.split_events} a moving series placed a night off ` +
        `(${figures.split_no_code_events} of them told as no code), ${figures.spurious_events - figures.split_events} false alarms; ${figures.spurious_bisection_runs} bisection runs on them, ${figures.spurious_events_blaming_a_commit} blaming a commit`,
    },
  ];
  return {
    rows,
    details: {
      seed: SEED,
      corpus: {
        nights: NIGHTS,
        code_commits_per_day: "0–6 (5–30 on the change's day)",
        docs_share: DOCS_SHARE,
        merge_day_share: MERGE_SHARE,
        backdated_share: BACKDATED_SHARE,
        moving_series: "3–6",
        stable_series: STABLE_SERIES,
        step_pct: "10–50, either sign",
        cv_pct: "1–3",
        no_code_share: NO_CODE_SHARE,
        bisection_day_offset_sd: DAY_OFFSET_SD,
      },
      change_config: config,
      bisection_options: bisection,
      goals: goal,
      ...figures,
      // The corpora worth a look (not exact, over the bound, other events, a no-code corpus told wrong), not all of them.
      notable_corpora: results
        .filter(
          (x) =>
            (!x.no_code && !x.bisection?.exact && !x.exact_without) ||
            (x.bisection && !x.bisection.within_bound) ||
            x.spurious_events > 0 ||
            (x.no_code && !(x.no_code_told && !x.no_code_blamed)),
        )
        .map((x) => ({ ...x, bisection: x.bisection && { ...x.bisection, blamed: undefined } })),
    },
  };
}

/** Extra runs against code commits in the range, one dot per change, with the 2·log2(K)+4 bound. */
function writeChart(points: { k: number; runs: number; exact: boolean }[]): void {
  const [W, H] = [640, 300];
  const m = { top: 48, right: 16, bottom: 48, left: 56 };
  const [iw, ih] = [W - m.left - m.right, H - m.top - m.bottom];
  const kMax = Math.max(32, ...points.map((p) => p.k));
  const yMax = Math.ceil(Math.max(bound(kMax), ...points.map((p) => p.runs)) / 5) * 5 + 5;
  const x = (k: number) => (k / kMax) * iw;
  const y = (v: number) => ih - (v / yMax) * ih;
  const font = `font-family="system-ui, sans-serif" fill="#333"`;
  const text = `${font} font-size="11"`;
  // Dots at the same (K, runs) are spread sideways a little, deterministically.
  const seen = new Map<string, number>();
  const dots = points
    .map((p) => {
      const key = `${p.k}:${p.runs}`;
      const i = seen.get(key) ?? 0;
      seen.set(key, i + 1);
      const dx = ((i % 5) - 2) * 1.6;
      const dy = (Math.floor(i / 5) % 3) * -1.6;
      const over = p.runs > bound(p.k);
      const fill = !p.exact ? "#c0504d" : over ? "#e0a030" : "#2f6fb0";
      return `<circle cx="${(x(p.k) + dx).toFixed(1)}" cy="${(y(p.runs) + dy).toFixed(1)}" r="2.6" fill="${fill}" fill-opacity="0.7"><title>K = ${p.k}: ${p.runs} runs${p.exact ? "" : " (not exact)"}</title></circle>`;
    })
    .join("");
  const curve = Array.from({ length: kMax - 1 }, (_, i) => i + 2)
    .map((k) => `${x(k).toFixed(1)},${y(bound(k)).toFixed(1)}`)
    .join(" ");
  const xTicks = Array.from({ length: Math.floor(kMax / 5) + 1 }, (_, i) => i * 5)
    .map(
      (k) =>
        `<line x1="${x(k)}" x2="${x(k)}" y1="${ih}" y2="${ih + 4}" stroke="#999"/><text x="${x(k)}" y="${ih + 16}" text-anchor="middle" ${text}>${k}</text>`,
    )
    .join("");
  const yTicks = Array.from({ length: yMax / 5 + 1 }, (_, i) => i * 5)
    .map(
      (v) =>
        `<line x1="-4" x2="0" y1="${y(v)}" y2="${y(v)}" stroke="#999"/><line x1="0" x2="${iw}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="-8" y="${y(v) + 3}" text-anchor="end" ${text}>${v}</text>`,
    )
    .join("");
  const legend = [
    ["#2f6fb0", "exact, within the bound"],
    ["#e0a030", "exact, over the bound"],
    ["#c0504d", "not the culprit"],
  ]
    .map(([c, l], i) => `<g transform="translate(${m.left + i * 170}, 30)"><circle cx="5" cy="5" r="4" fill="${c}"/><text x="14" y="9" ${text}>${l}</text></g>`)
    .join("");
  const title = "Bisection: extra runs per change against code commits in its range";
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}">` +
    `<title>${title}</title><rect width="${W}" height="${H}" fill="#fff"/>` +
    `<text x="${m.left}" y="18" ${font} font-size="14" font-weight="600">${title}</text>${legend}` +
    `<g transform="translate(${m.left}, ${m.top})">${yTicks}${xTicks}` +
    `<line x1="0" x2="${iw}" y1="${ih}" y2="${ih}" stroke="#999"/><line x1="0" x2="0" y1="0" y2="${ih}" stroke="#999"/>` +
    `<polyline points="${curve}" fill="none" stroke="#555" stroke-dasharray="4 3"/>` +
    `<text x="${iw}" y="${y(bound(kMax)) - 6}" text-anchor="end" ${text}>2·log2(K) + 4</text>${dots}` +
    `<text x="${iw / 2}" y="${ih + 36}" text-anchor="middle" ${text}>code commits in the range (K)</text>` +
    `<text transform="translate(-40, ${ih / 2}) rotate(-90)" text-anchor="middle" ${text}>extra benchmark runs</text>` +
    `</g></svg>\n`;
  const dir = path.join(projectRoot, "docs", "img");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "attribution.svg"), svg);
}
