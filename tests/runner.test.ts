import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AgentBusyError, OptionsError, listRuns, runAgent } from "../lib/agents/runner";
import { acquireAgentLock } from "../lib/agents/lock";
import { TransientError, type AgentDefinition } from "../lib/agents/types";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { testDeps } from "./helpers/deps";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

const options = z.object({ hours: z.number().int().min(1).default(24), fail: z.enum(["none", "transient-once", "fatal"]).default("none") }).strict();

/** A test agent ("collect" name, real runner) whose behaviour the options choose. */
function testAgent(hooks: { gate?: Promise<void>; calls?: { n: number } } = {}): AgentDefinition<typeof options, { hours: number }> {
  return {
    name: "collect",
    description: "test",
    options,
    async run(opts) {
      if (hooks.calls) hooks.calls.n += 1;
      await hooks.gate;
      if (opts.fail === "fatal") throw new Error("the data is wrong");
      if (opts.fail === "transient-once" && hooks.calls && hooks.calls.n === 1) throw new TransientError("ClickHouse hiccup");
      return { status: "ok", summary: { hours: opts.hours } };
    },
  };
}

describe("agent runner", () => {
  it("records the run in agent_runs from start to end, with its summary", async () => {
    const deps = testDeps(t.db);
    const record = await runAgent(testAgent(), deps, { trigger: "cli", options: { hours: 6 } });
    expect(record).toMatchObject({ agent: "collect", trigger: "cli", status: "ok", summary: { hours: 6 }, attempts: 1 });
    const [stored] = await listRuns(t.db, { agent: "collect", limit: 1 });
    expect(stored).toMatchObject({ run_id: record.run_id, status: "ok", summary: { hours: 6 } });
    expect(deps.metrics.pending().map((s) => s.metric)).toEqual(expect.arrayContaining(["muse.collect.runs", "muse.collect.duration_ms"]));
  });

  it("rejects invalid options naming the field, before anything runs", async () => {
    const calls = { n: 0 };
    const attempt = runAgent(testAgent({ calls }), testDeps(t.db), { trigger: "api", options: { hours: "many" } });
    await expect(attempt).rejects.toBeInstanceOf(OptionsError);
    await expect(runAgent(testAgent({ calls }), testDeps(t.db), { trigger: "api", options: { hours: 0, extra: 1 } })).rejects.toThrow(/hours/);
    expect(calls.n).toBe(0);
  });

  it("lets one of two overlapping runs of an agent run; the other is refused with the holder's run id", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const calls = { n: 0 };
    const first = runAgent(testAgent({ gate, calls }), testDeps(t.db), { trigger: "cron" });
    await new Promise((r) => setTimeout(r, 300)); // the first run holds the lease now
    const second = runAgent(testAgent({ calls }), testDeps(t.db), { trigger: "api" });
    const refusal = await second.catch((e: unknown) => e);
    open();
    const done = await first;
    expect(done.status).toBe("ok");
    expect(refusal).toBeInstanceOf(AgentBusyError);
    expect((refusal as AgentBusyError).holderRunId).toBe(done.run_id);
    expect(calls.n).toBe(1);
    // Released: the next run goes ahead.
    expect((await runAgent(testAgent(), testDeps(t.db), { trigger: "cli" })).status).toBe("ok");
  });

  it("never lets two racing runs both hold the lease", async () => {
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => acquireAgentLock(t.db, "race-test", `00000000-0000-4000-8000-00000000000${i}`, 60)));
    expect(outcomes.filter((o) => o.acquired)).toHaveLength(1);
  });

  it("expires the lock of a crashed run", async () => {
    // A run that crashed holds a live lease for its TTL (1 s here), then it lapses.
    const crashed = "11111111-1111-4111-8111-111111111111";
    expect((await acquireAgentLock(t.db, "watch", crashed, 1)).acquired).toBe(true);
    const blocked = await acquireAgentLock(t.db, "watch", "22222222-2222-4222-8222-222222222222", 60);
    expect(blocked).toMatchObject({ acquired: false, holderRunId: crashed });
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await acquireAgentLock(t.db, "watch", "33333333-3333-4333-8333-333333333333", 60)).acquired).toBe(true);
  });

  it("retries a transient failure with backoff and records the attempts", async () => {
    const calls = { n: 0 };
    const deps = testDeps(t.db);
    const record = await runAgent(testAgent({ calls }), deps, { trigger: "cli", options: { fail: "transient-once" }, retryDelayMs: 10 });
    expect(record.status).toBe("ok");
    expect(record.attempts).toBe(2);
    expect(calls.n).toBe(2);
    expect(deps.metrics.pending().some((s) => s.metric === "muse.collect.retries")).toBe(true);
  });

  it("does not retry a real failure: the run is recorded as error with the message", async () => {
    const calls = { n: 0 };
    const record = await runAgent(testAgent({ calls }), testDeps(t.db), { trigger: "cli", options: { fail: "fatal" }, retryDelayMs: 10 });
    expect(record).toMatchObject({ status: "error", error: "the data is wrong", attempts: 1 });
    expect(calls.n).toBe(1);
    const [stored] = await listRuns(t.db, { agent: "collect", limit: 1 });
    expect(stored).toMatchObject({ run_id: record.run_id, status: "error", error: "the data is wrong" });
  });
});
