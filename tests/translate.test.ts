import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MockLanguageModelV3 } from "ai/test";
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from "@ai-sdk/provider";
import { v5 as uuidv5 } from "uuid";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { council, councilOptions } from "../lib/agents/council";
import { publish } from "../lib/agents/publish";
import { getAgent, registeredAgents } from "../lib/agents/registry";
import { runAgent } from "../lib/agents/runner";
import { NO_LLM_REASON, createTranslateAgent, translate, translateOptions, type TranslateSummary } from "../lib/agents/translate";
import type { AgentResult } from "../lib/agents/types";
import type { Db } from "../lib/clickhouse/client";
import { episodeRow, type EpisodeRow } from "../lib/clickhouse/tables";
import { llmEventId } from "../lib/council/llm-writer";
import { parseEpisodeFile } from "../lib/episode/file";
import type { TruthContext } from "../lib/council/verify";
import type { LlmProvider } from "../lib/llm/provider";
import { llmCostUsd } from "../lib/pricing";
import type { TranslationOutput } from "../lib/translate/llm";
import { normaliseTranslation } from "../lib/translate/episode";
import { codeSpans, linkTargets, verifyTranslation, type TranslatableText } from "../lib/translate/verify";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, testDeps } from "./helpers/deps";
import { HEARTS_COMMIT, SAMPLE_SHA as SHA, seedSampleWindowWithCommits } from "./helpers/sample-window";

/**
 * The translator on real ClickHouse: an English original written by the
 * council's offline writer (stored by the council itself), translated through
 * the AI SDK with a mock model — accepted, repaired, rejected (numbers, code
 * spans, links), skipped without a key, idempotent under retries — and then
 * published with its original in one commit by the publisher. The check itself
 * (numerals of other scripts, regional number forms) is tested on its own.
 */

const NS = "0c6a3b52-1d8e-4f7a-9b3c-5e2d7f9a1b4c";
const COUNCIL_NOW = "2026-11-15T01:00:00.000Z";
const NOW = "2026-11-15T03:00:00.000Z";
const run = (n: number) => uuidv5(`translate-run-${n}`, NS);
const ORIGINAL_RUN = uuidv5("council-original", NS);
const ORIGINAL_PATH = "episodes/chimera/ep-001.md";

// ---------------------------------------------------------------- data (tests/helpers/sample-window.ts, as tests/council.test.ts)

async function seed(db: Db) {
  await seedSampleWindowWithCommits(db, NS);
  await db.insert("watcher_runs", [
    {
      ts: "2026-11-15T00:55:00.000Z", run_id: uuidv5("watcher", NS), hearts_commit: SHA, packs_commit: SHA, hearts_rows_found: 1, packs_rows_found: 1, hearts_newest_ts: null, packs_newest_ts: null,
      hearts_lag_seconds: 60, packs_lag_seconds: 60, lag_seconds: 60, status: "valid", reasons: [], duration_ms: 5,
    },
  ]);
}

// ---------------------------------------------------------------- translations the mock model returns

const HEADINGS_DE: Record<string, string> = {
  "What changed": "Was sich geändert hat",
  "Why it matters": "Warum es wichtig ist",
  "Benchmarks (summary)": "Benchmarks (Zusammenfassung)",
  "Next steps": "Nächste Schritte",
  "Links & artifacts": "Links & Artefakte",
};
const WORDS_DE: Record<string, string> = { latency: "Latenz", and: "und", users: "Nutzer", the: "die", is: "ist", with: "mit", Commits: "Commits", Council: "Council-Lauf" };

/** A "German" rendering that translates some words and leaves numbers, code, links and commit subjects alone. */
function germanProse(text: string): string {
  return text
    .split(/(`+[\s\S]*?`+|\]\([^)]*\)|https?:\/\/\S+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\b[A-Za-z]+\b/g, (w) => WORDS_DE[w] ?? w)))
    .join("");
}

function german(original: TranslatableText): TranslationOutput {
  return {
    title: `DE: ${germanProse(original.title)}`,
    summary: germanProse(original.summary),
    sections: original.sections.map((s) => ({ heading: HEADINGS_DE[s.heading] ?? s.heading, markdown: germanProse(s.markdown) })),
  };
}

const withSection = (t: TranslationOutput, i: number, edit: (markdown: string) => string): TranslationOutput => ({
  ...t,
  sections: t.sections.map((s, j) => (j === i ? { ...s, markdown: edit(s.markdown) } : s)),
});

const USAGE = { inputTokens: { total: 2100, noCache: 2100, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 900, text: 900, reasoning: undefined } };

function answer(output: TranslationOutput | string): LanguageModelV3GenerateResult {
  return {
    content: [{ type: "text", text: typeof output === "string" ? output : JSON.stringify(output) }],
    finishReason: { unified: "stop", raw: "stop" },
    usage: USAGE,
    warnings: [],
  };
}

function mockLlm(answers: (TranslationOutput | string)[]): { llm: LlmProvider; model: MockLanguageModelV3 } {
  const model = new MockLanguageModelV3({ provider: "mock", modelId: "gpt-4o-mini", doGenerate: answers.map(answer) });
  return { llm: { model, modelId: "gpt-4o-mini", provider: "mock" }, model };
}

const promptText = (call: LanguageModelV3CallOptions) => JSON.stringify(call.prompt);

// ---------------------------------------------------------------- reading back

const translationRows = (db: Db, lang: string) =>
  db.query(
    `SELECT * FROM episodes FINAL WHERE series = 'chimera' AND episode_num = 1 AND lang = {lang:String} ORDER BY updated_at`,
    { lang },
    episodeRow,
  );

const llmEvents = (db: Db, runId: string) =>
  db.query<{ event_id: string; source: string; operation: string; model: string; tokens_in: number; tokens_out: number; cost_usd: number | null; status: string; error_msg: string }>(
    `SELECT toString(event_id) AS event_id, source, operation, model, tokens_in, tokens_out, toFloat64OrNull(toString(cost_usd)) AS cost_usd, status, error_msg
       FROM llm_events FINAL WHERE run_id = {run_id:UUID} ORDER BY ts, operation`,
    { run_id: runId },
  );

// ---------------------------------------------------------------- the agent

describe("translate agent", () => {
  let t: TestDatabase;
  let original: EpisodeRow;
  let source: TranslatableText;
  let good: TranslationOutput;
  const temps: string[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    await seed(t.db);
    // The original: written by the council's offline writer, with commit links (BANTERHEARTS_REPO).
    const councilDeps = testDeps(t.db, {
      clock: fixedClock(COUNCIL_NOW),
      envVars: { MUSE_HEARTS_MAX_LAG_SECONDS: "43200", MUSE_PACKS_MAX_LAG_SECONDS: "43200", BANTERHEARTS_REPO: "acme/banterhearts", BANTERPACKS_REPO: "acme/banterpacks" },
    });
    const written = await council(councilOptions.parse({ force: true }), councilDeps, { runId: ORIGINAL_RUN, progress: () => {} }, { llm: null });
    expect(written.summary).toMatchObject({ status: "publishable", episode: 1, file_path: ORIGINAL_PATH });
    [original] = await t.db.query("SELECT * FROM episodes FINAL WHERE lang = 'en'", {}, episodeRow);
    const file = parseEpisodeFile(original.markdown);
    source = { title: file.frontMatter.title, summary: file.frontMatter.summary, sections: file.sections };
    good = german(source);
  });
  afterAll(async () => {
    await t.drop();
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    // Each case starts from the original alone.
    await t.db.command("TRUNCATE TABLE episodes");
    await t.db.insert("episodes", [original]);
  });

  const deps = (envVars: Record<string, string> = {}) => testDeps(t.db, { clock: fixedClock(NOW), envVars });
  const ctx = (runId: string) => ({ runId, progress: () => {} });
  const options = (o: Record<string, unknown> = {}) => translateOptions.parse(o);

  it("the original has what a translation must keep: numbers, code spans and commit links", () => {
    const text = source.sections.map((s) => s.markdown).join("\n");
    expect(codeSpans(text)).toEqual(expect.arrayContaining(["`eeeeeee`", `\`${ORIGINAL_RUN}\``]));
    expect(linkTargets(text)).toContain(`https://github.com/acme/banterhearts/commit/${HEARTS_COMMIT}`);
    expect(text).toMatch(/\d+\.\d+ ms/);
  });

  it("stores a translation that keeps every number: publishable, lang de, translation_of, front-matter copied, the mock's exact usage in llm_events", async () => {
    const { llm, model } = mockLlm([good]);
    const d = deps();
    const result = await translate(options({ langs: ["de"] }), d, ctx(run(1)), { llm });
    expect(model.doGenerateCalls).toHaveLength(1);
    const prompt = promptText(model.doGenerateCalls[0]);
    expect(prompt).toContain("German (Deutsch)");
    expect(prompt).toContain("copy every number exactly as the original writes it");
    expect(result).toMatchObject({ status: "ok", summary: { pending: 1, translated: [{ series: "chimera", episode: 1, lang: "de", status: "publishable", file_path: "episodes/chimera/ep-001.de.md", translation_of: ORIGINAL_PATH, problems: [] }] } });

    const [row] = await translationRows(t.db, "de");
    const cost = llmCostUsd("gpt-4o-mini", 2100, 900)!;
    expect(row).toMatchObject({
      status: "publishable",
      lang: "de",
      run_id: ORIGINAL_RUN,
      ts: original.ts,
      translation_of: ORIGINAL_PATH,
      file_path: "episodes/chimera/ep-001.de.md",
      title: good.title,
      tokens_total: 3000,
      claims: original.claims,
      problems: [],
    });
    expect(row.cost_total).toBeCloseTo(cost, 9);
    expect(JSON.parse(row.writer)).toEqual({ kind: "llm", model: "gpt-4o-mini", tokens_in: 2100, tokens_out: 900, cost_usd: cost });

    // The file: the original's front-matter except title, summary, lang and translation_of; German headings.
    const [, yaml] = /^---\n([\s\S]*?)\n---\n/.exec(row.markdown)!;
    const fm = parseYaml(yaml) as Record<string, unknown>;
    const originalFm = parseEpisodeFile(original.markdown).frontMatter;
    expect(fm).toEqual({ ...originalFm, title: good.title, summary: good.summary, lang: "de", translation_of: ORIGINAL_PATH });
    expect(row.markdown).toContain("## Warum es wichtig ist");
    expect(row.markdown).toContain(`https://github.com/acme/banterhearts/commit/${HEARTS_COMMIT}`);

    expect(await llmEvents(t.db, run(1))).toEqual([
      { event_id: llmEventId(run(1), "translate:chimera/1/de", 1), source: "translate", operation: "translate.de", model: "gpt-4o-mini", tokens_in: 2100, tokens_out: 900, cost_usd: cost, status: "success", error_msg: "" },
    ]);
    const pending = d.metrics.pending();
    expect(pending.filter((s) => s.metric === "muse.translate.translations").map((s) => s.tags)).toEqual([expect.arrayContaining(["lang:de", "status:publishable"])]);
    expect(pending.filter((s) => s.metric === "muse.llm.tokens").map((s) => s.points[0].value).sort((a, b) => a - b)).toEqual([900, 2100]);
    expect(pending.filter((s) => s.metric === "muse.llm.calls").map((s) => s.tags)).toEqual([expect.arrayContaining(["agent:translate", "status:success"])]);
  });

  it("a changed number is sent back once; the repaired translation is stored", async () => {
    const changed = withSection(good, 2, (m) => m.replace(/(\d+)\.(\d+) ms/, (_m, a: string, b: string) => `${a},${b} ms`));
    expect(changed).not.toEqual(good);
    const { llm, model } = mockLlm([changed, good]);
    const result = await translate(options({ langs: ["zh"] }), deps(), ctx(run(2)), { llm });
    expect(model.doGenerateCalls).toHaveLength(2);
    const repair = JSON.stringify(model.doGenerateCalls[1].prompt.at(-1));
    expect(repair).toMatch(/rejected by the checker.*section 3.*is not a number of the original section 3 \(\\"Benchmarks \(summary\)\\"\)/);
    expect(repair).toMatch(/is missing: keep it/);
    expect(result.summary.translated).toEqual([expect.objectContaining({ lang: "zh", status: "publishable", problems: [], tokens: 6000 })]);
    const [row] = await translationRows(t.db, "zh");
    expect(row).toMatchObject({ status: "publishable", tokens_total: 6000 });
    expect((await llmEvents(t.db, run(2))).map((e) => [e.operation, e.status, e.error_msg, e.tokens_in, e.tokens_out])).toEqual([
      ["translate.zh", "success", expect.stringMatching(/^translation rejected: \d+ problems?$/), 2100, 900],
      ["translate.zh.repair", "success", "", 2100, 900],
    ]);
  });

  it("still a changed number after the repair → stored rejected with its problems, never publishable; both calls recorded", async () => {
    const added = withSection(good, 1, (m) => `${m} Die Latenz stieg um 999.9 ms.`);
    const { llm } = mockLlm([added, added]);
    const d = deps();
    const result = await translate(options({ langs: ["hi"] }), d, ctx(run(3)), { llm });
    expect(result.summary.translated).toEqual([expect.objectContaining({ lang: "hi", status: "rejected", file_path: "" })]);
    const [row] = await translationRows(t.db, "hi");
    expect(row).toMatchObject({ status: "rejected", file_path: "", translation_of: ORIGINAL_PATH, tokens_total: 6000 });
    expect(row.problems).toEqual([expect.stringMatching(/section 2 \("Warum es wichtig ist"\): "999.9" is not a number of the original section 2/)]);
    expect(row.markdown).toContain("999.9"); // kept for inspection; the publisher never takes a rejected row
    expect(await llmEvents(t.db, run(3))).toHaveLength(2);
    expect(d.metrics.pending().filter((s) => s.metric === "muse.translate.translations").map((s) => s.tags)).toEqual([expect.arrayContaining(["lang:hi", "status:rejected"])]);
  });

  it("a dropped code span or a changed link is rejected", async () => {
    const dropped = withSection(good, 4, (m) => m.replace(`\`${ORIGINAL_RUN}\``, ORIGINAL_RUN));
    const relinked = withSection(good, 4, (m) => m.replace("https://github.com/acme/banterhearts/commit/", "https://example.com/commit/"));
    const { llm } = mockLlm([dropped, dropped, relinked, relinked]);
    const result = await translate(options({ langs: ["de", "zh"] }), deps(), ctx(run(4)), { llm });
    expect(result.summary.translated.map((x) => [x.lang, x.status])).toEqual([
      ["de", "rejected"],
      ["zh", "rejected"],
    ]);
    const [de] = await translationRows(t.db, "de");
    expect(de.problems).toEqual([`section 5 ("Links & Artefakte"): the code \`${ORIGINAL_RUN}\` of the original section 5 ("Links & artifacts") is missing or changed: copy code spans and blocks character for character`]);
    const [zh] = await translationRows(t.db, "zh");
    expect(zh.problems).toEqual([
      `section 5 ("Links & Artefakte"): the link target https://github.com/acme/banterhearts/commit/${HEARTS_COMMIT} of the original section 5 ("Links & artifacts") is missing or changed: keep every URL unchanged`,
      `section 5 ("Links & Artefakte"): the link target https://example.com/commit/${HEARTS_COMMIT} is not in the original section 5 ("Links & artifacts"): do not add or alter links`,
    ]);
    expect((await llmEvents(t.db, run(4))).map((e) => e.operation)).toEqual(["translate.de", "translate.de.repair", "translate.zh", "translate.zh.repair"]);
  });

  it("an answer that is not valid for the schema is repaired like any other problem", async () => {
    const { llm, model } = mockLlm(["{ not json", good]);
    const result = await translate(options({ langs: ["de"] }), deps(), ctx(run(5)), { llm });
    expect(JSON.stringify(model.doGenerateCalls[1].prompt.at(-1))).toMatch(/not a valid translation for the JSON schema/);
    expect(result.summary.translated).toEqual([expect.objectContaining({ status: "publishable" })]);
    expect((await llmEvents(t.db, run(5))).map((e) => [e.operation, e.status])).toEqual([
      ["translate.de", "failure"],
      ["translate.de.repair", "success"],
    ]);
  });

  it("without an LLM key: skipped with the reason, nothing stored, no event (through the runner)", async () => {
    const d = deps();
    expect(d.env.OPENAI_API_KEY).toBeUndefined();
    const record = await runAgent(createTranslateAgent(), d, { trigger: "cron", runId: run(6) });
    expect(record).toMatchObject({ status: "skipped", reason: NO_LLM_REASON, summary: { pending: 3, translated: [] } });
    expect(NO_LLM_REASON).toBe("no LLM configured (OPENAI_API_KEY unset): translations are not produced; the site shows the English original");
    const rows = await t.db.query("SELECT lang FROM episodes FINAL WHERE lang != 'en'");
    expect(rows).toEqual([]);
    expect(await llmEvents(t.db, run(6))).toEqual([]);
  });

  it("is registered, with its cron, and reads comma-separated languages from the CLI", () => {
    expect(registeredAgents()).toContain("translate");
    expect(getAgent("translate")?.name).toBe("translate");
    expect(translateOptions.parse({ langs: "de, hi" })).toEqual({ langs: ["de", "hi"], limit: 5, dryRun: false });
    expect(translateOptions.safeParse({ langs: "fr" }).success).toBe(false);
  });

  it("a retried translation never duplicates: rejected, then repaired by the next run, then nothing left to do", async () => {
    const added = withSection(good, 1, (m) => `${m} 999.9`);
    const first = await translate(options({ langs: ["de"] }), deps(), ctx(run(7)), { llm: mockLlm([added, added]).llm });
    expect(first.summary.translated.map((x) => x.status)).toEqual(["rejected"]);
    // The next run retries the rejected translation (it is not "publishable" or "published").
    const retry = await translate(options({ langs: ["de"] }), deps(), ctx(run(8)), { llm: mockLlm([good]).llm });
    expect(retry.summary).toMatchObject({ pending: 1, translated: [expect.objectContaining({ status: "publishable" })] });
    const count = await t.db.query<{ n: number }>("SELECT count() AS n FROM episodes FINAL WHERE series = 'chimera' AND episode_num = 1 AND lang = 'de'");
    expect(count).toEqual([{ n: 1 }]);
    expect((await translationRows(t.db, "de"))[0].status).toBe("publishable");
    const nothing = await translate(options({ langs: ["de"] }), deps(), ctx(run(10)), { llm: mockLlm([]).llm });
    expect(nothing).toMatchObject({ status: "skipped", reason: "every published or publishable original has its translations" });
  });

  it("retries across days collapse too: the translation keeps the original's ts (its partition)", async () => {
    const added = withSection(good, 1, (m) => `${m} 999.9`);
    await translate(options({ langs: ["de"] }), deps(), ctx(run(11)), { llm: mockLlm([added, added]).llm });
    const later = testDeps(t.db, { clock: fixedClock("2026-11-18T09:00:00.000Z") });
    await translate(options({ langs: ["de"] }), later, ctx(run(12)), { llm: mockLlm([good]).llm });
    const rows = await t.db.query<{ n: number; status: string }>(
      "SELECT count() AS n, any(status) AS status FROM episodes FINAL WHERE series = 'chimera' AND episode_num = 1 AND lang = 'de'",
    );
    expect(rows).toEqual([{ n: 1, status: "publishable" }]);
  });

  it("never translates drafts, rejected or unnumbered originals; a dry run lists the work and calls nothing", async () => {
    await t.db.insert("episodes", [
      episodeRow.parse({ ...original, run_id: uuidv5("draft", NS), episode_num: 0, status: "draft", file_path: "" }),
      episodeRow.parse({ ...original, run_id: uuidv5("rejected", NS), episode_num: 0, status: "rejected", file_path: "" }),
      episodeRow.parse({ ...original, run_id: uuidv5("low", NS), episode_num: 2, status: "publishable", confidence_score: 0.3, file_path: "" }),
    ]);
    const { llm, model } = mockLlm([]);
    const result: AgentResult<TranslateSummary> = await translate(options({ dryRun: true, limit: 2 }), deps(), ctx(run(13)), { llm });
    expect(result.summary).toMatchObject({
      langs: ["de", "zh", "hi"],
      pending: 3,
      deferred: 1,
      would_translate: [
        { series: "chimera", episode: 1, lang: "de", retry: false },
        { series: "chimera", episode: 1, lang: "zh", retry: false },
      ],
    });
    expect(model.doGenerateCalls).toHaveLength(0);
    expect(await t.db.query("SELECT lang FROM episodes FINAL WHERE lang != 'en'")).toEqual([]);
  });

  it("starts no translation once the run's time budget is spent: the rest is deferred to the next run", async () => {
    const { llm, model } = mockLlm([]);
    const result = await translate(options(), deps(), ctx(run(18)), { llm, timeBudgetMs: -1 });
    expect(result).toMatchObject({ status: "ok", summary: { pending: 3, deferred: 3, translated: [], failed: [] } });
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  it("a call that fails stores no translation and fails the run when nothing could be translated", async () => {
    const model = new MockLanguageModelV3({
      modelId: "gpt-4o-mini",
      doGenerate: ({ abortSignal }) => new Promise((_resolve, reject) => abortSignal?.addEventListener("abort", () => reject(abortSignal.reason as Error))),
    });
    const attempt = translate(options({ langs: ["de"] }), deps({ MUSE_LLM_TIMEOUT_MS: "1000" }), ctx(run(14)), { llm: { model, modelId: "gpt-4o-mini", provider: "mock" } });
    await expect(attempt).rejects.toThrow(/no translation could be made: LLM call translate.de timed out after 1000 ms/);
    expect(await llmEvents(t.db, run(14))).toEqual([expect.objectContaining({ operation: "translate.de", status: "timeout", tokens_in: 0 })]);
    expect(await translationRows(t.db, "de")).toEqual([]);
  });

  it("the publisher commits the translation in the same commit as its original, with translation_of", async () => {
    await translate(options({ langs: ["de"] }), deps(), ctx(run(15)), { llm: mockLlm([good]).llm });
    const contentDir = mkdtempSync(path.join(tmpdir(), "muse-translate-content-"));
    temps.push(contentDir);
    const published = await publish({ dryRun: false, limit: 10 }, testDeps(t.db, { clock: fixedClock(NOW), envVars: { MUSE_CONTENT_DIR: contentDir } }), ctx(run(16)));
    expect(published.summary.failed).toEqual([]);
    expect(published.summary.published).toEqual([expect.objectContaining({ series: "chimera", episode: 1, langs: ["en", "de"], created: true })]);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: contentDir, encoding: "utf8" }).trim();
    const files = git("show", "--name-only", "--format=", "HEAD").split("\n").filter(Boolean).sort();
    expect(files).toEqual(expect.arrayContaining([expect.stringMatching(/episodes\/chimera\/ep-001\.de\.md$/), expect.stringMatching(/episodes\/chimera\/ep-001\.md$/)]));
    expect(files).toHaveLength(2);
    const deFile = files.find((f) => f.endsWith("ep-001.de.md"))!;
    const text = git("show", `HEAD:${deFile}`);
    expect((parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(text)![1]) as Record<string, unknown>).translation_of).toBe(ORIGINAL_PATH);
    // Both rows are marked published with that commit; the translation is then done.
    const rows = await t.db.query<{ lang: string; status: string; commit_sha: string }>("SELECT lang, status, commit_sha FROM episodes FINAL WHERE episode_num = 1 ORDER BY lang");
    const head = git("rev-parse", "HEAD");
    expect(rows).toEqual([
      { lang: "de", status: "published", commit_sha: head },
      { lang: "en", status: "published", commit_sha: head },
    ]);
    const next = await translate(options({ langs: ["de"] }), deps(), ctx(run(17)), { llm: mockLlm([]).llm });
    expect(next.status).toBe("skipped");
  });
});

// ---------------------------------------------------------------- the check on its own

describe("verifyTranslation", () => {
  const context: TruthContext = {
    facts: [],
    window: { from: "2026-11-08T00:00:00.000Z", to: "2026-11-15T00:00:00.000Z" },
    commits: [{ sha: "a".repeat(40), ts: "2026-11-10T09:30:00.000Z", message: "Quantize llama to int8 (2 kernels)" }],
  };
  const original: TranslatableText = {
    title: "p95 latency rose to 1,234.5 ms",
    summary: "Errors reached 18.43% on 2026-11-12; cost per 1k tokens is $0.0004.",
    sections: [
      { heading: "What changed", markdown: "llama-3.1-8b int8 p95 latency rose from 130.2 ms to 1,234.5 ms over 7 days; 123456 events, r = -0.82." },
      { heading: "Links & artifacts", markdown: "- Banterhearts [`aaaaaaa`](https://github.com/acme/hearts/commit/" + "a".repeat(40) + ") Quantize llama to int8 (2 kernels)\n\nRun: `run-1`" },
    ],
  };
  const rules = { titleMaxLength: 80 };
  const check = (translation: TranslatableText) => verifyTranslation(original, translation, context, rules);
  const zh = (over: Partial<{ title: string; summary: string; s1: string; s2: string }> = {}): TranslatableText => ({
    title: over.title ?? "p95延迟升至1,234.5 ms",
    summary: over.summary ?? "错误率在2026-11-12达到18.43%；每1k个token的成本为$0.0004。",
    sections: [
      { heading: "变化", markdown: over.s1 ?? "llama-3.1-8b int8的p95延迟在7天内从130.2 ms升至1,234.5 ms；123456个事件，r = -0.82。" },
      { heading: "链接与产物", markdown: over.s2 ?? original.sections[1].markdown.replace("Run:", "运行：") },
    ],
  });

  it("normalises the model's headings (one line, no leading #) and demotes H1/H2 inside sections", () => {
    const normalised = normaliseTranslation({ title: " Titel ", summary: " S ", sections: [{ heading: "## Was\nsich änderte ", markdown: "## Unterpunkt\n\nText" }] });
    expect(normalised).toEqual({ title: "Titel", summary: "S", sections: [{ heading: "Was sich änderte", markdown: "### Unterpunkt\n\nText" }] });
  });

  it("accepts a faithful Chinese translation with translated headings, numbers glued to CJK text", () => {
    expect(check(zh())).toEqual([]);
  });

  it("accepts regional forms of the same figures: ％, a space before %, lakh grouping, no-break-space grouping, 'pro 1k'", () => {
    expect(check(zh({ summary: "错误率在2026-11-12达到18.43％；每1k个token的成本为$0.0004。" }))).toEqual([]);
    const hi: TranslatableText = {
      title: "p95 विलंबता 1,234.5 ms तक बढ़ी",
      summary: "2026-11-12 को त्रुटियाँ 18.43 % तक पहुँचीं; प्रति 1k टोकन लागत $0.0004 है।",
      sections: [
        { heading: "क्या बदला", markdown: "llama-3.1-8b int8 की p95 विलंबता 7 दिनों में 130.2 ms से 1,234.5 ms हो गई; 1,23,456 इवेंट, r = -0.82।" },
        { heading: "लिंक और आर्टिफ़ैक्ट", markdown: original.sections[1].markdown },
      ],
    };
    expect(check(hi)).toEqual([]);
    const de = zh({ title: "p95-Latenz stieg auf 1\u202F234.5 ms", summary: "Fehler erreichten am 2026-11-12 18.43 %; Kosten pro 1k Tokens: $0.0004." });
    expect(check({ ...de, sections: [{ heading: "Was sich geändert hat", markdown: original.sections[0].markdown }, de.sections[1]] })).toEqual([]);
  });

  it("rejects Devanagari and full-width digits as changed numbers (never normalised)", () => {
    const problems = check(zh({ s1: "llama-3.1-8b int8的p95延迟在७ दिन内从130.2 ms升至1,234.5 ms；123456个事件，r = -0.82。", title: "p95延迟升至１,２３４.５ ms" }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^title: "１" uses non-ASCII digits/),
        expect.stringMatching(/^title: the number "1,234.5" of the original title is missing/),
        expect.stringMatching(/^section 1 \("变化"\): "७" uses non-ASCII digits/),
        expect.stringMatching(/^section 1 \("变化"\): the number "7" of the original section 1 \("What changed"\) is missing/),
      ]),
    );
  });

  it("rejects a decimal comma, dotted thousands, a rounded figure, a number in words, a % the original has not", () => {
    const problems = check(
      zh({
        title: "p95延迟升至1.234,5 ms",
        s1: "llama-3.1-8b int8的p95延迟在七天内从130 ms升至1,234.5 ms；123456个事件，r = -0.82%。",
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^title: "1.234" is not a number of the original title/),
        expect.stringMatching(/^title: "5" is not a number of the original title/),
        expect.stringMatching(/^section 1 \("变化"\): "130" is not a number of the original section 1/),
        expect.stringMatching(/^section 1 \("变化"\): the number "7" of the original section 1 \("What changed"\) is missing/),
        expect.stringMatching(/^section 1 \("变化"\): the number "130.2" of the original section 1 \("What changed"\) is missing/),
        expect.stringMatching(/^section 1 \("变化"\): "-0.82%" carries a % sign that the original section 1 \("What changed"\) does not give it/),
      ]),
    );
  });

  it("rejects a translated commit subject's new digits, an added code span, a changed link, a missing section", () => {
    const s2 = "- Banterhearts [`aaaaaaa`](https://github.com/acme/hearts/commit/" + "a".repeat(40) + ") 将llama量化为int8（3个内核）\n\n运行：`run-1` `999`";
    expect(check(zh({ s2 }))).toEqual([
      'section 2 ("链接与产物"): "3" is not a number of the original section 2 ("Links & artifacts"): copy every number exactly as the original writes it (ASCII digits, "." as the decimal point, "," only between thousands), and add none (in "…aaaaaaaaaaaaaa) 将llama量化为int8（3个内核） 运行：`run-1` `999`")',
      'section 2 ("链接与产物"): the code `999` is not in the original section 2 ("Links & artifacts"): do not add or alter code spans',
    ]);
    const moved = zh({ s2: original.sections[1].markdown.replace("acme/hearts", "acme/other") });
    expect(check(moved)).toHaveLength(2);
    const short = { ...zh(), sections: zh().sections.slice(0, 1) };
    expect(check(short)).toEqual([expect.stringMatching(/^sections: the original has 2 sections \("What changed", "Links & artifacts"\); return exactly one translated section for each, in the same order \(got 1\)$/)]);
  });
});
