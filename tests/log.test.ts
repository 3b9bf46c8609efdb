import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { appLogger, secretValues } from "../lib/app-logger";
import { AgentBusyError, runAgent } from "../lib/agents/runner";
import type { AgentDefinition } from "../lib/agents/types";
import { ENV_SPEC, parseEnv, secretNames, type Env } from "../lib/env";
import { REDACTED, createLogger, memoryLogger } from "../lib/log";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { testDeps } from "./helpers/deps";

/**
 * Structured logs: one JSON line per event, with ts, level and msg (which
 * context fields cannot overwrite), run_id and agent on every line of a run,
 * and no secret of the environment anywhere.
 */

/** Every secret variable of lib/env.ts, set to a value that is easy to find. */
function envWithSecrets(): { env: Env; values: string[] } {
  const vars: Record<string, string> = {};
  // URL-shaped secrets (a Slack webhook) must still parse as URLs: the secret sits in the path, as it does there.
  for (const name of secretNames())
    vars[name] = name.endsWith("_URL") ? `https://hooks.example.invalid/S3CRET-${name}-${name.length}x` : `S3CRET-${name}-${name.length}x`;
  return { env: parseEnv(vars), values: Object.values(vars) };
}

function captureStdio() {
  const lines: string[] = [];
  const collect = (chunk: unknown) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(collect);
  vi.spyOn(process.stderr, "write").mockImplementation(collect);
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe("lib/log.ts", () => {
  it("writes one JSON line per event, with ts, level and msg first, warn/error on stderr", () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((c) => (out.push(String(c)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((c) => (err.push(String(c)), true));
    const log = createLogger({ level: "debug", fields: { service: "muse" } });
    log.info("two\nlines of message", { n: 1, nested: { text: "a\nb" } });
    log.error("failed", { error: new Error("boom\n  at somewhere.ts:1") });
    log.debug("detail");
    expect(out).toHaveLength(2);
    expect(err).toHaveLength(1);
    for (const chunk of [...out, ...err]) {
      expect(chunk.endsWith("\n")).toBe(true);
      expect(chunk.slice(0, -1)).not.toContain("\n");
    }
    const first = JSON.parse(out[0]);
    expect(Object.keys(first).slice(0, 3)).toEqual(["ts", "level", "msg"]);
    expect(first).toMatchObject({ level: "info", msg: "two\nlines of message", service: "muse", n: 1 });
    expect(Number.isNaN(Date.parse(first.ts))).toBe(false);
    expect(JSON.parse(err[0])).toMatchObject({ level: "error", error: { name: "Error", message: "boom\n  at somewhere.ts:1" } });
  });

  it("respects the level, and context fields cannot overwrite ts, level or msg", () => {
    const log = memoryLogger({ level: "warn" });
    log.info("hidden");
    log.warn("shown", { level: "debug", msg: "forged", ts: "1970-01-01T00:00:00Z" });
    expect(log.lines).toHaveLength(1);
    const line = JSON.parse(log.lines[0]);
    expect(line.level).toBe("warn");
    expect(line.msg).toBe("shown");
    expect(line.ts).not.toBe("1970-01-01T00:00:00Z");
  });

  it("never throws on what it is given: circular objects, BigInt, Dates, deep nesting", () => {
    const log = memoryLogger();
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deeper: deep };
    expect(() =>
      log.info("odd fields", { circular, big: 10n ** 20n, at: new Date(Date.UTC(2026, 0, 2)), url: new URL("https://example.com/a"), deep }),
    ).not.toThrow();
    const line = JSON.parse(log.lines[0]);
    expect(line.big).toBe("100000000000000000000");
    expect(line.at).toBe("2026-01-02T00:00:00.000Z");
    expect(line.url).toBe("https://example.com/a");
    expect(JSON.stringify(line.deep)).toContain("[truncated]");
  });
});

describe("no secret of the environment is ever written", () => {
  it("lib/env.ts marks the credentials secret", () => {
    for (const name of [
      "CLICKHOUSE_PASSWORD",
      "MUSE_LOCAL_CLICKHOUSE_PASSWORD",
      "CRON_SECRET",
      "MUSE_ADMIN_TOKEN",
      "MUSE_INGEST_TOKEN",
      "VERCEL_WEBHOOK_SECRET",
      "GITHUB_TOKEN",
      "OPENAI_API_KEY",
      "DD_API_KEY",
      "DD_APP_KEY",
    ]) {
      expect(secretNames(), name).toContain(name);
    }
    // Every variable whose name says it is a credential is marked secret.
    for (const name of Object.keys(ENV_SPEC)) {
      if (/PASSWORD|SECRET|TOKEN|API_KEY|APP_KEY/.test(name) && !name.startsWith("NEXT_PUBLIC_")) expect(secretNames(), name).toContain(name);
    }
  });

  it("values are redacted wherever they appear; secret-named fields lose their values; counts stay", () => {
    const { env, values } = envWithSecrets();
    const lines = captureStdio();
    const log = appLogger(env, { route: "/test" });
    const [ddKey, chPassword, ghToken] = [env.DD_API_KEY!, env.CLICKHOUSE_PASSWORD, env.GITHUB_TOKEN!];

    log.info(`calling with ${ddKey} in the message`);
    log.warn("nested", { request: { url: `https://default:${chPassword}@ch.example.com:8443/?query=1`, headers: [["x-trace", `Bearer ${ghToken}`]] } });
    log.error("failure", { error: new Error(`GitHub refused token ${ghToken}`), cause: String(new Error(`wrapped ${ddKey}`)) });
    let deep: Record<string, unknown> = { value: chPassword };
    for (let i = 0; i < 12; i++) deep = { level: deep };
    log.info("deep", { deep });
    log.child({ run_id: "r1" }).info("child", { all: values });
    log.info("named fields", {
      password: "hunter2-is-not-in-env",
      api_key: "k-1234567890",
      apiKey: "k-0987654321",
      DD_APP_KEY: "some-app-key-value",
      app_key: "another-app-key",
      Authorization: "Basic dXNlcjpwYXNz",
      cookie: "sid=abcdef",
      clientSecret: "cs-123456",
      credentials: { user: "u", pass: "p" },
      tokens_in: 120,
      max_tokens: 4096,
      has_token: true,
    });

    expect(lines).toHaveLength(6);
    const text = lines.join("\n");
    for (const value of values) expect(text, "an environment secret leaked").not.toContain(value);
    for (const leaked of ["hunter2", "k-1234567890", "k-0987654321", "some-app-key-value", "another-app-key", "dXNlcjpwYXNz", "abcdef", "cs-123456"])
      expect(text).not.toContain(leaked);
    const named = JSON.parse(lines[5]);
    expect(named).toMatchObject({
      password: REDACTED,
      api_key: REDACTED,
      apiKey: REDACTED,
      DD_APP_KEY: REDACTED,
      app_key: REDACTED,
      Authorization: REDACTED,
      cookie: REDACTED,
      clientSecret: REDACTED,
      credentials: REDACTED,
    });
    expect(named).toMatchObject({ tokens_in: 120, max_tokens: 4096, has_token: true, service: "muse", route: "/test" });
    expect(JSON.parse(lines[0]).msg).toBe(`calling with ${REDACTED} in the message`);
    expect(JSON.parse(lines[1]).request.url).toBe(`https://default:${REDACTED}@ch.example.com:8443/?query=1`);
  });
});

describe("the runner's lines", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  const options = z.object({ fail: z.boolean().default(false), wait: z.boolean().default(false) }).strict();
  function agent(secret: string, gate?: Promise<void>): AgentDefinition<typeof options> {
    return {
      name: "watch",
      description: "test",
      options,
      async run(opts, _deps, context) {
        context.progress("working", { step: 1, token: secret });
        await (opts.wait ? gate : undefined);
        if (opts.fail) throw new Error(`upstream refused ${secret}`);
        return { status: "ok", summary: { done: true } };
      },
    };
  }

  it("every line of a run carries run_id, agent and level, and no secret", async () => {
    const { env, values } = envWithSecrets();
    const lines: string[] = [];
    const log = createLogger({ level: "debug", secrets: secretValues(env), fields: { service: "muse" }, write: (line) => lines.push(line) });
    const deps = { ...testDeps(t.db), log };
    const secret = env.OPENAI_API_KEY!;

    const ok = await runAgent(agent(secret), deps, { trigger: "cli" });
    const failed = await runAgent(agent(secret), deps, { trigger: "api", options: { fail: true } });
    expect([ok.status, failed.status]).toEqual(["ok", "error"]);

    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const holder = runAgent(agent(secret, gate), deps, { trigger: "cron", options: { wait: true } });
    await new Promise((r) => setTimeout(r, 300));
    const refused = await runAgent(agent(secret), deps, { trigger: "api" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AgentBusyError);
    open();
    const held = await holder;

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.length).toBeGreaterThanOrEqual(9);
    for (const line of parsed) {
      expect(line).toMatchObject({
        agent: "watch",
        run_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        level: expect.stringMatching(/^(debug|info|warn|error)$/),
        msg: expect.any(String),
        service: "muse",
      });
    }
    const runIds = new Set(parsed.map((l) => l.run_id));
    expect(runIds).toEqual(
      new Set([ok.run_id, failed.run_id, held.run_id, ...parsed.filter((l) => l.msg === "run refused: another run holds the lock").map((l) => l.run_id)]),
    );
    expect(parsed.filter((l) => l.run_id === failed.run_id).map((l) => l.msg)).toEqual(["run started", "working", "run failed"]);
    expect(parsed.find((l) => l.msg === "run failed")).toMatchObject({ level: "error", error: `upstream refused ${REDACTED}` });
    expect(parsed.find((l) => l.msg === "working")).toMatchObject({ step: 1, token: REDACTED });
    const text = lines.join("\n");
    for (const value of values) expect(text).not.toContain(value);
  });
});
