import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { computeFacts, type Facts } from "../lib/analysis/facts";
import { changeConfig } from "../lib/agents/council";
import { writeOffline } from "../lib/council/offline-writer";
import { draftToContent } from "../lib/episode/draft";
import { renderAndCheck } from "../lib/episode/truth";
import { parseEnv } from "../lib/env";
import { benchEventRow, openRegressionEvents, type BenchEventRow } from "../lib/lifecycle/events";
import { eventIdFromIssueBody, parseCommands } from "../lib/triage/commands";
import { applyTriage, foldTriage, leadSeriesId, mutedSeries, recentTriage, triageOf, type TriageActionRow } from "../lib/triage/store";
import { handleTriageRequest } from "../lib/triage/api";
import { serverContext } from "../lib/server-context";
import { memoryLogger } from "../lib/log";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { HEARTS_COMMIT, REGRESSION_COMMIT, seedSampleWindowWithCommits } from "./helpers/sample-window";

/**
 * Triage (docs/triage.md) on real ClickHouse: comment commands parsed; each action recorded in event_triage (who,
 * when, why, from where) and written into the event row; a regression triaged invalid or expected no longer open
 * (openRegressionEvents: the status page, GET /api/changes, the metric) and left out of / told as accepted in the
 * story; the triage kept when the council detects the event again; blame sets the commit; mute drops a series.
 */

const NS = "3f1c9a2e-7b5d-4e8f-a0c1-2d3e4f5a6b7c";
const NOW = "2026-11-15T01:00:00.000Z";
const run = (n: number) => uuidv5(`triage-run-${n}`, NS);
/** The offline story of the facts, checked against the truth rule (every number a fact reference). */
function story(f: Facts) {
  const draft = writeOffline(f, { series: "chimera", titleRules: { maxLength: 80 } });
  expect(renderAndCheck(draftToContent(draft), f, { lang: "en" }).problems).toEqual([]);
  return draft;
}
const ADMIN = "triage-admin-token-0123456789";

describe("comment commands", () => {
  it("reads /muse lines, their arguments and reasons; skips prose, quotes and code; notes unknown ones", () => {
    const parsed = parseCommands(
      [
        "Thanks for the report!",
        "/muse expected the new int8 kernel trades latency for memory",
        "> /muse invalid (quoted: someone else's words)",
        "```",
        "/muse ack",
        "```",
        "/MUSE ack",
        "/muse blame C0FFEE1 the kernel change",
        "/muse blame not-a-sha",
        "/muse mute quantization|llama|int8|int8|wikitext|cuda|latency_p95_ms flaky runner",
        "/muse frobnicate",
        "/muse",
      ].join("\r\n"),
    );
    expect(parsed.commands).toEqual([
      { action: "expected", argument: "", reason: "the new int8 kernel trades latency for memory", index: 0 },
      { action: "ack", argument: "", reason: "", index: 1 },
      { action: "blame", argument: "c0ffee1", reason: "the kernel change", index: 2 },
      { action: "mute", argument: "quantization|llama|int8|int8|wikitext|cuda|latency_p95_ms", reason: "flaky runner", index: 3 },
    ]);
    expect(parsed.notes).toHaveLength(3);
    expect(parsed.notes.join("\n")).toMatch(/blame" needs a commit sha[\s\S]*frobnicate[\s\S]*without a command/);
  });

  it("finds the event id in the issue body's hidden marker", () => {
    expect(eventIdFromIssueBody("## Regression\n\n<!-- muse-event:1b2c3d4e-aaaa-5bbb-8ccc-0123456789ab -->\n")).toBe("1b2c3d4e-aaaa-5bbb-8ccc-0123456789ab");
    expect(eventIdFromIssueBody("no marker")).toBeUndefined();
    expect(eventIdFromIssueBody(null)).toBeUndefined();
  });

  it("folds the log: the latest of expected/invalid/ack, reopen clears it, blame is kept beside it", () => {
    const a = (action: TriageActionRow["action"], at: string, extra: Partial<TriageActionRow> = {}): TriageActionRow => ({
      action_id: `${action}-${at}`,
      event_id: "e",
      action,
      argument: "",
      reason: "",
      actor: "octocat",
      source: "cli",
      delivery_id: "",
      created_at: `2026-11-15T0${at}:00:00.000Z`,
      ...extra,
    });
    expect(foldTriage([a("invalid", "2"), a("expected", "1", { reason: "cost" })])).toMatchObject({ triage: "invalid" });
    expect(foldTriage([a("expected", "1"), a("reopen", "2")])).toMatchObject({ triage: "", triage_at: null });
    expect(foldTriage([a("blame", "1", { argument: "abcdef1" }), a("ack", "2")])).toMatchObject({
      triage: "ack",
      blame_sha: "abcdef1",
      blame_actor: "octocat",
    });
  });
});

describe("triage on real ClickHouse", () => {
  let t: TestDatabase;
  let first: Facts;
  let event: BenchEventRow;
  const facts = (n: number, previous?: Facts) =>
    computeFacts(t.db, {
      window: { from: new Date(Date.parse(NOW) - 7 * 86_400_000), to: new Date(NOW) },
      now: new Date(Date.parse(NOW) + n * 60_000),
      freshSeconds: 43_200,
      changes: changeConfig(parseEnv({})),
      runId: run(n),
      previous: previous ? { ts: NOW, window_to: NOW, events: previous.events.map((e) => ({ ...e, triage: e.triage?.action ?? "" })) } : null,
    });
  const storedEvent = async () => (await t.db.query(`SELECT * FROM bench_events FINAL WHERE event_id = {id:String}`, { id: event.event_id }, benchEventRow))[0];

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedSampleWindowWithCommits(t.db, NS);
    // The sample's trend series creeps up 10 ms a day: a drift of its own (docs/change-points.md "Kinds"). This suite is
    // about the planted step, so a maintainer's word (invalid, before anything else here) leaves the drift out of the
    // story, its counts and the open regressions.
    await facts(0);
    const drifts = (await openRegressionEvents(t.db)).filter((e) => e.shape === "drift");
    expect(drifts).toHaveLength(1);
    await applyTriage(
      t.db,
      { event_id: drifts[0].event_id, action: "invalid", actor: "octocat", source: "api" },
      { now: new Date("2026-11-15T01:00:00.000Z") },
    );
    first = await facts(1);
    const open = await openRegressionEvents(t.db);
    expect(open).toHaveLength(1);
    event = open[0];
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("starts with one open regression at the data's commit, untriaged", () => {
    expect(first.events.map((e) => [e.kind, e.commit_sha, e.triage])).toEqual([["regression", REGRESSION_COMMIT, null]]);
    expect(first.facts.find((f) => f.id === "changes.open_regressions")?.value).toBe(1);
    expect(event.triage).toBe("");
  });

  it("expected: recorded (who, when, why, from where), no longer open, kept when detected again, told as accepted", async () => {
    const at = new Date("2026-11-15T02:00:00.000Z");
    const outcome = await applyTriage(
      t.db,
      { event_id: event.event_id, action: "expected", reason: "the int8 kernel trades latency for memory", actor: "octocat", source: "cli" },
      { now: at },
    );
    expect(outcome).toMatchObject({ ok: true, duplicate: false, event: { triage: "expected", triage_actor: "octocat" } });
    const [logged] = await recentTriage(t.db);
    expect(logged).toMatchObject({
      event_id: event.event_id,
      action: "expected",
      reason: "the int8 kernel trades latency for memory",
      actor: "octocat",
      source: "cli",
      created_at: at.toISOString(),
    });
    expect(await openRegressionEvents(t.db)).toEqual([]);
    expect((await triageOf(t.db, [event.event_id])).get(event.event_id)).toMatchObject({ triage: "expected" });

    // The council detects it again (a later run): the same id, the triage kept in the stored row.
    const again = await facts(2, first);
    expect((await storedEvent()).triage).toBe("expected");
    expect(await openRegressionEvents(t.db)).toEqual([]);
    expect(again.facts.find((f) => f.id === "changes.open_regressions")?.value).toBe(0);
    expect(again.open_regressions).toEqual([]);
    // A maintainer's new word is news since the previous episode: told as accepted.
    expect(again.events).toHaveLength(1);
    expect(again.events[0]).toMatchObject({ event_id: event.event_id, new: true, triage: { action: "expected", actor: "octocat" } });
    const draft = story(again);
    expect(draft.sections.what_changed).toContain("accepted by octocat as the cost of the change (the int8 kernel trades latency for memory)");
    expect(draft.sections.next_steps).not.toContain("Open regression");

    // And stored twice more, by the same run, nothing changes.
    await facts(2, first);
    expect((await storedEvent()).triage).toBe("expected");
  });

  it("a reason stating a number is not quoted in the story (numbers come from facts only)", async () => {
    await applyTriage(t.db, { event_id: event.event_id, action: "expected", reason: "costs 3 ms, worth it", actor: "octocat", source: "api" });
    const f = await facts(3);
    const draft = story(f);
    expect(draft.sections.what_changed).toContain("as the cost of an intended change");
    expect(draft.sections.what_changed).not.toContain("3 ms");
  });

  it("ack keeps it open and says so; reopen clears the word", async () => {
    await applyTriage(t.db, { event_id: event.event_id, action: "ack", actor: "hubot", source: "api" });
    expect((await openRegressionEvents(t.db)).map((e) => [e.event_id, e.triage])).toEqual([[event.event_id, "ack"]]);
    const f = await facts(4);
    expect(f.facts.find((x) => x.id === "changes.open_regressions")?.value).toBe(1);
    const draft = story(f);
    expect(draft.sections.what_changed).toContain("still open, acknowledged by hubot");
    await applyTriage(t.db, { event_id: event.event_id, action: "reopen", actor: "hubot", source: "api" });
    expect((await openRegressionEvents(t.db)).map((e) => e.triage)).toEqual([""]);
  });

  it("invalid: left out of the story, its counts and the open regressions", async () => {
    await applyTriage(t.db, { event_id: event.event_id, action: "invalid", reason: "runner swap", actor: "octocat", source: "api" });
    expect(await openRegressionEvents(t.db)).toEqual([]);
    const f = await facts(5);
    expect(f.events).toEqual([]);
    expect(f.facts.find((x) => x.id === "changes.events_found")?.value).toBe(0);
    expect(f.facts.find((x) => x.id === "changes.open_regressions")?.value).toBe(0);
    expect(f.facts.find((x) => x.id === "changes.regressions")?.value).toBe(0);
    expect((await storedEvent()).triage).toBe("invalid");
    await applyTriage(t.db, { event_id: event.event_id, action: "reopen", actor: "octocat", source: "api" });
  });

  it("blame <sha>: the event's commit, exact, recorded as a maintainer's blame, kept across detections", async () => {
    const outcome = await applyTriage(t.db, {
      event_id: event.event_id,
      action: "blame",
      argument: HEARTS_COMMIT.slice(0, 12),
      reason: "it is the kernel",
      actor: "octocat",
      source: "api",
    });
    expect(outcome).toMatchObject({ ok: true, event: { blamed_sha: HEARTS_COMMIT, blame_sha: HEARTS_COMMIT, blame_actor: "octocat", bisection_status: "" } });
    const f = await facts(6);
    expect(f.events[0]).toMatchObject({
      commit_sha: HEARTS_COMMIT,
      attribution: "exact",
      bisection: null,
      blamed_by: { actor: "octocat", reason: "it is the kernel" },
    });
    expect((await storedEvent()).blamed_sha).toBe(HEARTS_COMMIT);
    const draft = story(f);
    expect(draft.sections.what_changed).toContain("blamed by octocat, overriding bisection");
  });

  it("mute: the series' changes are dropped before grouping; unmute tells them again", async () => {
    const before = await facts(7);
    const series = before.events[0].series_changed;
    const outcome = await applyTriage(t.db, { event_id: event.event_id, action: "mute", reason: "noisy", actor: "octocat", source: "cli" });
    expect(outcome.ok && outcome.action.argument).toBe(leadSeriesId(event));
    expect(await mutedSeries(t.db)).toEqual(new Set([leadSeriesId(event)]));
    const muted = await facts(8);
    expect(muted.events[0]?.series_changed ?? 0).toBe(series - 1);
    await applyTriage(t.db, { event_id: event.event_id, action: "unmute", actor: "octocat", source: "cli" });
    expect(await mutedSeries(t.db)).toEqual(new Set());
    expect((await facts(9)).events[0].series_changed).toBe(series);
  });

  it("refuses an unknown event and a blame without a sha", async () => {
    expect(await applyTriage(t.db, { event_id: "no-such-event", action: "ack", actor: "x", source: "cli" })).toMatchObject({
      ok: false,
      reason: "unknown_event",
    });
    expect(await applyTriage(t.db, { event_id: event.event_id, action: "blame", actor: "x", source: "cli" })).toMatchObject({
      ok: false,
      reason: "invalid",
      field: "sha",
    });
  });

  describe("POST /api/changes/{id}/triage (MUSE_ADMIN_TOKEN)", () => {
    const context = () => serverContext({ env: parseEnv({ MUSE_ADMIN_TOKEN: ADMIN }), db: t.db, log: memoryLogger() });
    const post = (id: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }) =>
      handleTriageRequest(
        new Request(`http://localhost/api/changes/${id}/triage`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
        id,
        context,
      );

    it("401 without the admin token (and with another token)", async () => {
      expect((await post(event.event_id, { action: "ack", actor: "a" }, {})).status).toBe(401);
      expect((await post(event.event_id, { action: "ack", actor: "a" }, { authorization: "Bearer another-token-0000000000" })).status).toBe(401);
    });

    it("400 naming the field, 404 for an unknown event, 200 with what was recorded; an Idempotency-Key replay records nothing new", async () => {
      const bad = async (body: unknown, field: string) => {
        const r = await post(event.event_id, body);
        expect(r.status).toBe(400);
        expect(await r.json()).toMatchObject({ field });
      };
      await bad({ action: "shrug", actor: "a" }, "action");
      await bad({ action: "ack" }, "actor");
      await bad({ action: "blame", actor: "a" }, "sha");
      await bad({ action: "blame", actor: "a", sha: "xyz" }, "sha");
      await bad({ action: "ack", actor: "a", extra: 1 }, "extra");
      expect((await post("no-such-event", { action: "ack", actor: "a" })).status).toBe(404);
      const headers = { authorization: `Bearer ${ADMIN}`, "idempotency-key": "retry-1" };
      const ok = await post(event.event_id, { action: "ack", reason: "looking", actor: "alice" }, headers);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({
        duplicate: false,
        action: { action: "ack", actor: "alice", source: "api", delivery_id: "retry-1" },
        event: { triage: "ack" },
      });
      const replay = await post(event.event_id, { action: "ack", reason: "looking", actor: "alice" }, headers);
      expect(await replay.json()).toMatchObject({ duplicate: true });
      const logged = (await recentTriage(t.db, 500)).filter((a) => a.delivery_id === "retry-1");
      expect(logged).toHaveLength(1);
    });
  });
});
