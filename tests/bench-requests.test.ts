import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerCannotRun,
  BenchRequestError,
  claimRequest,
  listRequests,
  markDispatched,
  markRequestsDone,
  pendingRequests,
  putRequests,
  runsRequestedOn,
  type NewBenchRequest,
} from "../lib/bisection/requests";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ingest, ingestOptions } from "../lib/agents/ingest";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, MemoryRepo, testDeps } from "./helpers/deps";

/** lib/bisection/requests.ts on real ClickHouse, with injected times. */

const T0 = new Date("2031-03-10T08:00:00.000Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const SHA = "0123456789abcdef0123456789abcdef01234567";

let seq = 0;
function request(overrides: Partial<NewBenchRequest> = {}): NewBenchRequest {
  seq += 1;
  return {
    request_id: `req-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    event_id: "event-1",
    commit_sha: SHA,
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "int8",
    variant: "int8",
    dataset: "wikitext-2",
    device: "cuda",
    repeats: 3,
    reason: "bisect latency_p95_ms between two nightly runs",
    requested_at: T0,
    expires_at: at(24 * 60),
    ...overrides,
  };
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const stored = async (id: string) => (await listRequests(t.db, { ids: [id] }))[0];

describe("putRequests", () => {
  it("is idempotent: the same ids twice make no duplicates, and the second call creates nothing", async () => {
    const batch = [request({ event_id: "event-put" }), request({ event_id: "event-put" })];
    expect(await putRequests(t.db, batch)).toEqual(batch.map((r) => r.request_id));
    expect(await putRequests(t.db, batch)).toEqual([]);
    const [{ n }] = await t.db.query<{ n: number }>("SELECT count() AS n FROM bench_requests FINAL WHERE event_id = 'event-put'");
    expect(Number(n)).toBe(2);
    // A stored id is left untouched, whatever the new call says about it, and whatever its status.
    await claimRequest(t.db, batch[0].request_id, "runner-a", at(1), 600);
    expect(await putRequests(t.db, [{ ...batch[0], reason: "something else", repeats: 9 }])).toEqual([]);
    const row = await stored(batch[0].request_id);
    expect(row).toMatchObject({ status: "claimed", reason: batch[0].reason, repeats: 3, claimed_by: "runner-a" });
  });

  it("stores the request as given, pending, and keeps the first of one id in a batch", async () => {
    const r = request({ event_id: "event-shape" });
    expect(await putRequests(t.db, [r, { ...r, reason: "duplicate" }])).toEqual([r.request_id]);
    expect(await stored(r.request_id)).toEqual({
      request_id: r.request_id,
      event_id: "event-shape",
      commit_sha: SHA,
      benchmark_type: "quantization",
      model: "llama-3.1-8b",
      quant: "int8",
      variant: "int8",
      dataset: "wikitext-2",
      device: "cuda",
      repeats: 3,
      reason: r.reason,
      status: "pending",
      claimed_by: "",
      lease_until: null,
      answer: "",
      dispatched_at: null,
      requested_at: T0.toISOString(),
      expires_at: at(24 * 60).toISOString(),
      updated_at: T0.toISOString(),
    });
  });

  it("refuses an invalid request, naming it and the field, and writes nothing", async () => {
    const good = request();
    await expect(putRequests(t.db, [good, request({ request_id: "no spaces allowed" })])).rejects.toThrow(BenchRequestError);
    await expect(putRequests(t.db, [request({ commit_sha: "HEAD" })])).rejects.toThrow(/commit_sha/);
    await expect(putRequests(t.db, [request({ expires_at: T0 })])).rejects.toThrow(/expires_at/);
    await expect(putRequests(t.db, [request({ repeats: 0 })])).rejects.toThrow(/repeats/);
    expect(await listRequests(t.db, { ids: [good.request_id] })).toEqual([]);
  });
});

describe("claimRequest", () => {
  it("gives a request to exactly one of two runners racing for it", async () => {
    for (let round = 0; round < 5; round++) {
      const r = request();
      await putRequests(t.db, [r]);
      const outcomes = await Promise.all([claimRequest(t.db, r.request_id, "runner-a", at(5), 600), claimRequest(t.db, r.request_id, "runner-b", at(5), 600)]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok)).toEqual([{ ok: false, reason: "taken" }]);
      const winner = outcomes.find((o) => o.ok)!;
      expect((await stored(r.request_id)).claimed_by).toBe(winner.ok ? winner.request.claimed_by : "");
    }
  });

  it("answers not_found for an unknown id, taken while the lease lives, and lets the holder claim again", async () => {
    const r = request();
    await putRequests(t.db, [r]);
    expect(await claimRequest(t.db, "no-such-request", "runner-a", at(1), 600)).toEqual({ ok: false, reason: "not_found" });
    const first = await claimRequest(t.db, r.request_id, "runner-a", at(1), 600);
    expect(first).toMatchObject({ ok: true, request: { status: "claimed", claimed_by: "runner-a", lease_until: at(11).toISOString() } });
    expect(await claimRequest(t.db, r.request_id, "runner-b", at(5), 600)).toEqual({ ok: false, reason: "taken" });
    expect(await claimRequest(t.db, r.request_id, "runner-a", at(6), 600)).toMatchObject({ ok: true, request: { claimed_by: "runner-a" } });
  });

  it("makes a claimed request claimable again once its lease expired (and pending in the meantime)", async () => {
    const r = request();
    await putRequests(t.db, [r]);
    expect((await claimRequest(t.db, r.request_id, "runner-a", at(10), 60)).ok).toBe(true);
    const pendingIds = async (minutes: number) => (await pendingRequests(t.db, at(minutes), 500)).map((p) => p.request_id);
    expect(await pendingIds(10.5)).not.toContain(r.request_id);
    expect(await claimRequest(t.db, r.request_id, "runner-b", at(10.5), 60)).toEqual({ ok: false, reason: "taken" });
    // runner-a's lease ended at 11 min; runner-b's losing claim was withdrawn, so it holds nothing either.
    expect(await pendingIds(12)).toContain(r.request_id);
    const taken = await claimRequest(t.db, r.request_id, "runner-c", at(12), 60);
    expect(taken).toMatchObject({ ok: true, request: { claimed_by: "runner-c" } });
    expect(await claimRequest(t.db, r.request_id, "runner-a", at(12.5), 60)).toEqual({ ok: false, reason: "taken" });
  });

  it("refuses a request that is answered, done or past expires_at as closed", async () => {
    const [done, late] = [request(), request({ expires_at: at(30) })];
    await putRequests(t.db, [done, late]);
    await markRequestsDone(t.db, [done.request_id], at(2));
    expect(await claimRequest(t.db, done.request_id, "runner-a", at(3), 60)).toEqual({ ok: false, reason: "closed" });
    expect(await claimRequest(t.db, late.request_id, "runner-a", at(31), 60)).toEqual({ ok: false, reason: "closed" });
  });
});

describe("answerCannotRun", () => {
  it("closes the request with the runner's answer (like git bisect skip); a retry is accepted, another runner's claim is not overridden", async () => {
    const [mine, theirs] = [request(), request()];
    await putRequests(t.db, [mine, theirs]);
    await claimRequest(t.db, mine.request_id, "runner-a", at(1), 600);
    const answered = await answerCannotRun(t.db, mine.request_id, "runner-a", "the commit does not build", at(2));
    expect(answered).toMatchObject({ ok: true, request: { status: "cannot_run", claimed_by: "runner-a", answer: "the commit does not build" } });
    expect(await answerCannotRun(t.db, mine.request_id, "runner-a", "the commit does not build", at(3))).toMatchObject({ ok: true });
    expect(await claimRequest(t.db, mine.request_id, "runner-b", at(4), 600)).toEqual({ ok: false, reason: "closed" });
    expect((await pendingRequests(t.db, at(4), 500)).map((p) => p.request_id)).not.toContain(mine.request_id);

    await claimRequest(t.db, theirs.request_id, "runner-b", at(1), 600);
    expect(await answerCannotRun(t.db, theirs.request_id, "runner-a", "no GPU", at(2))).toEqual({ ok: false, reason: "taken" });
    expect(await answerCannotRun(t.db, "no-such-request", "runner-a", "no GPU", at(2))).toEqual({ ok: false, reason: "not_found" });
  });
});

describe("pendingRequests and expiry", () => {
  it("lists pending requests oldest first, never those past expires_at, which listRequests reports as expired", async () => {
    const early = request({ event_id: "event-expiry", requested_at: at(-60), expires_at: at(100) });
    const later = request({ event_id: "event-expiry", requested_at: at(-30), expires_at: at(100) });
    const expiring = request({ event_id: "event-expiry", requested_at: at(-90), expires_at: at(50) });
    await putRequests(t.db, [later, expiring, early]);
    const ids = async (minutes: number) =>
      (await pendingRequests(t.db, at(minutes), 500)).map((p) => p.request_id).filter((id) => [early, later, expiring].some((r) => r.request_id === id));
    expect(await ids(40)).toEqual([expiring.request_id, early.request_id, later.request_id]);
    expect((await listRequests(t.db, { eventIds: ["event-expiry"], now: at(60) })).map((r) => [r.request_id, r.status])).toEqual([
      [expiring.request_id, "expired"],
      [early.request_id, "pending"],
      [later.request_id, "pending"],
    ]);
    expect(await ids(60)).toEqual([early.request_id, later.request_id]);
    // pendingRequests marked it expired on the way: stored so, also without `now`.
    expect((await listRequests(t.db, { eventIds: ["event-expiry"], status: ["expired"] })).map((r) => r.request_id)).toEqual([expiring.request_id]);
  });
});

describe("markRequestsDone, runsRequestedOn, markDispatched", () => {
  it("marks requests done and reports unknown ids without failing", async () => {
    const r = request();
    await putRequests(t.db, [r]);
    await claimRequest(t.db, r.request_id, "runner-a", at(1), 600);
    expect(await markRequestsDone(t.db, [r.request_id, "never-requested", r.request_id], at(2))).toEqual({
      done: [r.request_id],
      unknown: ["never-requested"],
    });
    expect(await stored(r.request_id)).toMatchObject({ status: "done", claimed_by: "runner-a", lease_until: null });
    // Done is final, even when a clock runs behind.
    await markRequestsDone(t.db, [r.request_id], at(-100));
    expect(await answerCannotRun(t.db, r.request_id, "runner-a", "late", at(3))).toEqual({ ok: false, reason: "closed" });
    expect((await stored(r.request_id)).status).toBe("done");
  });

  it("sums the repeats requested per UTC day", async () => {
    const day = new Date("2031-05-01T00:00:00.000Z");
    const on = (iso: string, repeats: number) => request({ requested_at: new Date(iso), expires_at: new Date("2031-06-01T00:00:00Z"), repeats });
    await putRequests(t.db, [
      on("2031-05-01T00:00:00.000Z", 3),
      on("2031-05-01T23:59:59.999Z", 5),
      on("2031-05-02T00:00:00.000Z", 7),
      on("2031-04-30T23:59:59.999Z", 11),
    ]);
    expect(await runsRequestedOn(t.db, new Date("2031-05-01T15:00:00Z"))).toBe(8);
    expect(await runsRequestedOn(t.db, day)).toBe(8);
    expect(await runsRequestedOn(t.db, new Date("2031-05-03T00:00:00Z"))).toBe(0);
  });

  it("records a dispatch once", async () => {
    const r = request();
    await putRequests(t.db, [r]);
    await markDispatched(t.db, [r.request_id], at(1));
    await markDispatched(t.db, [r.request_id], at(2));
    expect(await stored(r.request_id)).toMatchObject({ status: "pending", dispatched_at: at(1).toISOString() });
  });
});

describe("the ingest agent", () => {
  it("marks the request a committed report names (its request_id) done, and stores the id on its rows", async () => {
    const commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
    const r = request({ commit_sha: commit });
    await putRequests(t.db, [r]);
    await claimRequest(t.db, r.request_id, "ci-runner", at(1), 3600);
    const report = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "reports", "quantization.json"), "utf8")) as Record<string, unknown>;
    const hearts = new MemoryRepo("banterhearts", [
      {
        sha: commit,
        ts: at(30).toISOString(),
        author: "bench-bot",
        message: "bisection run",
        parents: [],
        files: [{ path: "reports/bisect/q.json", status: "added", additions: 1, deletions: 0 }],
      },
    ]);
    hearts.files.set(
      `${commit}:reports/bisect/q.json`,
      JSON.stringify({ ...report, commit_sha: commit, generated_at: at(20).toISOString(), request_id: r.request_id }),
    );
    const deps = testDeps(t.db, { upstream: { hearts, packs: new MemoryRepo("banterpacks") }, clock: fixedClock(at(31).toISOString()) });
    const result = await ingest(ingestOptions.parse({}), deps);
    expect(result.summary).toMatchObject({ reports: 1, rejected: [] });
    expect(await stored(r.request_id)).toMatchObject({ status: "done", claimed_by: "ci-runner" });
    const rows = await t.db.query<{ request_id: string; n: number }>(
      "SELECT request_id, count() AS n FROM bench_runs FINAL WHERE commit_sha = {sha:String} GROUP BY request_id",
      { sha: commit },
    );
    expect(rows.map((row) => row.request_id)).toEqual([r.request_id]);
  });
});
