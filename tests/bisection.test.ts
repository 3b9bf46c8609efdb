import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import type { AttributedChange } from "../lib/analysis/changes";
import { bisectAgent } from "../lib/agents/bisect";
import { runAgent } from "../lib/agents/runner";
import { CommitGraph, type GraphCommit } from "../lib/attribution/graph";
import { advanceBisection, DEFAULT_BISECTION_CONFIG, type BisectionConfig } from "../lib/bisection/advance";
import {
  bisectionRequestId,
  DEFAULT_BISECTION_OPTIONS,
  planBisection,
  type BisectionInput,
  type BisectionRun,
  type BisectionState,
  type RequestState,
} from "../lib/bisection/bisect";
import { listRequests, markRequestsDone, putRequests } from "../lib/bisection/requests";
import { benchEventRow, groupIntoEvents, loadEvents, storeEvents, toRow, type BenchEventRow } from "../lib/lifecycle/events";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, testDeps } from "./helpers/deps";

/** lib/bisection: the replayed search (pure), one step of it against ClickHouse, and the bisect agent. */

/** A distinct 40-hex sha per number. */
const sha = (i: number) => (i + 1).toString(16).padStart(5, "0").repeat(8);
const FROM = sha(1000);
const EVENT = "event-bisect-1";
const DAY = "2031-03-10";
const NOW = new Date(`${DAY}T08:00:00.000Z`);

/** mulberry32 with Box–Muller: the same noise on every run. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

interface Runner {
  /** The value one run at `sha` measures, or "cannot_run". */
  measure(sha: string): number | "cannot_run";
}

/** A runner where commits before the culprit measure `before`, the culprit and after it `after`, plus N(0, noise²). */
function stepRunner(
  candidates: string[],
  culprit: number,
  o: { before?: number; after?: number; noise?: number; seed?: number; cannot?: string[] } = {},
): Runner {
  const noise = gaussian(o.seed ?? 7);
  const at = new Map(candidates.map((c, i) => [c, i]));
  return {
    measure(s) {
      if (o.cannot?.includes(s)) return "cannot_run";
      const i = s === FROM ? -1 : at.get(s);
      if (i === undefined) throw new Error(`asked for a commit outside the range: ${s}`);
      return (i >= culprit ? (o.after ?? 120) : (o.before ?? 100)) + (o.noise ?? 2) * noise();
    },
  };
}

/**
 * Plays a bisection to its end: every requested run is answered at once by `runner` (all on one day), and the
 * plan is replayed from the requests and runs, as every council run does.
 */
function simulate(candidates: string[], runner: Runner, sigma = 2, maxSteps = 60): { state: BisectionState; input: BisectionInput; batches: number } {
  const input: BisectionInput = { event_id: EVENT, from: FROM, candidates, requests: [], runs: [], sigma, now: NOW };
  for (let batch = 0; batch < maxSteps; batch++) {
    const state = planBisection(input);
    if (state.status !== "bisecting") return { state, input, batches: batch };
    expect(state.next.length, "a bisecting plan with nothing outstanding asks for runs").toBeGreaterThan(0);
    for (const next of state.next) {
      const value = runner.measure(next.commit_sha);
      input.requests.push({
        request_id: next.request_id,
        commit_sha: next.commit_sha,
        repeats: next.repeats,
        status: value === "cannot_run" ? "cannot_run" : "done",
        requested_at: NOW.toISOString(),
      });
      if (value === "cannot_run") continue;
      for (let r = 0; r < next.repeats; r++) {
        const ts = new Date(NOW.getTime() + (input.runs.length + 1) * 60_000).toISOString();
        input.runs.push({
          commit_sha: next.commit_sha,
          run_ts: ts,
          value: r === 0 ? value : (runner.measure(next.commit_sha) as number),
          request_id: next.request_id,
        });
      }
    }
  }
  throw new Error("the bisection did not end");
}

const range = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => sha(offset + i));

describe("planBisection", () => {
  it("asks first for both ends and the midpoint, with deterministic ids", () => {
    const candidates = range(5);
    const state = planBisection({ event_id: EVENT, from: FROM, candidates, requests: [], runs: [], sigma: 2, now: NOW });
    expect(state.status).toBe("bisecting");
    expect(state.next.map((r) => r.commit_sha)).toEqual([FROM, candidates[4], candidates[1]]);
    expect(state.next.map((r) => r.request_id)).toEqual([FROM, candidates[4], candidates[1]].map((s) => bisectionRequestId(EVENT, s, 0)));
    expect(state.next.every((r) => r.repeats === 1)).toBe(true);
    expect(state.remaining).toEqual(candidates);
    expect(state.steps_left).toBe(3);
    expect(state.extra_runs).toBe(0);
  });

  it("blames a range of one commit outright, asking for nothing", () => {
    const state = planBisection({ event_id: EVENT, from: FROM, candidates: [sha(0)], requests: [], runs: [], sigma: 2, now: NOW });
    expect(state.status).toBe("bisected");
    expect(state.blamed).toBe(sha(0));
    expect(state.next).toEqual([]);
  });

  for (const n of [2, 5, 16]) {
    it(`finds the culprit at every position of a range of ${n} code commits`, () => {
      const candidates = range(n);
      for (let culprit = 0; culprit < n; culprit++) {
        const { state, input } = simulate(candidates, stepRunner(candidates, culprit, { seed: 100 * n + culprit }));
        expect(state.status, `culprit ${culprit}`).toBe("bisected");
        expect(state.blamed, `culprit ${culprit}`).toBe(candidates[culprit]);
        expect(state.remaining).toEqual([candidates[culprit]]);
        expect(state.range_from).toBe(culprit === 0 ? FROM : candidates[culprit - 1]);
        expect(state.steps_left).toBe(0);
        expect(state.next).toEqual([]);
        expect(state.extra_runs).toBe(input.runs.length);
        expect(state.verdicts.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        // Every verdict is on the side of the culprit it belongs to.
        for (const v of state.verdicts) expect(v.side).toBe(candidates.indexOf(v.sha) >= culprit ? "after" : "before");
        // The ends are each run once: a clear step needs no repeats.
        expect(input.runs.filter((r) => r.commit_sha === FROM)).toHaveLength(1);
      }
    });
  }

  it("finds an improvement (the level falls) as well as a regression", () => {
    const candidates = range(8);
    const { state } = simulate(candidates, stepRunner(candidates, 5, { before: 50, after: 40, noise: 1 }), 1);
    expect(state.status).toBe("bisected");
    expect(state.blamed).toBe(candidates[5]);
  });

  it("repeats a commit that sits between the levels and decides it by the limit", () => {
    const candidates = range(3);
    // The middle commit measures halfway: it never decides by z, so it gets MAX_RUNS runs and the sign decides.
    const runner: Runner = { measure: (s) => (s === candidates[1] ? 110.5 : s === FROM || s === candidates[0] ? 100 : 120) };
    const { state, input } = simulate(candidates, runner);
    const v = state.verdicts.find((x) => x.sha === candidates[1])!;
    expect(v.by_limit).toBe(true);
    expect(v.n).toBe(DEFAULT_BISECTION_OPTIONS.maxRunsPerCommit);
    expect(v.side).toBe("after");
    expect(input.runs.filter((r) => r.commit_sha === candidates[1])).toHaveLength(DEFAULT_BISECTION_OPTIONS.maxRunsPerCommit);
    expect(input.requests.filter((r) => r.commit_sha === candidates[1]).map((r) => r.request_id)).toEqual(
      [0, 1, 2, 3].map((a) => bisectionRequestId(EVENT, candidates[1], a)),
    );
  });

  it("skips a commit that cannot be run, trying the nearest other one", () => {
    const candidates = range(5);
    const runner = stepRunner(candidates, 3, { cannot: [candidates[1]] });
    const first = planBisection({ event_id: EVENT, from: FROM, candidates, requests: [], runs: [], sigma: 2, now: NOW });
    expect(first.next.map((r) => r.commit_sha)).toContain(candidates[1]);
    const { state, input } = simulate(candidates, runner);
    expect(state.status).toBe("bisected");
    expect(state.blamed).toBe(candidates[3]);
    // After the skip, the next commit tried was its neighbour, and the skipped one was never asked for again.
    const asked = input.requests.map((r) => r.commit_sha);
    expect(asked.filter((s) => s === candidates[1])).toHaveLength(1);
    expect(asked[3]).toBe(candidates[2]);
    expect(state.verdicts.map((v) => v.sha)).not.toContain(candidates[1]);
  });

  it("treats a commit whose requests expired twice like one that cannot be run", () => {
    const candidates = range(5);
    const expired = (attempt: number): RequestState => ({
      request_id: bisectionRequestId(EVENT, candidates[1], attempt),
      commit_sha: candidates[1],
      repeats: 1,
      status: "expired",
      requested_at: NOW.toISOString(),
    });
    const base = { event_id: EVENT, from: FROM, candidates, runs: [] as BisectionRun[], sigma: 2, now: NOW };
    expect(planBisection({ ...base, requests: [expired(0)] }).next.map((r) => r.commit_sha)).toEqual([FROM, candidates[4], candidates[1]]);
    const retried = planBisection({ ...base, requests: [expired(0)] }).next.find((r) => r.commit_sha === candidates[1])!;
    expect(retried.request_id).toBe(bisectionRequestId(EVENT, candidates[1], 1));
    expect(planBisection({ ...base, requests: [expired(0), expired(1)] }).next.map((r) => r.commit_sha)).toEqual([FROM, candidates[4], candidates[2]]);
  });

  it("is stuck, with a note, when every commit left between two placed ones cannot be run", () => {
    const candidates = range(5);
    // The culprit is the commit that cannot be run: the search ends between its neighbours.
    const { state } = simulate(candidates, stepRunner(candidates, 1, { cannot: [candidates[1]] }));
    expect(state.status).toBe("stuck");
    expect(state.note).toMatch(/cannot be built or run/);
    expect(state.range_from).toBe(candidates[0]);
    expect(state.blamed).toBe(candidates[2]);
    expect(state.remaining).toEqual([candidates[1], candidates[2]]);
    expect(state.next).toEqual([]);
  });

  it("is stuck when an end of the range cannot be run", () => {
    const candidates = range(4);
    const { state } = simulate(candidates, stepRunner(candidates, 2, { cannot: [FROM] }));
    expect(state.status).toBe("stuck");
    expect(state.note).toMatch(/end of the range/);
  });

  it("ends stuck after the run limit when the change does not reproduce (the ends measure alike)", () => {
    const candidates = range(6);
    const { state, input, batches } = simulate(candidates, stepRunner(candidates, 0, { before: 100, after: 100, seed: 3 }));
    expect(state.status).toBe("stuck");
    expect(state.note).toMatch(/did not reproduce/);
    const max = DEFAULT_BISECTION_OPTIONS.maxRunsPerCommit;
    expect(input.runs.filter((r) => r.commit_sha === FROM)).toHaveLength(max);
    expect(input.runs.filter((r) => r.commit_sha === candidates[5])).toHaveLength(max);
    // The first batch (ends + midpoint), then one more run of each end per batch until the limit.
    expect(batches).toBe(max);
    expect(state.extra_runs).toBe(2 * max + 1);
    expect(state.verdicts).toEqual([]);
  });

  it("asks for nothing new while a request is outstanding", () => {
    const candidates = range(5);
    const first = planBisection({ event_id: EVENT, from: FROM, candidates, requests: [], runs: [], sigma: 2, now: NOW });
    const asRequests = (status: RequestState["status"]) =>
      first.next.map((r) => ({ request_id: r.request_id, commit_sha: r.commit_sha, repeats: r.repeats, status, requested_at: NOW.toISOString() }));
    for (const status of ["pending", "claimed"] as const) {
      const waiting = planBisection({ event_id: EVENT, from: FROM, candidates, requests: asRequests(status), runs: [], sigma: 2, now: NOW });
      expect(waiting.status).toBe("bisecting");
      expect(waiting.next).toEqual([]);
    }
    // The ends answered, the midpoint still pending: still nothing new.
    const requests = asRequests("done");
    requests[2].status = "pending";
    const runs: BisectionRun[] = [
      { commit_sha: FROM, run_ts: `${DAY}T09:00:00.000Z`, value: 100, request_id: requests[0].request_id },
      { commit_sha: candidates[4], run_ts: `${DAY}T09:01:00.000Z`, value: 120, request_id: requests[1].request_id },
    ];
    const partial = planBisection({ event_id: EVENT, from: FROM, candidates, requests, runs, sigma: 2, now: NOW });
    expect(partial.status).toBe("bisecting");
    expect(partial.next).toEqual([]);
    // Once it is answered, the next step is asked for.
    requests[2].status = "done";
    runs.push({ commit_sha: candidates[1], run_ts: `${DAY}T09:02:00.000Z`, value: 100.5, request_id: requests[2].request_id });
    const moved = planBisection({ event_id: EVENT, from: FROM, candidates, requests, runs, sigma: 2, now: NOW });
    expect(moved.next.map((r) => r.commit_sha)).toEqual([candidates[2]]);
    expect(moved.verdicts.map((v) => [v.sha, v.side])).toEqual([[candidates[1], "before"]]);
  });

  it("compares only the newest day's runs, re-running the ends on a new day", () => {
    const candidates = range(5);
    const first = planBisection({ event_id: EVENT, from: FROM, candidates, requests: [], runs: [], sigma: 2, now: NOW });
    const requests = first.next.map((r) => ({ ...r, status: "done" as const, requested_at: NOW.toISOString() }));
    const yesterday: BisectionRun[] = [
      { commit_sha: FROM, run_ts: "2031-03-09T09:00:00.000Z", value: 100, request_id: requests[0].request_id },
      { commit_sha: candidates[4], run_ts: "2031-03-09T09:01:00.000Z", value: 120, request_id: requests[1].request_id },
    ];
    // Only the midpoint ran today: the ends must be run again today before anything is compared.
    const today: BisectionRun = { commit_sha: candidates[1], run_ts: `${DAY}T09:00:00.000Z`, value: 100, request_id: requests[2].request_id };
    const state = planBisection({ event_id: EVENT, from: FROM, candidates, requests, runs: [...yesterday, today], sigma: 2, now: NOW });
    expect(state.verdicts).toEqual([]);
    expect(state.next.map((r) => r.request_id)).toEqual([bisectionRequestId(EVENT, FROM, 1), bisectionRequestId(EVENT, candidates[4], 1)]);
    expect(state.extra_runs).toBe(3);
  });

  it("gives two replays of the same requests and runs the same next requests", () => {
    const candidates = range(16);
    const runner = stepRunner(candidates, 11, { seed: 42 });
    const a = simulate(candidates, runner);
    const b = simulate(candidates, stepRunner(candidates, 11, { seed: 42 }));
    expect(b.input.requests).toEqual(a.input.requests);
    expect(b.state).toEqual(a.state);
    // Halfway through: the replay of a prefix asks for exactly the request the full play made next.
    const k = 5;
    const prefix = a.input.requests.slice(0, k);
    const ids = new Set(prefix.map((r) => r.request_id));
    const replay = (): BisectionInput => ({ ...a.input, requests: prefix, runs: a.input.runs.filter((r) => ids.has(r.request_id)) });
    const once = planBisection(replay());
    expect(planBisection(replay()).next).toEqual(once.next);
    expect(once.next.map((r) => r.request_id)).toEqual(a.input.requests.slice(k, k + once.next.length).map((r) => r.request_id));
    expect(new Set(a.input.requests.map((r) => r.request_id)).size).toBe(a.input.requests.length);
  });
});

// ---------------------------------------------------------------- against ClickHouse

const SELECTOR = { benchmark_type: "quantization", model: "llama-3.1-8b", quant: "q4_k_m", variant: "q4_k_m", dataset: "wikitext-2", device: "cuda" };

function eventRow(overrides: Partial<BenchEventRow> & Pick<BenchEventRow, "event_id" | "code_commits">): BenchEventRow {
  return benchEventRow.parse({
    first_detected_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
    run_id: "run-1",
    kind: "regression",
    state: "open",
    range_from_sha: FROM,
    range_to_sha: overrides.code_commits.at(-1)!,
    range_method: "graph",
    commit_ts: "2031-03-09T09:00:00.000Z",
    blamed_sha: "",
    bisection_status: "bisecting",
    bisection_steps: 0,
    bisection_steps_left: Math.ceil(Math.log2(overrides.code_commits.length)),
    bisection_extra_runs: 0,
    bisection_note: "",
    ...SELECTOR,
    metric: "latency_p95_ms",
    label: "quantization llama-3.1-8b q4_k_m (wikitext-2, cuda)",
    change_pct: 20,
    ci_low_pct: 15,
    ci_high_pct: 25,
    q_value: 0.001,
    mean_before: 100,
    mean_after: 120,
    stdev_before: 2,
    stdev_after: 2,
    n_before: 10,
    n_after: 10,
    series_changed: 1,
    fixed_by_event_id: "",
    fixed_by_sha: "",
    recovered_pct: null,
    recovered_ci_low: null,
    recovered_ci_high: null,
    returns_of: "",
    ...overrides,
  });
}

const RUN_NS = "0b8e6c52-1f0e-4d7c-8a4b-3c2d1e0f9a8b";

/** Answers every open request of the event with runs in bench_runs (request_id set) and marks them done. */
async function answer(t: TestDatabase, eventId: string, at: Date, level: (sha: string) => number): Promise<string[]> {
  const open = await listRequests(t.db, { eventIds: [eventId], status: ["pending", "claimed"], now: at });
  const rows = open.flatMap((r) =>
    Array.from({ length: r.repeats }, (_, i) => ({
      ts: new Date(at.getTime() + i * 1000).toISOString(),
      run_id: uuidv5(`${r.request_id}#${i}`, RUN_NS),
      commit_sha: r.commit_sha,
      ...SELECTOR,
      latency_mean_ms: level(r.commit_sha) * 0.8,
      latency_p50_ms: null,
      latency_p95_ms: level(r.commit_sha),
      latency_p99_ms: null,
      tokens_per_sec: 50,
      cost_per_1k: null,
      memory_peak_mb: null,
      extra: "{}",
      source_path: "",
      request_id: r.request_id,
    })),
  );
  await t.db.insert("bench_runs", rows);
  await markRequestsDone(
    t.db,
    open.map((r) => r.request_id),
    at,
  );
  return open.map((r) => r.commit_sha);
}

describe("advanceBisection", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });
  beforeEach(async () => {
    for (const table of ["bench_requests", "bench_runs", "bench_events"]) await t.db.command(`TRUNCATE TABLE ${table}`);
  });

  const config = (runsPerDay: number): BisectionConfig => ({ ...DEFAULT_BISECTION_CONFIG, runsPerDay });

  it("holds back what the day's budget does not allow, over all events, and says so", async () => {
    const a = eventRow({ event_id: "event-a", code_commits: range(5) });
    const step = await advanceBisection(t.db, a, { now: NOW, config: config(2) });
    expect(step.state.next).toHaveLength(3);
    expect(step.requested).toEqual([bisectionRequestId("event-a", FROM, 0), bisectionRequestId("event-a", range(5)[4], 0)]);
    expect(step.held_back).toBe(1);
    expect(step.event.bisection_note).toBe("waiting for the daily budget of 2 extra runs");
    expect(step.event.bisection_status).toBe("bisecting");
    expect(step.event.updated_at).toBe(NOW.toISOString());

    // Another event the same UTC day: the budget is spent.
    const b = eventRow({ event_id: "event-b", code_commits: range(3, 50) });
    const later = new Date(NOW.getTime() + 6 * 3_600_000);
    const blocked = await advanceBisection(t.db, b, { now: later, config: config(2) });
    expect(blocked.requested).toEqual([]);
    expect(blocked.held_back).toBe(3);
    expect(await listRequests(t.db, { eventIds: ["event-b"] })).toEqual([]);

    // The next UTC day it fits.
    const tomorrow = new Date(NOW.getTime() + 86_400_000);
    const next = await advanceBisection(t.db, b, { now: tomorrow, config: config(3) });
    expect(next.requested).toHaveLength(3);
    expect(next.held_back).toBe(0);
    expect(next.event.bisection_note).toBe("");
  });

  it("creates each request once when two council runs advance the same event", async () => {
    const e = eventRow({ event_id: "event-twice", code_commits: range(5) });
    const [one, two] = await Promise.all([advanceBisection(t.db, e, { now: NOW }), advanceBisection(t.db, e, { now: NOW })]);
    // Whichever of them got there first, the requests are the deterministic ones, each stored once.
    const ids = [FROM, range(5)[4], range(5)[1]].map((s) => bisectionRequestId("event-twice", s, 0));
    expect(one.state.next.map((r) => r.request_id)).toEqual(ids);
    expect([...new Set([...one.requested, ...two.requested])].sort()).toEqual([...ids].sort());
    const stored = await listRequests(t.db, { eventIds: ["event-twice"] });
    expect(stored.map((r) => r.request_id).sort()).toEqual([...ids].sort());
    const finalRows = await t.db.queryOne(
      "SELECT count() AS n FROM bench_requests FINAL WHERE event_id = 'event-twice'",
      {},
      z.object({ n: z.coerce.number() }),
    );
    expect(finalRows?.n).toBe(3);

    // A third run finds them and creates nothing; putting the same requests again creates nothing either.
    const three = await advanceBisection(t.db, e, { now: new Date(NOW.getTime() + 60_000) });
    expect(three.requested).toEqual([]);
    expect(three.state.next).toEqual([]);
    const again = one.state.next.map((n) => ({
      request_id: n.request_id,
      event_id: e.event_id,
      commit_sha: n.commit_sha,
      ...SELECTOR,
      repeats: n.repeats,
      reason: n.reason,
      requested_at: NOW,
      expires_at: new Date(NOW.getTime() + 3_600_000),
    }));
    expect(await putRequests(t.db, again)).toEqual([]);
    expect(await listRequests(t.db, { eventIds: ["event-twice"] })).toHaveLength(3);
  });

  it("goes on inside a merge the first-parent search blamed, and blames the branch commit", async () => {
    // main: FROM ─ C1 ─ M ─ C3, where M merges a branch FROM ─ D0 (docs only) ─ B1 ─ B2 (B2 is the culprit).
    const [C1, M, C3, D0, B1, B2] = [sha(1), sha(2), sha(3), sha(4), sha(5), sha(6)];
    const commit = (s: string, parents: string[], minute: number, files = ["src/model.py"]): GraphCommit => ({
      sha: s,
      ts: new Date(Date.parse("2031-03-08T00:00:00.000Z") + minute * 60_000).toISOString(),
      parents,
      files,
      message: "",
      author: "dev",
    });
    const graph = new CommitGraph([
      commit(FROM, [], 0),
      commit(D0, [FROM], 1, ["docs/notes.md"]),
      commit(B1, [D0], 2),
      commit(B2, [B1], 3),
      commit(C1, [FROM], 4),
      commit(M, [C1, B2], 5, ["src/model.py", "src/kernel.py"]),
      commit(C3, [M], 6),
    ]);
    expect(graph.firstParentRange(FROM, C3)!.map((c) => c.sha)).toEqual([C1, M, C3]);
    const after = new Set([B2, M, C3]);
    const level = (s: string) => (after.has(s) ? 120 : 100);
    const isCode = (c: { files: string[] }) => !c.files.every((f) => f.startsWith("docs/"));

    let event = eventRow({ event_id: "event-merge", code_commits: [C1, M, C3] });
    const asked: string[][] = [];
    let clock = NOW.getTime();
    for (let i = 0; i < 10 && event.bisection_status === "bisecting"; i++) {
      const step = await advanceBisection(t.db, event, { now: new Date(clock), graph, isCode });
      event = step.event;
      clock += 60_000;
      asked.push(await answer(t, "event-merge", new Date(clock), level));
      clock += 60_000;
    }
    expect(event.bisection_status).toBe("bisected");
    expect(event.blamed_sha).toBe(B2);
    // First the first-parent range (ends, then C1, then M), then inside the merge: B1, then B2. Never the docs commit.
    expect(asked.flat()).not.toContain(D0);
    expect(asked.map((batch) => [...batch].sort())).toEqual([[FROM, C3, C1].sort(), [M], [B1], [B2], []]);
    expect(event.bisection_steps).toBeGreaterThanOrEqual(4);
    expect(event.bisection_steps_left).toBe(0);
    expect(event.bisection_extra_runs).toBe(asked.flat().length);

    // Without the graph, the same runs stop at the merge.
    const flat = await advanceBisection(t.db, { ...event, bisection_status: "bisecting", blamed_sha: "" }, { now: new Date(clock) });
    expect(flat.event.bisection_status).toBe("bisected");
    expect(flat.event.blamed_sha).toBe(M);
  });
});

// ---------------------------------------------------------------- the bisect agent

describe("bisect agent", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  const candidates = range(6, 200);
  /** A stored event being bisected, as a council run stores it. */
  async function storeBisectingEvent(): Promise<BenchEventRow> {
    const change: AttributedChange = {
      change_id: "change-1",
      key: { ...SELECTOR, metric: "latency_p95_ms" },
      label: "llama",
      kind: "regression",
      change_pct: 20,
      ci_pct: [15, 25],
      p_value: 0.0001,
      q_value: 0.001,
      before: { n: 10, mean: 100, stdev: 2 },
      after: { n: 10, mean: 120, stdev: 2 },
      deterministic: false,
      commit_sha: candidates[5],
      commit_ts: "2031-03-09T09:00:00.000Z",
      previous_sha: FROM,
      candidates,
      range_method: "graph",
      status: "open",
      fixed_by_sha: "",
      fixed_ts: null,
    };
    const events = groupIntoEvents([change], [], { now: NOW, runId: "council-1" });
    expect(events[0].bisection_status).toBe("bisecting");
    await storeEvents(t.db, events, { now: NOW, runId: "council-1", stored: [] });
    return toRow(events[0]);
  }

  it("is skipped when MUSE_BISECT_RUNS_PER_DAY is 0", async () => {
    await storeBisectingEvent();
    const deps = testDeps(t.db, { clock: fixedClock(NOW.toISOString()), envVars: { MUSE_BISECT_RUNS_PER_DAY: "0" } });
    const record = await runAgent(bisectAgent, deps, { trigger: "cron" });
    expect(record.status).toBe("skipped");
    expect(record.reason).toMatch(/MUSE_BISECT_RUNS_PER_DAY/);
    expect(await listRequests(t.db, {})).toEqual([]);
  });

  it("asks for the next runs of a stored bisecting event within the budget and updates the event", async () => {
    const stored = await storeBisectingEvent();
    const later = new Date(NOW.getTime() + 15 * 60_000);
    const deps = testDeps(t.db, { clock: fixedClock(later.toISOString()), envVars: { MUSE_BISECT_RUNS_PER_DAY: "2" } });
    const record = await runAgent(bisectAgent, deps, { trigger: "cron" });
    expect(record.status).toBe("ok");
    expect(record.summary).toMatchObject({ events: 1, requested: 2, held_back: 1, bisected: [], stuck: [], dry_run: false });

    const requests = await listRequests(t.db, { eventIds: [stored.event_id] });
    expect(requests.map((r) => r.commit_sha).sort()).toEqual([FROM, candidates[5]].sort());
    expect(requests.every((r) => r.status === "pending" && r.model === SELECTOR.model && r.device === SELECTOR.device)).toBe(true);

    const [event] = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    expect(event.event_id).toBe(stored.event_id);
    expect(event.updated_at).toBe(later.toISOString());
    expect(event.first_detected_at).toBe(NOW.toISOString());
    expect(event.bisection_status).toBe("bisecting");
    expect(event.bisection_note).toBe("waiting for the daily budget of 2 extra runs");

    // Run again (another instance, a minute later): the requests are outstanding, nothing new is asked for.
    const again = await runAgent(bisectAgent, testDeps(t.db, { clock: fixedClock(new Date(later.getTime() + 60_000).toISOString()) }), { trigger: "cron" });
    expect(again.status).toBe("ok");
    expect(again.summary).toMatchObject({ events: 1, requested: 0 });
    expect(await listRequests(t.db, { eventIds: [stored.event_id] })).toHaveLength(2);
  });

  it("does not request or record anything in a dry run", async () => {
    await t.db.command("TRUNCATE TABLE bench_requests");
    await t.db.command("TRUNCATE TABLE bench_events");
    const stored = await storeBisectingEvent();
    const record = await runAgent(bisectAgent, testDeps(t.db, { clock: fixedClock(NOW.toISOString()) }), { trigger: "cli", options: { dryRun: true } });
    expect(record.status).toBe("ok");
    expect(record.summary).toMatchObject({ events: 1, requested: 0, held_back: 0, dry_run: true });
    expect(await listRequests(t.db, { eventIds: [stored.event_id] })).toEqual([]);
    const [event] = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    expect(event.updated_at).toBe(NOW.toISOString());
  });
});
