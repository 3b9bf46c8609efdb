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
import type { Facts } from "../lib/analysis/facts";
import { facts as factsSchema } from "../lib/analysis/facts";
import { formatFact, type Fact, type Lang } from "../lib/episode/fact";
import { parseEpisodeFile } from "../lib/episode/file";
import { referencesIn } from "../lib/episode/references";
import { checkEpisodeFile, renderAndCheck } from "../lib/episode/truth";
import type { LlmProvider } from "../lib/llm/provider";
import { llmCostUsd } from "../lib/pricing";
import type { TranslationOutput } from "../lib/translate/llm";
import { normaliseTranslation, renderTranslation, translationSource } from "../lib/translate/episode";
import { codeSpans, linkTargets, verifyTranslation, type TranslatableText } from "../lib/translate/verify";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, seriesOf, testDeps } from "./helpers/deps";
import {
  HEARTS_COMMIT,
  SAMPLE_ENV as ENV,
  SAMPLE_LINKS as LINKS,
  REGRESSION_COMMIT,
  insertWatcherRun,
  seedSampleWindowWithCommits,
} from "./helpers/sample-window";

/**
 * The translator on real ClickHouse: an English original written by the
 * council's offline writer (stored by the council itself, with its TEMPLATE:
 * prose with {{fact:…}} and {{commit:…}} references), translated through the
 * AI SDK with a mock model — the template is what is translated: accepted,
 * repaired, rejected (references dropped, added or changed, numbers of its
 * own, code spans, links), skipped without a key, idempotent under retries —
 * rendered in its language (numbers in the locale's format) and then
 * published with its original in one commit by the publisher. The check
 * itself is tested on its own against the same original's template and facts.
 */

const NS = "0c6a3b52-1d8e-4f7a-9b3c-5e2d7f9a1b4c";
const COUNCIL_NOW = "2026-11-15T01:00:00.000Z";
const NOW = "2026-11-15T03:00:00.000Z";
const run = (n: number) => uuidv5(`translate-run-${n}`, NS);
const ORIGINAL_RUN = uuidv5("council-original", NS);

// ---------------------------------------------------------------- data (tests/helpers/sample-window.ts, as tests/council.test.ts)

async function seed(db: Db) {
  await seedSampleWindowWithCommits(db, NS);
  await insertWatcherRun(db, { ts: "2026-11-15T00:55:00.000Z", runId: uuidv5("watcher", NS) });
}

// ---------------------------------------------------------------- the original (the council's, with its template)

let t: TestDatabase;
let original: EpisodeRow;
/** The original's template: what is translated. */
let template: TranslatableText;
let facts: Facts;
let series: string;
let originalPath: string;
/** A faithful "German" translation of the template. */
let good: TranslationOutput;
const temps: string[] = [];

const fact = (id: string): Fact => {
  const f = facts.facts.find((x) => x.id === id);
  if (!f) throw new Error(`no fact ${id}`);
  return f;
};
const allText = (x: TranslatableText) => [x.title, x.summary, ...x.sections.flatMap((s) => [s.heading, s.markdown])].join("\n");
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The text an evidence link to `id` shows in a rendered file. */
const shownIn = (markdown: string, id: string) => new RegExp(`\\[([^\\]]*)\\]\\(#fact-${escapeRegExp(id)}\\)`).exec(markdown)?.[1];

beforeAll(async () => {
  t = await createTestDatabase();
  await seed(t.db);
  // The original: written by the council's offline writer, with commit links (BANTERHEARTS_REPO); the council stores its template.
  const councilDeps = testDeps(t.db, { clock: fixedClock(COUNCIL_NOW), envVars: ENV });
  const written = await council(councilOptions.parse({ force: true }), councilDeps, { runId: ORIGINAL_RUN, progress: () => {} }, { llm: null });
  series = written.summary.series as string;
  originalPath = `episodes/${series}/ep-001.md`;
  expect(written.summary).toMatchObject({ status: "publishable", episode: 1, file_path: originalPath, problems: [] });
  [original] = await t.db.query("SELECT * FROM episodes FINAL WHERE lang = 'en'", {}, episodeRow);
  template = JSON.parse(original.template) as TranslatableText;
  facts = factsSchema.parse(JSON.parse(original.facts));
  good = german(template);
});
afterAll(async () => {
  await t.drop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- translations the mock model returns

const HEADINGS_DE: Record<string, string> = {
  "What changed": "Was sich geändert hat",
  "Why it matters": "Warum es wichtig ist",
  "Benchmarks (summary)": "Benchmarks (Zusammenfassung)",
  "Next steps": "Nächste Schritte",
  "Links & artifacts": "Links & Artefakte",
};
const WORDS_DE: Record<string, string> = {
  latency: "Latenz",
  and: "und",
  users: "Nutzer",
  the: "die",
  is: "ist",
  with: "mit",
  Commits: "Commits",
  Council: "Council-Lauf",
};

/** A "German" rendering that translates some words and leaves references, code, links and URLs alone. */
function germanProse(text: string): string {
  return text
    .split(/(\{\{[^{}]*\}\}|`+[\s\S]*?`+|\]\([^)]*\)|https?:\/\/\S+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\b[A-Za-z]+\b/g, (w) => WORDS_DE[w] ?? w)))
    .join("");
}

function german(source: TranslatableText): TranslationOutput {
  return {
    title: `DE: ${germanProse(source.title)}`,
    summary: germanProse(source.summary),
    sections: source.sections.map((s) => ({ heading: HEADINGS_DE[s.heading] ?? s.heading, markdown: germanProse(s.markdown) })),
  };
}

const withSection = (x: TranslationOutput, i: number, edit: (markdown: string) => string): TranslationOutput => ({
  ...x,
  sections: x.sections.map((s, j) => (j === i ? { ...s, markdown: edit(s.markdown) } : s)),
});
/** Section indexes of the offline writer's episode (no Data quality notice: its confidence is above the threshold). */
const WHY = 1;
const BENCHMARKS = 2;
const LINKS_SECTION = 4;

const USAGE = {
  inputTokens: { total: 2100, noCache: 2100, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 900, text: 900, reasoning: undefined },
};

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
/** The text of the last message of a call's prompt (the repair request). */
const lastMessage = (call: LanguageModelV3CallOptions) => {
  const last = call.prompt.at(-1)!;
  return typeof last.content === "string" ? last.content : last.content.map((c) => ("text" in c ? c.text : "")).join("");
};

// ---------------------------------------------------------------- reading back

const translationRows = (db: Db, lang: string) =>
  db.query(
    `SELECT * FROM episodes FINAL WHERE series = {series:String} AND episode_num = 1 AND lang = {lang:String} ORDER BY updated_at`,
    { series, lang },
    episodeRow,
  );

const llmEvents = (db: Db, runId: string) =>
  db.query<{
    event_id: string;
    source: string;
    operation: string;
    model: string;
    tokens_in: number;
    tokens_out: number;
    cost_usd: number | null;
    status: string;
    error_msg: string;
  }>(
    `SELECT toString(event_id) AS event_id, source, operation, model, tokens_in, tokens_out, toFloat64OrNull(toString(cost_usd)) AS cost_usd, status, error_msg
       FROM llm_events FINAL WHERE run_id = {run_id:UUID} ORDER BY ts, operation`,
    { run_id: runId },
  );

// ---------------------------------------------------------------- the agent

describe("translate agent", () => {
  beforeEach(async () => {
    // Each case starts from the original alone.
    await t.db.command("TRUNCATE TABLE episodes");
    await t.db.insert("episodes", [original]);
  });

  const deps = (envVars: Record<string, string> = {}) => testDeps(t.db, { clock: fixedClock(NOW), envVars: { ...ENV, ...envVars } });
  const ctx = (runId: string) => ({ runId, progress: () => {} });
  const options = (o: Record<string, unknown> = {}) => translateOptions.parse(o);

  it("the original's template holds references where numbers go; its file has them rendered, with code spans and commit links", () => {
    const text = allText(template);
    expect(referencesIn(text).map((r) => `${r.kind}:${r.id}`)).toEqual(
      expect.arrayContaining(["fact:hearts.latency_p95_ms", "fact:volume.events", "fact:packs.user_latency_ms", `commit:${HEARTS_COMMIT.slice(0, 12)}`]),
    );
    const p95 = formatFact(fact("hearts.latency_p95_ms"), "en");
    expect(p95).toBe("170.0 ms");
    expect(text).not.toContain(p95);
    expect(shownIn(original.markdown, "hearts.latency_p95_ms")).toBe(p95);
    expect(codeSpans(text)).toContain(`\`${ORIGINAL_RUN}\``);
    expect(linkTargets(original.markdown)).toContain(`https://github.com/acme/banterhearts/commit/${HEARTS_COMMIT}`);
    expect(checkEpisodeFile(original.markdown, facts, { links: LINKS })).toEqual([]);
  });

  it("stores a translation of the template that keeps every reference: publishable, rendered in German, translation_of, front-matter copied, the mock's exact usage in llm_events", async () => {
    const { llm, model } = mockLlm([good]);
    const d = deps();
    const result = await translate(options({ langs: ["de"] }), d, ctx(run(1)), { llm });
    expect(model.doGenerateCalls).toHaveLength(1);
    const prompt = promptText(model.doGenerateCalls[0]);
    expect(prompt).toContain("German (Deutsch)");
    expect(prompt).toContain("Copy every reference exactly");
    // The model sees the template: references, never a rendered number.
    expect(prompt).toContain("{{fact:hearts.latency_p95_ms}}");
    expect(prompt).not.toContain(formatFact(fact("hearts.latency_p95_ms"), "en"));
    expect(result).toMatchObject({
      status: "ok",
      summary: {
        pending: 1,
        translated: [
          { series, episode: 1, lang: "de", status: "publishable", file_path: `episodes/${series}/ep-001.de.md`, translation_of: originalPath, problems: [] },
        ],
      },
    });

    const rendered = renderAndCheck(normaliseTranslation(good), facts, { lang: "de", links: LINKS, runId: ORIGINAL_RUN });
    expect(rendered.problems).toEqual([]);
    const [row] = await translationRows(t.db, "de");
    const cost = llmCostUsd("gpt-4o-mini", 2100, 900)!;
    expect(row).toMatchObject({
      status: "publishable",
      lang: "de",
      run_id: ORIGINAL_RUN,
      ts: original.ts,
      translation_of: originalPath,
      file_path: `episodes/${series}/ep-001.de.md`,
      title: rendered.content.title,
      tokens_total: 3000,
      claims: original.claims,
      problems: [],
    });
    expect(row.title).toMatch(/^DE: /);
    expect(row.title).not.toContain("{{");
    expect(JSON.parse(row.template)).toEqual(normaliseTranslation(good));
    expect(row.cost_total).toBeCloseTo(cost, 9);
    expect(JSON.parse(row.writer)).toEqual({ kind: "llm", model: "gpt-4o-mini", tokens_in: 2100, tokens_out: 900, cost_usd: cost });

    // The file: the original's front-matter except title, summary, lang and translation_of; German headings; German numbers.
    const [, yaml] = /^---\n([\s\S]*?)\n---\n/.exec(row.markdown)!;
    const fm = parseYaml(yaml) as Record<string, unknown>;
    const originalFm = parseEpisodeFile(original.markdown).frontMatter;
    expect(fm).toEqual({ ...originalFm, title: rendered.content.title, summary: rendered.content.summary, lang: "de", translation_of: originalPath });
    expect(row.markdown).toContain("## Warum es wichtig ist");
    expect(row.markdown).toContain(`https://github.com/acme/banterhearts/commit/${HEARTS_COMMIT}`);
    expect(shownIn(row.markdown, "hearts.latency_p95_ms")).toBe("170,0 ms");
    // What the publisher will check on the exact file.
    expect(checkEpisodeFile(row.markdown, facts, { links: LINKS })).toEqual([]);

    expect(await llmEvents(t.db, run(1))).toEqual([
      {
        event_id: llmEventId(run(1), "translate:chimera/1/de".replace("chimera", series), 1),
        source: "translate",
        operation: "translate.de",
        model: "gpt-4o-mini",
        tokens_in: 2100,
        tokens_out: 900,
        cost_usd: cost,
        status: "success",
        error_msg: "",
      },
    ]);
    const pending = d.metrics.pending();
    expect(pending.filter((s) => s.metric === "muse.translate.translations").map((s) => s.tags)).toEqual([
      expect.arrayContaining(["lang:de", "status:publishable"]),
    ]);
    expect(
      pending
        .filter((s) => s.metric === "muse.llm.tokens")
        .map((s) => s.points[0].value)
        .sort((a, b) => a - b),
    ).toEqual([900, 2100]);
    expect(pending.filter((s) => s.metric === "muse.llm.calls").map((s) => s.tags)).toEqual([expect.arrayContaining(["agent:translate", "status:success"])]);
  });

  it("a dropped reference (the number typed instead) is sent back once; the repaired translation is stored", async () => {
    const typed = withSection(good, BENCHMARKS, (m) => m.replace("{{fact:packs.user_latency_ms}}", formatFact(fact("packs.user_latency_ms"), "zh")));
    expect(typed).not.toEqual(good);
    const { llm, model } = mockLlm([typed, good]);
    const result = await translate(options({ langs: ["zh"] }), deps(), ctx(run(2)), { llm });
    expect(model.doGenerateCalls).toHaveLength(2);
    const repair = lastMessage(model.doGenerateCalls[1]);
    expect(repair).toContain("rejected by the checker");
    expect(repair).toContain(
      `section 3 ("Benchmarks (Zusammenfassung)"): {{fact:packs.user_latency_ms}} appears 0 time(s); the original has it 1 time(s) — keep every reference exactly`,
    );
    expect(repair).toContain(`Benchmarks (Zusammenfassung): "500.0" is a number that no fact reference rendered`);
    expect(result.summary.translated).toEqual([expect.objectContaining({ lang: "zh", status: "publishable", problems: [], tokens: 6000 })]);
    const [row] = await translationRows(t.db, "zh");
    expect(row).toMatchObject({ status: "publishable", tokens_total: 6000 });
    expect(shownIn(row.markdown, "packs.user_latency_ms")).toBe("500.0 ms");
    expect((await llmEvents(t.db, run(2))).map((e) => [e.operation, e.status, e.error_msg, e.tokens_in, e.tokens_out])).toEqual([
      ["translate.zh", "success", expect.stringMatching(/^translation rejected: \d+ problems?$/), 2100, 900],
      ["translate.zh.repair", "success", "", 2100, 900],
    ]);
  });

  it("an added reference, then a changed one: rejected after the one repair, with the problems of the last answer", async () => {
    const added = withSection(good, WHY, (m) => `${m} {{fact:hearts.latency_p95_ms}}`);
    const changed = withSection(good, BENCHMARKS, (m) => m.replace("{{fact:hearts.latency_p95_ms}}", "{{fact:hearts.tokens_per_sec}}"));
    expect(changed).not.toEqual(good);
    const { llm, model } = mockLlm([added, changed]);
    const result = await translate(options({ langs: ["de"] }), deps(), ctx(run(19)), { llm });
    expect(lastMessage(model.doGenerateCalls[1])).toContain(
      `section 2 ("Warum es wichtig ist"): {{fact:hearts.latency_p95_ms}} is not in the original — add no reference`,
    );
    expect(result.summary.translated).toEqual([expect.objectContaining({ lang: "de", status: "rejected", file_path: "" })]);
    const [row] = await translationRows(t.db, "de");
    expect(row).toMatchObject({ status: "rejected", file_path: "" });
    expect(row.problems).toEqual([
      `section 3 ("Benchmarks (Zusammenfassung)"): {{fact:hearts.latency_p95_ms}} appears 0 time(s); the original has it 1 time(s) — keep every reference exactly`,
      `section 3 ("Benchmarks (Zusammenfassung)"): {{fact:hearts.tokens_per_sec}} appears 2 time(s); the original has it 1 time(s)`,
    ]);
  });

  it("still a number of its own after the repair → stored rejected with its problems, never publishable; both calls recorded", async () => {
    const added = withSection(good, WHY, (m) => `${m} Die Latenz stieg um 999.9 ms.`);
    const { llm } = mockLlm([added, added]);
    const d = deps();
    const result = await translate(options({ langs: ["hi"] }), d, ctx(run(3)), { llm });
    expect(result.summary.translated).toEqual([expect.objectContaining({ lang: "hi", status: "rejected", file_path: "" })]);
    const [row] = await translationRows(t.db, "hi");
    expect(row).toMatchObject({ status: "rejected", file_path: "", translation_of: originalPath, tokens_total: 6000 });
    expect(row.problems).toEqual([expect.stringMatching(/^Warum es wichtig ist: "999\.9" is a number that no fact reference rendered/)]);
    expect(row.markdown).toContain("999.9"); // kept for inspection; the publisher never takes a rejected row
    expect(await llmEvents(t.db, run(3))).toHaveLength(2);
    expect(seriesOf(d.metrics, "muse.translate.translations").map((s) => s.tags)).toEqual([expect.arrayContaining(["lang:hi", "status:rejected"])]);
  });

  it("number words and digits of other scripts are numbers too: zwei (de), 两倍 (zh), Devanagari digits (hi) are rejected", async () => {
    const de = withSection(good, WHY, (m) => `${m} Sie stieg in zwei Schritten.`);
    const zh = withSection(good, WHY, (m) => `${m} 延迟增加了两倍。`);
    const hi = withSection(good, WHY, (m) => `${m} विलंबता ७ दिनों तक बढ़ी।`);
    const { llm } = mockLlm([de, de, zh, zh, hi, hi]);
    const result = await translate(options({ langs: ["de", "zh", "hi"] }), deps(), ctx(run(20)), { llm });
    expect(result.summary.translated.map((x) => [x.lang, x.status])).toEqual([
      ["de", "rejected"],
      ["zh", "rejected"],
      ["hi", "rejected"],
    ]);
    expect((await translationRows(t.db, "de"))[0].problems).toEqual([
      expect.stringMatching(/^Warum es wichtig ist: "zwei" is a number word; numbers come only from fact references/),
    ]);
    expect((await translationRows(t.db, "zh"))[0].problems).toEqual([
      expect.stringMatching(/^Warum es wichtig ist: "两" is a Chinese numeral; numbers come only from fact references/),
    ]);
    expect((await translationRows(t.db, "hi"))[0].problems).toEqual([
      expect.stringMatching(/^Warum es wichtig ist: "७" is a number that no fact reference rendered/),
    ]);
  });

  it("a dropped code span or a changed link is rejected", async () => {
    const dropped = withSection(good, LINKS_SECTION, (m) => m.replace(`\`${ORIGINAL_RUN}\``, ORIGINAL_RUN));
    const relinked = withSection(good, LINKS_SECTION, (m) => `${m}\n\n[Mehr](https://example.com/commit/${HEARTS_COMMIT})`);
    const { llm } = mockLlm([dropped, dropped, relinked, relinked]);
    const result = await translate(options({ langs: ["de", "zh"] }), deps(), ctx(run(4)), { llm });
    expect(result.summary.translated.map((x) => [x.lang, x.status])).toEqual([
      ["de", "rejected"],
      ["zh", "rejected"],
    ]);
    const [de] = await translationRows(t.db, "de");
    expect(de.problems).toEqual([
      `section 5 ("Links & Artefakte"): the code \`${ORIGINAL_RUN}\` of the original section 5 ("Links & artifacts") is missing or changed: copy code spans and blocks character for character`,
    ]);
    const [zh] = await translationRows(t.db, "zh");
    expect(zh.problems).toEqual([
      `section 5 ("Links & Artefakte"): the link target https://example.com/commit/${HEARTS_COMMIT} is not in the original section 5 ("Links & artifacts"): do not add or alter links`,
      `Links & Artefakte: link target "https://example.com/commit/${HEARTS_COMMIT}" is neither this site nor an upstream repository`,
    ]);
    expect((await llmEvents(t.db, run(4))).map((e) => e.operation)).toEqual(["translate.de", "translate.de.repair", "translate.zh", "translate.zh.repair"]);
  });

  it("one episode in German, Chinese and Hindi: the same facts, each in its locale's number format", async () => {
    const { llm } = mockLlm([good, good, good]);
    const result = await translate(options({ langs: ["de", "zh", "hi"] }), deps(), ctx(run(21)), { llm });
    expect(result.summary.translated.map((x) => [x.lang, x.status])).toEqual([
      ["de", "publishable"],
      ["zh", "publishable"],
      ["hi", "publishable"],
    ]);
    const rows = {
      en: original,
      de: (await translationRows(t.db, "de"))[0],
      zh: (await translationRows(t.db, "zh"))[0],
      hi: (await translationRows(t.db, "hi"))[0],
    };
    const shown = (id: string) => Object.fromEntries(Object.entries(rows).map(([lang, row]) => [lang, shownIn(row.markdown, id)]));
    // What Intl.NumberFormat / DateTimeFormat give for these facts (formatFact), in each file.
    expect(shown("hearts.latency_p95_ms")).toEqual({ en: "170.0 ms", de: "170,0 ms", zh: "170.0 ms", hi: "170.0 ms" });
    // A count with its noun, in each language (lib/episode/nouns.ts).
    expect(shown("volume.events")).toEqual({ en: "1,400 UI events", de: "1.400 UI-Ereignisse", zh: "1,400 个界面事件", hi: "1,400 UI इवेंट" });
    expect(shown("packs.error_rate_pct")).toEqual({ en: "2.00%", de: "2,00\u00a0%", zh: "2.00%", hi: "2.00%" });
    expect(shown("hearts.cost_per_1k")).toEqual({ en: "$0.0002", de: "0,0002\u00a0$", zh: "US$0.0002", hi: "$0.0002" });
    expect(shown("window.from")).toEqual({ en: "Nov 8, 2026", de: "8. Nov. 2026", zh: "2026年11月8日", hi: "8 नव॰ 2026" });
    for (const [lang, row] of Object.entries(rows)) {
      expect(row.markdown, lang).toContain(`lang: "${lang}"`);
      for (const f of facts.facts)
        if (shownIn(row.markdown, f.id) !== undefined) expect(shownIn(row.markdown, f.id), `${lang} ${f.id}`).toBe(formatFact(f, lang as Lang));
      expect(checkEpisodeFile(row.markdown, facts, { links: LINKS }), lang).toEqual([]);
    }
  });

  it("renders 1234.5 ms and 1234567 events of that episode as 1.234,5 ms in German and with Indian grouping in Hindi", () => {
    const patched: Facts = {
      ...facts,
      facts: facts.facts.map((f) => (f.id === "hearts.latency_p95_ms" ? { ...f, value: 1234.5 } : f.id === "volume.events" ? { ...f, value: 1234567 } : f)),
    };
    const found = translationSource({ ...original, facts: JSON.stringify(patched) });
    if (!("source" in found)) throw new Error(found.problems.join("; "));
    const translated = normaliseTranslation(good);
    const files = {
      en: renderAndCheck(template, patched, { lang: "en", links: LINKS, runId: ORIGINAL_RUN })
        .content.sections.map((s) => s.markdown)
        .join("\n"),
      de: renderTranslation(found.source, "de", translated, LINKS),
      zh: renderTranslation(found.source, "zh", translated, LINKS),
      hi: renderTranslation(found.source, "hi", translated, LINKS),
    };
    const shown = (id: string) => Object.fromEntries(Object.entries(files).map(([lang, text]) => [lang, shownIn(text, id)]));
    expect(shown("hearts.latency_p95_ms")).toEqual({ en: "1,234.5 ms", de: "1.234,5 ms", zh: "1,234.5 ms", hi: "1,234.5 ms" });
    expect(shown("volume.events")).toEqual({
      en: "1,234,567 UI events",
      de: "1.234.567 UI-Ereignisse",
      zh: "1,234,567 个界面事件",
      hi: "12,34,567 UI इवेंट",
    });
    for (const lang of ["de", "zh", "hi"] as const)
      expect(renderAndCheck(translated, patched, { lang, links: LINKS, runId: ORIGINAL_RUN }).problems, lang).toEqual([]);
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

  it("an original without a template (written before references) is not translated: a clear problem, no call", async () => {
    await t.db.command("TRUNCATE TABLE episodes");
    await t.db.insert("episodes", [episodeRow.parse({ ...original, template: "" })]);
    const { llm, model } = mockLlm([good]);
    const result = await translate(options({ langs: ["de"] }), deps(), ctx(run(22)), { llm });
    expect(model.doGenerateCalls).toHaveLength(0);
    expect(result.summary.failed).toEqual([
      expect.objectContaining({
        lang: "de",
        error: expect.stringMatching(/the original has no template with fact references \(written before references\): it cannot be translated/),
      }),
    ]);
    expect(await translationRows(t.db, "de")).toEqual([]);
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
    const added = withSection(good, WHY, (m) => `${m} 999.9`);
    const first = await translate(options({ langs: ["de"] }), deps(), ctx(run(7)), { llm: mockLlm([added, added]).llm });
    expect(first.summary.translated.map((x) => x.status)).toEqual(["rejected"]);
    // The next run retries the rejected translation (it is not "publishable" or "published").
    const retry = await translate(options({ langs: ["de"] }), deps(), ctx(run(8)), { llm: mockLlm([good]).llm });
    expect(retry.summary).toMatchObject({ pending: 1, translated: [expect.objectContaining({ status: "publishable" })] });
    const count = await t.db.query<{ n: number }>("SELECT count() AS n FROM episodes FINAL WHERE episode_num = 1 AND lang = 'de'");
    expect(count).toEqual([{ n: 1 }]);
    expect((await translationRows(t.db, "de"))[0].status).toBe("publishable");
    const nothing = await translate(options({ langs: ["de"] }), deps(), ctx(run(10)), { llm: mockLlm([]).llm });
    expect(nothing).toMatchObject({ status: "skipped", reason: "every published or publishable original has its translations" });
  });

  it("retries across days collapse too: the translation keeps the original's ts (its partition)", async () => {
    const added = withSection(good, WHY, (m) => `${m} 999.9`);
    await translate(options({ langs: ["de"] }), deps(), ctx(run(11)), { llm: mockLlm([added, added]).llm });
    const later = testDeps(t.db, { clock: fixedClock("2026-11-18T09:00:00.000Z"), envVars: ENV });
    await translate(options({ langs: ["de"] }), later, ctx(run(12)), { llm: mockLlm([good]).llm });
    const rows = await t.db.query<{ n: number; status: string }>(
      "SELECT count() AS n, any(status) AS status FROM episodes FINAL WHERE episode_num = 1 AND lang = 'de'",
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
        { series, episode: 1, lang: "de", retry: false },
        { series, episode: 1, lang: "zh", retry: false },
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
    const attempt = translate(options({ langs: ["de"] }), deps({ MUSE_LLM_TIMEOUT_MS: "1000" }), ctx(run(14)), {
      llm: { model, modelId: "gpt-4o-mini", provider: "mock" },
    });
    await expect(attempt).rejects.toThrow(/no translation could be made: LLM call translate.de timed out after 1000 ms/);
    expect(await llmEvents(t.db, run(14))).toEqual([expect.objectContaining({ operation: "translate.de", status: "timeout", tokens_in: 0 })]);
    expect(await translationRows(t.db, "de")).toEqual([]);
  });

  it("the publisher commits the translation in the same commit as its original, with translation_of", async () => {
    await translate(options({ langs: ["de"] }), deps(), ctx(run(15)), { llm: mockLlm([good]).llm });
    const contentDir = mkdtempSync(path.join(tmpdir(), "muse-translate-content-"));
    temps.push(contentDir);
    const published = await publish({ dryRun: false, limit: 10 }, deps({ MUSE_CONTENT_DIR: contentDir }), ctx(run(16)));
    expect(published.summary.failed).toEqual([]);
    expect(published.summary.published).toEqual([expect.objectContaining({ series, episode: 1, langs: ["en", "de"], created: true })]);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: contentDir, encoding: "utf8" }).trim();
    const files = git("show", "--name-only", "--format=", "HEAD").split("\n").filter(Boolean).sort();
    expect(files).toEqual([`episodes/${series}/ep-001.de.md`, `episodes/${series}/ep-001.md`]);
    const text = git("show", `HEAD:episodes/${series}/ep-001.de.md`);
    expect((parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(text)![1]) as Record<string, unknown>).translation_of).toBe(originalPath);
    expect(shownIn(text, "hearts.latency_p95_ms")).toBe("170,0 ms");
    // Both rows are marked published with that commit; the translation is then done.
    const rows = await t.db.query<{ lang: string; status: string; commit_sha: string }>(
      "SELECT lang, status, commit_sha FROM episodes FINAL WHERE episode_num = 1 ORDER BY lang",
    );
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

describe("verifyTranslation (on the council original's template and facts)", () => {
  const rules = { titleMaxLength: 300 };
  const check = (translation: TranslatableText, lang: Lang) => verifyTranslation(template, translation, facts, lang, rules, LINKS, { runId: ORIGINAL_RUN });
  const HEADINGS_ZH: Record<string, string> = {
    "What changed": "变化",
    "Why it matters": "为什么重要",
    "Benchmarks (summary)": "基准测试（摘要）",
    "Next steps": "后续步骤",
    "Links & artifacts": "链接与产物",
  };
  /** A Chinese translation of a line: its references glued to Chinese text (no spaces), then its code spans. */
  const zhLine = (text: string) =>
    `${referencesIn(text)
      .map((r) => `数值为{{${r.kind}:${r.id}}}`)
      .join("，")}${codeSpans(text)
      .map((c) => `，代码${c}`)
      .join("")}。`;
  /** A piece line by line, list markers and paragraphs kept: references stay in their paragraph or list item (verify.ts). */
  const zhPiece = (text: string) =>
    text
      .split("\n")
      .map((line) => (line.trim() === "" ? "" : `${/^- /.test(line) ? "- " : ""}${zhLine(line)}`))
      .join("\n");
  const zh = (): TranslatableText => ({
    title: `p95延迟：${zhPiece(template.title)}`,
    summary: zhPiece(template.summary),
    sections: template.sections.map((s) => ({ heading: HEADINGS_ZH[s.heading] ?? s.heading, markdown: zhPiece(s.markdown) })),
  });

  it("normalises the model's headings (one line, no leading #) and demotes H1/H2 inside sections", () => {
    const normalised = normaliseTranslation({
      title: " Titel ",
      summary: " S ",
      sections: [{ heading: "## Was\nsich änderte ", markdown: "## Unterpunkt\n\nText" }],
    });
    expect(normalised).toEqual({ title: "Titel", summary: "S", sections: [{ heading: "Was sich änderte", markdown: "### Unterpunkt\n\nText" }] });
  });

  it("accepts the faithful German translation, and a Chinese one whose references are moved and glued to Chinese text", () => {
    expect(check(normaliseTranslation(good), "de")).toEqual([]);
    expect(check(zh(), "zh")).toEqual([]);
  });

  it("rejects a reference dropped, added or changed, piece by piece", () => {
    const base = normaliseTranslation(good);
    const dropped = { ...base, summary: base.summary.replace("{{fact:changes.improvements}}", "") };
    expect(check(dropped, "de")).toEqual([
      `summary: {{fact:changes.improvements}} appears 0 time(s); the original has it 1 time(s) — keep every reference exactly`,
    ]);
    const added = { ...base, summary: `${base.summary} {{fact:volume.sessions}}` };
    expect(check(added, "de")).toEqual([`summary: {{fact:volume.sessions}} is not in the original — add no reference`]);
    // Moved to another piece: the title lost it and the summary gained it.
    const moved = {
      ...base,
      title: base.title.replace(/\{\{commit:[0-9a-f]+\}\}/, "dem Commit"),
      summary: `${base.summary} {{commit:${REGRESSION_COMMIT.slice(0, 12)}}}`,
    };
    expect(check(moved, "de")).toEqual([
      `title: {{commit:${REGRESSION_COMMIT.slice(0, 12)}}} appears 0 time(s); the original has it 1 time(s) — keep every reference exactly`,
      `summary: {{commit:${REGRESSION_COMMIT.slice(0, 12)}}} is not in the original — add no reference`,
    ]);
    const unknown = { ...base, summary: base.summary.replace("{{fact:changes.improvements}}", "{{fact:changes.improvments}}") };
    expect(check(unknown, "de")).toEqual([
      `summary: {{fact:changes.improvements}} appears 0 time(s); the original has it 1 time(s) — keep every reference exactly`,
      `summary: {{fact:changes.improvments}} is not in the original — add no reference`,
      `summary: {{fact:changes.improvments}} names no fact; use an id from the fact list`,
    ]);
  });

  it("rejects numbers of its own in any script: digits, full-width and Devanagari digits, German, Chinese and Hindi number words", () => {
    const base = normaliseTranslation(good);
    const say = (extra: string) => ({ ...base, summary: `${base.summary} ${extra}` });
    expect(check(say("Das sind 42 mehr."), "de")).toEqual([expect.stringMatching(/^summary: "42" is a number that no fact reference rendered/)]);
    expect(check(say("Das sind zwei mehr."), "de")).toEqual([expect.stringMatching(/^summary: "zwei" is a number word/)]);
    expect(check(say("Sie hat sich verdoppelt, zweiundvierzig Mal."), "de")).toEqual([
      expect.stringMatching(/^summary: "verdoppelt" is a number word/),
      expect.stringMatching(/^summary: "zweiundvierzig" is a number word/),
    ]);
    expect(check(say("延迟增加了两倍。"), "zh")).toEqual([expect.stringMatching(/^summary: "两" is a Chinese numeral/)]);
    // Full-width digits are digits (NFKC): glued to Chinese text, the whole word is reported.
    expect(check(say("延迟为１２ms。"), "zh")).toEqual([expect.stringMatching(/^summary: "延迟为12ms" is a number that no fact reference rendered/)]);
    expect(check(say("विलंबता ७ दिन में दोगुनी हुई।"), "hi")).toEqual([
      expect.stringMatching(/^summary: "७" is a number that no fact reference rendered/),
      expect.stringMatching(/^summary: "दोगुनी" is a number word/),
    ]);
    // English number words are numbers in every language.
    expect(check(say("twice"), "hi")).toEqual([expect.stringMatching(/^summary: "twice" is a number word/)]);
  });

  it("rejects a unit, percent sign or sign written next to a reference (the reference renders its own)", () => {
    const base = normaliseTranslation(good);
    expect(check({ ...base, summary: base.summary.replace("{{fact:changes.regressions}}", "{{fact:changes.regressions}} %") }, "de")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^summary: "%" follows \{\{fact:changes\.regressions\}\}/)]),
    );
    expect(check({ ...base, summary: base.summary.replace("{{fact:changes.regressions}}", "-{{fact:changes.regressions}}") }, "de")).toEqual([
      `summary: a sign ("-") stands before {{fact:changes.regressions}}; the reference renders the fact's own sign`,
    ]);
  });

  it("rejects an added code span, a changed link, a missing section", () => {
    const base = normaliseTranslation(good);
    const links = base.sections[LINKS_SECTION];
    const coded = { ...base, sections: base.sections.map((s, i) => (i === LINKS_SECTION ? { ...s, markdown: `${s.markdown} \`999\`` } : s)) };
    expect(check(coded, "de")).toEqual([
      `section 5 ("${links.heading}"): the code \`999\` is not in the original section 5 ("Links & artifacts"): do not add or alter code spans`,
      expect.stringMatching(new RegExp(`^${escapeRegExp(links.heading)}: "999" is a number that no fact reference rendered`)),
    ]);
    const short = { ...base, sections: base.sections.slice(0, 1) };
    expect(check(short, "de")).toEqual([
      expect.stringMatching(
        /^sections: the original has 5 sections \("What changed", "Why it matters", "Benchmarks \(summary\)", "Next steps", "Links & artifacts"\); return exactly one translated section for each, in the same order \(got 1\)$/,
      ),
    ]);
  });
});
