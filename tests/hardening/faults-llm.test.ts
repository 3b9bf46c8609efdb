import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { APICallError } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from "@ai-sdk/provider";
import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeFacts } from "../../lib/analysis/facts";
import { changeConfig, createCouncilAgent } from "../../lib/agents/council";
import { createPublishAgent } from "../../lib/agents/publish";
import { runAgent, type RunRecord } from "../../lib/agents/runner";
import { createTranslateAgent } from "../../lib/agents/translate";
import type { Db } from "../../lib/clickhouse/client";
import type { EpisodeDraft } from "../../lib/episode/draft";
import { writeOffline } from "../../lib/council/offline-writer";
import { parseEpisodeFile } from "../../lib/episode/file";
import { renderMarkdown } from "../../lib/content/markdown";
import { parseEnv } from "../../lib/env";
import type { LlmProvider } from "../../lib/llm/provider";
import type { TranslationOutput } from "../../lib/translate/llm";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { testDeps } from "../helpers/deps";
import { insertWatcherRun, seedSampleWindow } from "../helpers/sample-window";
import { scanForSecrets } from "./helpers/leaks";

/**
 * The LLM misbehaving during council and translate, through the runner as
 * cron runs them (a mock model; MockLanguageModelV3 doGenerate throwing,
 * hanging past MUSE_LLM_TIMEOUT_MS, answering with invalid JSON, a wrong
 * shape, made-up numbers, or script injection). For each: every call is an
 * llm_events row with its status; the run fails (transient or not, as the
 * error is) or the draft/translation is repaired or stored as rejected — and
 * at the end the publisher publishes only what was verified: never a rejected
 * draft, never a rejected translation, never a script.
 */

const NS = "a7c1e2d3-4b5f-5a6e-9c8d-1f2e3a4b5c6d";
const DAY = 86_400_000;
/**
 * The runs' clock: just after tests/helpers/sample-window.ts's 14 days, a
 * millisecond more at every reading (so a retried call gets its own
 * llm_events ts, as in production).
 */
const NOW = Date.parse("2026-11-15T01:00:00.000Z");
let tick = 0;
const clock = { now: () => new Date(NOW + tick++) };
const ENV = {
  MUSE_EPISODE_MIN_INTERVAL_HOURS: "0",
  MUSE_HEARTS_MAX_LAG_SECONDS: "172800",
  MUSE_PACKS_MAX_LAG_SECONDS: "172800",
  MUSE_LLM_TIMEOUT_MS: "1000",
  MUSE_TRANSLATE_LANGS: "de",
};
const USAGE = {
  inputTokens: { total: 1000, noCache: 1000, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 400, text: 400, reasoning: undefined },
};

let t: TestDatabase;
let contentDir: string;
/** The first episode's draft: the window's change is its story. */
let good: EpisodeDraft;
/** A later episode's draft: the change was told by the first episode, so it tells no new event. */
let later: EpisodeDraft;

let runs = 0;
/**
 * What the council's gate and cadence want before a run: a fresh valid watcher
 * run and an upstream commit after the last episode's window (after NOW, so
 * the facts of the window, and the drafts scripted from them, stay the same).
 */
async function freshWatcher(db: Db) {
  runs += 1;
  const sha = uuidv5(`commit-${runs}`, NS).replace(/-/g, "").padEnd(40, "0");
  await db.insert("upstream_commits", [
    {
      repo: "banterpacks",
      sha,
      ts: new Date(NOW + runs * 1_000).toISOString(),
      author: "dev",
      message: "overlay: a change",
      files: ["a.ts"],
      files_changed: 1,
      additions: 1,
      deletions: 0,
    },
  ]);
  await insertWatcherRun(db, { ts: new Date(NOW - 60_000).toISOString(), runId: uuidv5(`watcher-${runs}`, NS), durationMs: 1 });
}

const answer = (value: unknown): LanguageModelV3GenerateResult => ({
  content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value) }],
  finishReason: { unified: "stop", raw: "stop" },
  usage: USAGE,
  warnings: [],
});

type Behaviour = ((call: LanguageModelV3CallOptions) => Promise<LanguageModelV3GenerateResult>) | unknown;

/** A model answering call i with behaviours[min(i, last)]: a function (throw, hang) or a value (its JSON). */
function model(behaviours: Behaviour[]): { llm: LlmProvider; calls: () => number } {
  let i = 0;
  const mock = new MockLanguageModelV3({
    provider: "mock",
    modelId: "gpt-4o-mini",
    doGenerate: async (call) => {
      const b = behaviours[Math.min(i++, behaviours.length - 1)];
      return typeof b === "function" ? (b as (c: LanguageModelV3CallOptions) => Promise<LanguageModelV3GenerateResult>)(call) : answer(b);
    },
  });
  return { llm: { model: mock, modelId: "gpt-4o-mini", provider: "mock" }, calls: () => i };
}

const unavailable = async (): Promise<never> => {
  throw new APICallError({
    message: "Service Unavailable",
    url: "https://llm.invalid/v1/chat/completions",
    requestBodyValues: {},
    statusCode: 503,
    isRetryable: true,
  });
};
const unauthorized = async (): Promise<never> => {
  throw new APICallError({
    message: "Incorrect API key provided",
    url: "https://llm.invalid/v1/chat/completions",
    requestBodyValues: {},
    statusCode: 401,
    isRetryable: false,
  });
};
const hang = (call: LanguageModelV3CallOptions) =>
  new Promise<never>((_resolve, reject) => call.abortSignal?.addEventListener("abort", () => reject(call.abortSignal?.reason as Error)));

async function llmRows(runId: string) {
  return t.db.query<{ source: string; operation: string; status: string; error_msg: string }>(
    "SELECT source, operation, status, error_msg FROM llm_events FINAL WHERE run_id = {run:UUID} ORDER BY ts, operation",
    { run: runId },
  );
}

async function councilRun(llm: LlmProvider, attempts = 2): Promise<RunRecord> {
  await freshWatcher(t.db);
  const deps = testDeps(t.db, { envVars: ENV, clock });
  const record = await runAgent(createCouncilAgent({ llm }), deps, { trigger: "cron", attempts, retryDelayMs: 10 });
  scanForSecrets("council log", deps.log.lines.join("\n"));
  return record;
}

async function translateRun(llm: LlmProvider, attempts = 2): Promise<RunRecord> {
  const deps = testDeps(t.db, { envVars: ENV, clock });
  const record = await runAgent(createTranslateAgent({ llm }), deps, { trigger: "cron", attempts, retryDelayMs: 10, options: { langs: ["de"], limit: 1 } });
  scanForSecrets("translate log", deps.log.lines.join("\n"));
  return record;
}

async function publishRun(): Promise<RunRecord> {
  const deps = testDeps(t.db, { envVars: { ...ENV, MUSE_CONTENT_DIR: contentDir }, clock });
  return runAgent(createPublishAgent(), deps, { trigger: "cron", attempts: 1 });
}

const episodeRows = () =>
  t.db.query<{ run: string; series: string; lang: string; status: string; episode_num: number; problems: string[]; markdown: string }>(
    "SELECT toString(run_id) AS run, series, lang, status, episode_num, problems, markdown FROM episodes FINAL ORDER BY ts, lang",
  );

const publishedFiles = () =>
  readdirSync(contentDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => path.relative(contentDir, path.join(e.parentPath, e.name)))
    .sort();

beforeAll(async () => {
  t = await createTestDatabase();
  contentDir = mkdtempSync(path.join(tmpdir(), "muse-hardening-llm-content-"));
  await seedSampleWindow(t.db, NS);
  const window = { from: new Date(NOW - 7 * DAY), to: new Date(NOW) };
  const changes = changeConfig(parseEnv({}));
  const facts = await computeFacts(t.db, { window, now: new Date(NOW), freshSeconds: 172_800, changes });
  expect(facts.confidence.value).toBeGreaterThanOrEqual(0.6);
  expect(facts.events.length).toBeGreaterThan(0);
  good = writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } });
  // As the runs after the first episode compute them (the council passes the previous episode).
  const laterFacts = await computeFacts(t.db, {
    window,
    now: new Date(NOW),
    freshSeconds: 172_800,
    changes,
    previous: { ts: new Date(NOW).toISOString(), window_to: new Date(NOW).toISOString() },
  });
  // Nothing new; the regression, still open, is listed as known.
  expect(laterFacts.events.filter((e) => e.new)).toEqual([]);
  later = writeOffline(laterFacts, { series: "chimera", titleRules: { maxLength: 80 } });
});
afterAll(async () => {
  await t?.drop();
  if (contentDir) rmSync(contentDir, { recursive: true, force: true });
});

describe("council with a failing LLM", () => {
  it("503 on every call: each call recorded as a failure, the run fails as transient after its attempts, no episode", async () => {
    const { llm, calls } = model([unavailable]);
    const record = await councilRun(llm, 2);
    expect(record).toMatchObject({ status: "error", attempts: 2, error: expect.stringMatching(/Service Unavailable/) });
    expect(calls()).toBe(2);
    // One row per call (the retry is a new call: its own ts, though the same attempt-derived event_id).
    const rows = await llmRows(record.run_id);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.source === "council" && r.status === "failure" && /Service Unavailable/.test(r.error_msg))).toBe(true);
    expect((await episodeRows()).filter((r) => r.run === record.run_id)).toEqual([]);
  });

  it("401 (not retryable): one call, one failure row, the run fails at once", async () => {
    const { llm, calls } = model([unauthorized]);
    const record = await councilRun(llm, 3);
    expect(record).toMatchObject({ status: "error", attempts: 1 });
    expect(calls()).toBe(1);
    expect(await llmRows(record.run_id)).toEqual([expect.objectContaining({ status: "failure", error_msg: expect.stringMatching(/Incorrect API key/) })]);
  });

  it("a call that hangs past MUSE_LLM_TIMEOUT_MS: recorded as a timeout; the runner's retry gets a good draft, published numbered", async () => {
    const { llm, calls } = model([hang, good]);
    const record = await councilRun(llm, 2);
    expect(record).toMatchObject({ status: "ok", attempts: 2, summary: { status: "publishable", episode: 1 } });
    expect(calls()).toBe(2);
    const rows = await llmRows(record.run_id);
    expect(rows.map((r) => r.status).sort()).toEqual(["success", "timeout"]);
    expect(rows.find((r) => r.status === "timeout")?.error_msg).toBe("timed out after 1000 ms");
  });

  it.each<[string, () => unknown]>([
    ["not JSON", () => "{ this is not json"],
    ["JSON of the wrong shape", () => ({ title: "x", sections: "none" })],
    ["an empty answer", () => ""],
    // Digits typed into the prose instead of a fact reference: the residual check on the rendered text rejects them.
    ["made-up numbers", () => ({ ...later, summary: `${later.summary} Latency reached 999.9 ms at peak.` })],
  ])("%s, twice: stored as rejected with its problems, never numbered", async (label, bad) => {
    const value = bad();
    const { llm, calls } = model([value, value]);
    const record = await councilRun(llm, 2);
    expect(record).toMatchObject({ status: "ok", summary: { status: "rejected", episode: 0, file_path: "" } });
    expect(calls()).toBe(2);
    const [row] = (await episodeRows()).filter((r) => r.run === record.run_id);
    expect(row).toMatchObject({ status: "rejected", episode_num: 0 });
    expect(row.problems.length).toBeGreaterThan(0);
    if (label === "made-up numbers") expect(row.problems).toEqual([expect.stringMatching(/^summary: "999\.9" is a number that no fact reference rendered/)]);
    expect((await llmRows(record.run_id)).map((r) => r.operation)).toEqual(["episode", "episode.repair"]);
    const claimed = await t.db.query("SELECT * FROM episode_numbers WHERE run_id = {run:UUID}", { run: record.run_id });
    expect(claimed).toEqual([]);
  });

  it("not JSON, then repaired: the repair is what is stored", async () => {
    const { llm } = model(["<html>502 Bad Gateway</html>", later]);
    const record = await councilRun(llm, 1);
    expect(record).toMatchObject({ status: "ok", summary: { status: "publishable", episode: 2 } });
    expect((await llmRows(record.run_id)).map((r) => [r.operation, r.status])).toEqual([
      ["episode", "failure"],
      ["episode.repair", "success"],
    ]);
  });

  it("script and javascript: links in an otherwise true draft: whatever is stored renders without them", async () => {
    const hostile: EpisodeDraft = {
      ...later,
      sections: {
        ...later.sections,
        next_steps: `${later.sections.next_steps}\n\n<script>alert("pwned")</script>\n\n[details](javascript:alert(1)) <img src=x onerror=alert(1)> <a href="javascript:alert(2)" onclick="alert(3)">x</a>`,
      },
    };
    const { llm } = model([hostile, hostile]);
    const record = await councilRun(llm, 1);
    expect(record.status).toBe("ok");
    const [row] = (await episodeRows()).filter((r) => r.run === record.run_id);
    const html = (await renderMarkdown(parseEpisodeFile(row.markdown).body)).html;
    expect(html).not.toMatch(/<script|javascript:|\son[a-z]+=|<img[^>]+onerror/i);
  });
});

describe("translate with a failing LLM", () => {
  /**
   * A "translation" of whatever episode the translator sent (read back from
   * the prompt): the source text as is, which keeps every number, code span
   * and link — `edit` then breaks it on purpose.
   */
  const fromPrompt =
    (edit: (t: TranslationOutput) => TranslationOutput = (t) => t) =>
    async (call: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> => {
      const texts = call.prompt.flatMap((m) => (m.role === "user" ? m.content.flatMap((c) => (c.type === "text" ? [c.text] : [])) : []));
      const request = texts.find((text) => text.startsWith("Translate this episode"))!;
      const source = JSON.parse(request.slice(request.indexOf("\n\n") + 2)) as TranslationOutput;
      return answer(
        edit({ title: source.title, summary: source.summary, sections: source.sections.map((s) => ({ heading: s.heading, markdown: s.markdown })) }),
      );
    };
  const deRows = async () => (await episodeRows()).filter((r) => r.lang === "de");

  it("503 on every call: failures recorded, the run fails as transient, no translation row", async () => {
    const { llm, calls } = model([unavailable]);
    const record = await translateRun(llm, 2);
    expect(record).toMatchObject({ status: "error", attempts: 2 });
    expect(calls()).toBe(2);
    expect((await llmRows(record.run_id)).every((r) => r.source === "translate" && r.status === "failure")).toBe(true);
    expect(await deRows()).toEqual([]);
  });

  it("a call that hangs: recorded as a timeout, no translation row", async () => {
    const { llm } = model([hang]);
    const record = await translateRun(llm, 1);
    expect(record.status).toBe("error");
    expect((await llmRows(record.run_id)).map((r) => r.status)).toEqual(["timeout"]);
    expect(await deRows()).toEqual([]);
  });

  it("not JSON twice, then numbers changed twice: stored as rejected, never publishable", async () => {
    const garbage = model(["{{{", "still not json"]);
    const first = await translateRun(garbage.llm, 1);
    expect(first).toMatchObject({ status: "ok", summary: { translated: [expect.objectContaining({ status: "rejected", file_path: "" })] } });
    // The translator types a number where the original has a fact reference: the reference is missing and the digits are its own.
    const changed = fromPrompt((t) => ({
      ...t,
      sections: t.sections.map((s) => ({ ...s, markdown: s.markdown.replace(/\{\{fact:[^{}]+\}\}/, "12345.6 ms") })),
    }));
    const numbers = model([changed, changed]);
    const second = await translateRun(numbers.llm, 1);
    expect(second).toMatchObject({ status: "ok", summary: { translated: [expect.objectContaining({ status: "rejected" })] } });
    // (The second run may have taken another original first: fresh work goes before retries.)
    const rows = await deRows();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === "rejected" && r.episode_num > 0 && r.problems.length > 0)).toBe(true);
    expect(rows.some((r) => r.problems.some((p) => /"12345\.6" is a number that no fact reference rendered/.test(p)))).toBe(true);
  });

  it("the publisher publishes the verified original, never the rejected translation or a rejected draft", async () => {
    const record = await publishRun();
    expect(record.status).toBe("ok");
    const files = publishedFiles();
    // The series is the council's choice (chimera when users felt a change, else banterpacks).
    const [first] = (await episodeRows()).filter((r) => r.lang === "en" && r.episode_num === 1);
    expect(files).toContain(`episodes/${first.series}/ep-001.md`);
    expect(files.filter((f) => /\.de\.md$/.test(f))).toEqual([]);
    // Exactly the numbered (verified) originals went out; the rejected drafts have no number and no file.
    const en = (await episodeRows()).filter((r) => r.lang === "en");
    const numbered = en.filter((r) => r.episode_num > 0);
    expect(numbered.every((r) => r.status === "published")).toBe(true);
    expect(en.filter((r) => r.status === "rejected").every((r) => r.episode_num === 0)).toBe(true);
    expect(files).toEqual(numbered.map((r) => `episodes/${r.series}/ep-${String(r.episode_num).padStart(3, "0")}.md`).sort());
  });

  it("a good translation after all that: publishable, then published beside its original", async () => {
    const { llm } = model([fromPrompt()]);
    const record = await translateRun(llm, 1);
    expect(record).toMatchObject({ status: "ok", summary: { translated: [expect.objectContaining({ status: "publishable" })] } });
    expect((await publishRun()).status).toBe("ok");
    const [done] = (record.summary as { translated: { file_path: string }[] }).translated;
    expect(publishedFiles()).toContain(done.file_path);
  });
});
