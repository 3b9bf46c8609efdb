import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { insertEpisodes, translatableOriginals, translationKeys } from "../clickhouse/queries/episodes";
import { episodeRow, type EpisodeRow, type LlmEventRow } from "../clickhouse/tables";
import { llmFromEnv, type LlmProvider } from "../llm/provider";
import { normaliseTranslation, translationFile, translationFilePath, translationSource, type TranslationSource } from "../translate/episode";
import { TRANSLATION_LANGS, translateWithLlm, type TranslationLang } from "../translate/llm";
import { verifyTranslation, type TranslatableText } from "../translate/verify";
import { repoName, type CommitLinks } from "../episode/file";
import { renderAndCheck } from "../episode/truth";
import { TransientError, type AgentDefinition, type AgentDeps, type AgentResult, type RunContext } from "./types";
import { emitLlmMetrics } from "../llm/metrics";
import { firstLineOf } from "../error-message";

/**
 * translate: published or publishable English originals → their translations
 * (MUSE_TRANSLATE_LANGS, default de, zh, hi) in `episodes`, for the publisher.
 *
 * 1. Work: originals read FINAL — lang "en", numbered, status "published" or
 *    "in_review" (MUSE_PUBLISH_MODE=pull-request: the translations join its review), or
 *    "publishable" with a confidence the publisher would publish (≥
 *    MUSE_PUBLISH_THRESHOLD) — times each language that has no translation
 *    with status "publishable", "in_review" or "published" yet. Never-tried translations
 *    come first, earlier rejected ones after (a translation that keeps failing
 *    cannot starve new episodes); at most `limit` per run, and none started
 *    after TIME_BUDGET_MS so a run fits the cron route's 300 s.
 * 2. Without an LLM (OPENAI_API_KEY unset) nothing is translated and the run
 *    is `skipped` with the reason: never a fake or machine-less translation —
 *    the site shows the English original.
 * 3. Each translation: title, summary and sections through the AI SDK
 *    (lib/translate/llm.ts), checked against the original
 *    (lib/translate/verify.ts: sections 1:1, numbers, code spans, link
 *    targets), one repair with the problems; still failing → stored with
 *    status "rejected" and its problems, never published.
 * 4. The row: the ORIGINAL's run_id and ts (its key and partition: a retried
 *    or repeated translation is a newer version of the same row, collapsed by
 *    FINAL), lang, translation_of = the original's path, file_path
 *    `episodes/<series>/ep-NNN.<lang>.md` (empty when rejected), markdown
 *    rendered with the original's front-matter, the translation's own tokens
 *    and cost; the `writer` column names the translator (the file's
 *    front-matter keeps the original's writer). Every LLM call is an
 *    llm_events row, whatever became of the translation.
 * 5. A call that fails (network, timeout) stores no translation; the run goes
 *    on with the others and fails (transient when the failure was) only when
 *    no translation at all could be made. dryRun lists the work, makes no call
 *    and writes nothing.
 */

export const NO_LLM_REASON = "no LLM configured (OPENAI_API_KEY unset): translations are not produced; the site shows the English original";
/** No translation starts after this much of a run (each may take two calls of MUSE_LLM_TIMEOUT_MS). */
export const TIME_BUDGET_MS = 180_000;

const lang = z.enum(TRANSLATION_LANGS);
const commaList = (value: unknown) =>
  typeof value === "string"
    ? value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

export const translateOptions = z
  .object({
    langs: z.preprocess(commaList, z.array(lang).min(1)).optional().describe("languages to produce, e.g. de,zh (default MUSE_TRANSLATE_LANGS)"),
    limit: z.number().int().min(1).max(100).default(5).describe("at most this many translations (original × language) per run"),
    dryRun: z.boolean().default(false).describe("list the translations that would be made; call no LLM and write nothing"),
  })
  .strict();
export type TranslateOptions = z.output<typeof translateOptions>;

export type TranslationStatus = "publishable" | "rejected";

export interface TranslationDone {
  series: string;
  episode: number;
  lang: TranslationLang;
  status: TranslationStatus;
  file_path: string;
  translation_of: string;
  problems: string[];
  tokens: number;
  cost_usd: number | null;
}

export interface TranslationWork {
  series: string;
  episode: number;
  lang: TranslationLang;
  /** A rejected translation of this original exists (this is a retry). */
  retry: boolean;
}

export interface TranslateSummary extends Record<string, unknown> {
  langs: TranslationLang[];
  /** Translations missing (original × language), before the limit. */
  pending: number;
  translated: TranslationDone[];
  failed: (TranslationWork & { error: string })[];
  /** Dry run: what would be translated. */
  would_translate: TranslationWork[];
  /** Left for the next run by the limit or the time budget. */
  deferred: number;
  tokens: number;
  cost_usd: number;
  dry_run: boolean;
}

export interface TranslateHooks {
  /** The LLM to translate with; null: none (the run is skipped); unset: from the environment. */
  llm?: LlmProvider | null;
  /** Default TIME_BUDGET_MS. */
  timeBudgetMs?: number;
}

// ---------------------------------------------------------------- reading

interface WorkItem extends TranslationWork {
  original: EpisodeRow;
  /** updated_at of the existing version of this translation row (same key), if any. */
  previousVersion?: string;
}

export async function findTranslationWork(db: Db, langs: TranslationLang[], threshold: number): Promise<WorkItem[]> {
  const originals = new Map<string, EpisodeRow>();
  const key = (series: string, episode: number) => `${series}\u0000${episode}`;
  for (const row of await translatableOriginals(db, threshold)) {
    // One original per series and number (numbers are claimed); should there ever be two, the published one, else the newest.
    const existing = originals.get(key(row.series, row.episode_num));
    if (!existing || existing.status !== "published" || row.status === "published") originals.set(key(row.series, row.episode_num), row);
  }
  const done = new Set<string>();
  const tried = new Map<string, { run_id: string; updated_at: string }[]>();
  for (const t of await translationKeys(db, langs)) {
    const k = `${key(t.series, t.episode_num)}\u0000${t.lang}`;
    if (t.status === "publishable" || t.status === "in_review" || t.status === "published") done.add(k);
    else tried.set(k, [...(tried.get(k) ?? []), { run_id: t.run_id, updated_at: t.updated_at }]);
  }
  const fresh: WorkItem[] = [];
  const retries: WorkItem[] = [];
  for (const original of originals.values()) {
    for (const l of langs) {
      const k = `${key(original.series, original.episode_num)}\u0000${l}`;
      if (done.has(k)) continue;
      const earlier = tried.get(k) ?? [];
      const sameRow = earlier.filter((e) => e.run_id === original.run_id).map((e) => e.updated_at);
      const item: WorkItem = { series: original.series, episode: original.episode_num, lang: l, retry: earlier.length > 0, original };
      if (sameRow.length > 0) item.previousVersion = sameRow.sort().at(-1);
      (item.retry ? retries : fresh).push(item);
    }
  }
  return [...fresh, ...retries];
}

// ---------------------------------------------------------------- writing

/** A version newer than `previous` (ReplacingMergeTree keeps the greatest updated_at), never earlier than now. */
function nextVersionTime(now: Date, previous: string | undefined): string {
  return new Date(Math.max(now.getTime(), previous ? Date.parse(previous) + 1 : 0)).toISOString();
}

const roundUsd = (v: number) => Math.round(v * 1e6) / 1e6;

function costOf(events: LlmEventRow[]): number | null {
  return events.some((e) => e.cost_usd === null) ? null : roundUsd(events.reduce((n, e) => n + (e.cost_usd ?? 0), 0));
}

interface TranslationRowInput {
  source: TranslationSource;
  lang: TranslationLang;
  status: TranslationStatus;
  text: TranslatableText | undefined;
  problems: string[];
  events: LlmEventRow[];
  llm: LlmProvider;
  now: Date;
  previousVersion: string | undefined;
  links?: CommitLinks;
  /** MUSE_CHIMERA_MIN_CORRELATION: what "strong" means where a claim states the correlation (as the check judged it). */
  strongCorrelation?: number;
}

export function translationRow(input: TranslationRowInput): EpisodeRow {
  const { source, lang, events } = input;
  const original = source.row;
  let markdown = "";
  let problems = input.problems;
  const rendered = input.text
    ? renderAndCheck(input.text, source.facts, { lang, links: input.links, strongCorrelation: input.strongCorrelation }).content
    : undefined;
  if (rendered) {
    try {
      markdown = translationFile(source, lang, rendered);
    } catch (error) {
      // Only a rejected translation can be malformed enough not to render; say why.
      if (input.status !== "rejected") throw error;
      problems = [...problems, `not renderable: ${firstLineOf(error)}`];
    }
  }
  const tokensIn = events.reduce((n, e) => n + e.tokens_in, 0);
  const tokensOut = events.reduce((n, e) => n + e.tokens_out, 0);
  const cost = costOf(events);
  return episodeRow.parse({
    ts: original.ts,
    updated_at: nextVersionTime(input.now, input.previousVersion),
    run_id: original.run_id,
    series: original.series,
    episode_num: original.episode_num,
    lang,
    title: rendered?.title ?? "",
    summary: rendered?.summary ?? "",
    confidence_score: original.confidence_score,
    correlation_strength: original.correlation_strength,
    tokens_total: tokensIn + tokensOut,
    cost_total: cost ?? 0,
    status: input.status,
    file_path: input.status === "publishable" ? translationFilePath(source, lang) : "",
    commit_sha: "",
    markdown,
    facts: original.facts,
    claims: original.claims,
    problems,
    writer: JSON.stringify({ kind: "llm", model: input.llm.modelId, tokens_in: tokensIn, tokens_out: tokensOut, cost_usd: cost }),
    translation_of: source.path,
    template: input.text ? JSON.stringify(input.text) : "",
  });
}

// ---------------------------------------------------------------- the run

export async function translate(
  options: TranslateOptions,
  deps: AgentDeps,
  context: Pick<RunContext, "runId" | "progress">,
  hooks: TranslateHooks = {},
): Promise<AgentResult<TranslateSummary>> {
  const { db, env, metrics, log } = deps;
  const started = performance.now();
  const langs = [...new Set(options.langs ?? env.MUSE_TRANSLATE_LANGS)];
  const summary: TranslateSummary = {
    langs,
    pending: 0,
    translated: [],
    failed: [],
    would_translate: [],
    deferred: 0,
    tokens: 0,
    cost_usd: 0,
    dry_run: options.dryRun,
  };
  if (langs.length === 0) return { status: "skipped", reason: "no languages configured (MUSE_TRANSLATE_LANGS is empty)", summary };

  const work = await findTranslationWork(db, langs, env.MUSE_PUBLISH_THRESHOLD);
  summary.pending = work.length;
  const llm = hooks.llm === null ? undefined : (hooks.llm ?? llmFromEnv(env));
  if (!llm) return { status: "skipped", reason: NO_LLM_REASON, summary };
  if (work.length === 0) return { status: "skipped", reason: "every published or publishable original has its translations", summary };

  const batch = work.slice(0, options.limit);
  summary.deferred = work.length - batch.length;
  const describe = (w: WorkItem): TranslationWork => ({ series: w.series, episode: w.episode, lang: w.lang, retry: w.retry });
  if (options.dryRun) {
    summary.would_translate = batch.map(describe);
    return { status: "ok", summary };
  }
  context.progress(`${batch.length} translation(s) to make`, { pending: work.length, langs });

  const budget = hooks.timeBudgetMs ?? TIME_BUDGET_MS;
  let firstFailure: { error: string; transient: boolean } | undefined;
  for (const [i, item] of batch.entries()) {
    if (performance.now() - started > budget) {
      summary.deferred += batch.length - i;
      log.warn("time budget spent: the remaining translations are left for the next run", { remaining: batch.length - i });
      break;
    }
    const found = translationSource(item.original);
    if ("problems" in found) {
      // The original itself is broken (the publisher refuses it too): nothing to translate.
      const error = `the original is not a valid episode file: ${found.problems.join("; ")}`;
      summary.failed.push({ ...describe(item), error });
      log.warn("original not translated", { series: item.series, episode: item.episode, lang: item.lang, error });
      continue;
    }
    const source = found.source;
    const rules = { titleMaxLength: Math.max(env.MUSE_TITLE_MAX_LENGTH, Math.ceil(source.text.title.length * 1.5)) + 40 };
    const links = { hearts: repoName(env.BANTERHEARTS_REPO), packs: repoName(env.BANTERPACKS_REPO) };
    const result = await translateWithLlm(source.template, llm, {
      lang: item.lang,
      runId: context.runId,
      key: `${item.series}/${item.episode}/${item.lang}`,
      check: (output) =>
        verifyTranslation(source.template, normaliseTranslation(output), source.facts, item.lang, rules, links, {
          runId: source.frontMatter.run_id,
          siteUrl: env.MUSE_SITE_URL,
          strongCorrelation: env.MUSE_CHIMERA_MIN_CORRELATION,
        }),
      timeoutMs: env.MUSE_LLM_TIMEOUT_MS,
      now: () => deps.clock.now(),
    });
    // Every call is recorded, whatever became of the translation.
    if (result.events.length > 0) await db.insert("llm_events", result.events);
    emitLlmMetrics(metrics, "translate", result.events);
    summary.tokens += result.events.reduce((n, e) => n + e.tokens_in + e.tokens_out, 0);
    summary.cost_usd = roundUsd(summary.cost_usd + result.events.reduce((n, e) => n + (e.cost_usd ?? 0), 0));

    if (result.status === "failed") {
      firstFailure ??= { error: result.error, transient: result.transient };
      summary.failed.push({ ...describe(item), error: result.error });
      log.warn("translation failed", { series: item.series, episode: item.episode, lang: item.lang, error: result.error });
      continue;
    }
    const status: TranslationStatus = result.status === "accepted" ? "publishable" : "rejected";
    const row = translationRow({
      source,
      lang: item.lang,
      status,
      text: result.translation ? normaliseTranslation(result.translation) : undefined,
      problems: result.status === "rejected" ? result.problems : [],
      events: result.events,
      llm,
      now: deps.clock.now(),
      previousVersion: item.previousVersion,
      links,
      strongCorrelation: env.MUSE_CHIMERA_MIN_CORRELATION,
    });
    await insertEpisodes(db, [row]);
    metrics.count("muse.translate.translations", 1, { lang: item.lang, status });
    summary.translated.push({
      series: row.series,
      episode: row.episode_num,
      lang: item.lang,
      status,
      file_path: row.file_path,
      translation_of: row.translation_of,
      problems: row.problems,
      tokens: row.tokens_total,
      cost_usd: costOf(result.events),
    });
    context.progress(`${item.series} episode ${item.episode} (${item.lang}): ${status}`, { problems: row.problems.length, tokens: row.tokens_total });
  }

  if (firstFailure && summary.translated.length === 0) {
    const message = `no translation could be made: ${firstFailure.error}`;
    throw firstFailure.transient ? new TransientError(message) : new Error(message);
  }
  return { status: "ok", summary };
}

export function createTranslateAgent(hooks: TranslateHooks = {}): AgentDefinition<typeof translateOptions, TranslateSummary> {
  return {
    name: "translate",
    description:
      "translates published or publishable episodes (MUSE_TRANSLATE_LANGS) through the LLM, keeping every number, code span and link; skipped without an LLM",
    options: translateOptions,
    run: (options, deps, context) => translate(options, deps, context, hooks),
  };
}

export const translateAgent = createTranslateAgent();
