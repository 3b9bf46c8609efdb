import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { insertEpisodes, publishCandidates } from "../clickhouse/queries/episodes";
import { episodeRow, pendingDeploymentRow, type EpisodeRow } from "../clickhouse/tables";
import { settleDeployments, type SettledDeployment } from "../deployments/settle";
import { createContentRepo, type ContentRepo } from "../content";
import { facts as factsSchema } from "../analysis/facts";
import { EpisodeFileError, episodeFrontMatter, parseEpisodeFile, readFrontMatter, repoName, type CommitLinks } from "../episode/file";
import { checkEpisodeFile } from "../episode/truth";
import { episodeBranch, reviewBody, reviewTitle } from "../review/episode";
import { nextVersion, reviewFor, saveReview } from "../review/store";
import { messageOf } from "../error-message";

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
import type { Env } from "../env";
import type { Logger } from "../log";
import type { AgentDefinition, AgentDeps, AgentResult, RunContext } from "./types";
import { LANGS } from "../episode/fact";

/**
 * publish: publishable episodes → one commit each in the content repository.
 *
 * What is published (rows read FINAL, so each is its latest version):
 * - originals: lang "en", numbered (episode_num > 0), status "publishable"
 *   and confidence ≥ MUSE_PUBLISH_THRESHOLD. Never "draft" (below the
 *   threshold, unnumbered) nor "rejected" (broke the truth rule).
 * - translations (de, zh, hi) of the same series and number with status
 *   "publishable": the translator's verdict that the translation kept every
 *   number and code span. A "draft" or "rejected" translation is not
 *   published. Translations finished after their original was published are
 *   published on their own (a commit with just those files).
 *
 * Per episode: its files (`episodes/<series>/ep-NNN.md`, `ep-NNN.<lang>.md`)
 * are checked (the original must parse as an episode file, a translation's
 * front-matter must validate — its headings may be translated — and every
 * file's front-matter must name the row's series, number and language), then
 * committed in ONE commit through the ContentRepo — no commit when the files
 * are already there, which makes a retried or racing publish harmless. Then a
 * `deployments` row (pending, keyed by the content commit) is recorded unless
 * the commit has one already, and the rows are marked: a newer version with
 * status "published", the commit and the file path. That order means a crash
 * anywhere is repaired by the next run: the files are found already committed
 * (their last commit keys the deployment), the rest is written.
 *
 * Without GITHUB_TOKEN (a local content repository) no deployment follows the
 * commit, so the site's cache is refreshed through POST /api/revalidate; a
 * failure there is logged, never fatal.
 *
 * MUSE_PUBLISH_MODE=pull-request (docs/reach.md "Review before an episode goes
 * live"): the same checked files go to the branch `muse/episode/<series>/ep-NNN`
 * (named from the episode: every retry and instance writes to the same one)
 * instead of the content branch, and the episode's review is opened or
 * updated — one pull request per episode, found by its head branch, its body
 * the episode's title, summary, open events and links to the evidence (a
 * local content repository: the branch is the review). The rows are marked
 * "in_review" with the branch's commit and the review recorded in
 * `episode_reviews` (pending_review); no deployment is recorded and nothing is
 * revalidated: merging publishes the episode (lib/review/store.ts). Originals
 * in review are candidates too, so their translations join the same review;
 * translations finished after the merge get a review of their own. Files the
 * content branch holds already (a review decided before a crash) are published
 * as a direct publish would find them.
 */

export const publishOptions = z
  .object({
    dryRun: z.boolean().default(false).describe("select and check episodes, but commit and write nothing"),
    limit: z.number().int().min(1).max(100).default(10).describe("at most this many episodes per run"),
  })
  .strict();
export type PublishOptions = z.output<typeof publishOptions>;

export interface PublishedEpisode {
  series: string;
  episode: number;
  langs: string[];
  files: string[];
  commit: string;
  /** False when the files were already committed (a retried or concurrent publish). */
  created: boolean;
}

export interface PublishFailure {
  series: string;
  episode: number;
  lang: string;
  problems: string[];
}

/** MUSE_PUBLISH_MODE=pull-request: an episode committed to its review branch, its review opened or updated. */
export interface ReviewedEpisode {
  series: string;
  episode: number;
  langs: string[];
  files: string[];
  branch: string;
  /** The branch's head after this publish. */
  commit: string;
  /** The pull request (0 locally: the branch is the review). */
  pull_request: number;
  url: string;
  /** True when this publish opened the review, false when it updated an open one. */
  opened: boolean;
}

export interface PublishSummary extends Record<string, unknown> {
  repo: string;
  mode: ContentRepo["kind"];
  /** MUSE_PUBLISH_MODE. */
  publish_mode: Env["MUSE_PUBLISH_MODE"];
  threshold: number;
  candidates: number;
  published: PublishedEpisode[];
  /** Pull-request mode: episodes now in review. */
  in_review: ReviewedEpisode[];
  /** Dry run: what would be committed. */
  would_publish: { series: string; episode: number; langs: string[]; files: string[] }[];
  failed: PublishFailure[];
  revalidation: "ok" | "skipped" | "failed" | "not_needed";
  dry_run: boolean;
  /** Earlier deployments settled first (lib/deployments/settle.ts): moved on by Vercel's API, or expired to unknown. */
  deployments_settled: SettledDeployment[];
}

export interface PublishHooks {
  /** Whether translations are being produced (default: an LLM is configured, OPENAI_API_KEY). */
  translationsExpected?: boolean;
  /** The content repository (default: from the environment). */
  contentRepo?: (env: Env) => ContentRepo;
  /** fetch for the revalidation call (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

const LANG_ORDER = LANGS;
const SERIES_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The content-relative path of an episode file (docs/episodes.md). */
export function episodeFilePathOf(series: string, episode: number, lang: string): string {
  if (!SERIES_NAME.test(series)) throw new Error(`series "${series}" is not a valid directory name`);
  if (!Number.isInteger(episode) || episode < 1) throw new Error(`episode number ${episode} is not publishable`);
  return `episodes/${series}/ep-${String(episode).padStart(3, "0")}${lang === "en" ? "" : `.${lang}`}.md`;
}

// ---------------------------------------------------------------- reading

interface WorkItem {
  original: EpisodeRow;
  /** Include the original's file (it is not published yet). */
  publishOriginal: boolean;
  /** Newest publishable translation per language. */
  translations: EpisodeRow[];
}

/**
 * With translations expected, an unpublished original waits until every
 * language of `langs` has a publishable translation or `waitMinutes` have
 * passed since it was written, so that an episode lands as ONE commit (and one
 * deploy) with its translations; after the deadline it goes with what exists.
 */
export interface TranslationWait {
  langs: readonly string[];
  waitMinutes: number;
  now: Date;
}

export async function findWork(db: Db, threshold: number, wait?: TranslationWait, options: { inReview?: boolean } = {}): Promise<WorkItem[]> {
  const rows = await publishCandidates(db, threshold);
  const originals = new Map<string, EpisodeRow>();
  const translations = new Map<string, Map<string, EpisodeRow>>();
  const key = (r: EpisodeRow) => `${r.series}\u0000${r.episode_num}`;
  for (const row of rows) {
    if (row.lang === "en") {
      // An original in review goes on only in pull-request mode (its translations join the review); a direct
      // publish never sends translations out ahead of their original.
      if (row.status === "in_review" && !options.inReview) continue;
      const existing = originals.get(key(row));
      // One numbered original per series and number (numbers are claimed); prefer the publishable one if ever two.
      if (!existing || (existing.status !== "publishable" && row.status === "publishable")) originals.set(key(row), row);
      continue;
    }
    const byLang = translations.get(key(row)) ?? new Map<string, EpisodeRow>();
    const current = byLang.get(row.lang);
    if (!current || Date.parse(row.updated_at) >= Date.parse(current.updated_at)) byLang.set(row.lang, row);
    translations.set(key(row), byLang);
  }
  const items: WorkItem[] = [];
  for (const original of originals.values()) {
    const pending = [...(translations.get(key(original))?.values() ?? [])].sort((a, b) => LANG_ORDER.indexOf(a.lang) - LANG_ORDER.indexOf(b.lang));
    const publishOriginal = original.status === "publishable";
    if (publishOriginal && wait) {
      const have = new Set<string>(pending.map((t) => t.lang));
      const complete = wait.langs.every((l) => have.has(l));
      const waitedMinutes = (wait.now.getTime() - Date.parse(original.ts)) / 60_000;
      if (!complete && waitedMinutes < wait.waitMinutes) continue;
    }
    if (publishOriginal || pending.length > 0) items.push({ original, publishOriginal, translations: pending });
  }
  return items.sort((a, b) =>
    a.original.series === b.original.series ? a.original.episode_num - b.original.episode_num : a.original.series < b.original.series ? -1 : 1,
  );
}

// ---------------------------------------------------------------- checking

/**
 * Why a row's markdown must not be published (empty: it may). Defence in
 * depth: for episodes written with fact references (a template is stored),
 * the truth rule runs again on the exact file — claims against the row's
 * facts, and the residual check in the file's language.
 */
export function episodeFileProblems(row: EpisodeRow, truth: { links?: CommitLinks; siteUrl?: string; strongCorrelation?: number } = {}): string[] {
  if (row.markdown.trim() === "") return ["the row has no markdown"];
  let data: unknown;
  try {
    data = readFrontMatter(row.markdown).data;
  } catch (error) {
    return error instanceof EpisodeFileError ? error.problems : [String(error)];
  }
  const problems: string[] = [];
  const fm = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  if (fm.series !== row.series) problems.push(`front-matter series ${JSON.stringify(fm.series)} is not the row's "${row.series}"`);
  if (fm.episode !== row.episode_num) problems.push(`front-matter episode ${JSON.stringify(fm.episode)} is not the row's ${row.episode_num}`);
  if (fm.lang !== row.lang) problems.push(`front-matter lang ${JSON.stringify(fm.lang)} is not the row's "${row.lang}"`);
  if (row.lang === "en") {
    // The original must be a valid episode file (front-matter schema, sections in order): the site renders it.
    try {
      parseEpisodeFile(row.markdown);
    } catch (error) {
      const list = (error as { problems?: unknown }).problems;
      problems.push(...(Array.isArray(list) ? list.map(String) : [messageOf(error)]));
    }
  } else {
    // Translations may translate the section headings: their front-matter must validate.
    const parsed = episodeFrontMatter.safeParse(data);
    if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `front-matter ${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  if (problems.length === 0 && row.template !== "") {
    const facts = factsSchema.safeParse(jsonOrUndefined(row.facts));
    if (!facts.success) problems.push("the row's facts are not readable: the file cannot be checked against them");
    else problems.push(...checkEpisodeFile(row.markdown, facts.data, truth).map((p) => `truth rule: ${p}`));
  }
  return problems;
}

// ---------------------------------------------------------------- writing

/** A version newer than `previous` (ReplacingMergeTree keeps the greatest updated_at), never earlier than now. */
function nextVersionTime(now: Date, previous: string): string {
  return new Date(Math.max(now.getTime(), Date.parse(previous) + 1)).toISOString();
}

async function deploymentExists(db: Db, commitSha: string): Promise<boolean> {
  const row = await db.queryOne(
    "SELECT count() AS n FROM deployments FINAL WHERE commit_sha = {sha:FixedString(40)}",
    { sha: commitSha },
    z.object({ n: z.coerce.number() }),
  );
  return (row?.n ?? 0) > 0;
}

function commitMessage(item: WorkItem, langs: string[], runId: string): string {
  const { original } = item;
  const nnn = String(original.episode_num).padStart(3, "0");
  const subject = item.publishOriginal
    ? `Publish ${original.series} episode ${nnn} (${langs.join(", ")})`
    : `Publish translations of ${original.series} episode ${nnn} (${langs.join(", ")})`;
  return `${subject}\n\n${original.title}\n\nMuse-Run: ${runId}\nEpisode-Run: ${original.run_id}\n`;
}

/** Local mode: POST ${MUSE_SITE_URL}/api/revalidate with the admin token (also after `muse review merge`). */
export async function revalidateSite(env: Env, log: Logger, doFetch: typeof globalThis.fetch): Promise<PublishSummary["revalidation"]> {
  if (!env.MUSE_ADMIN_TOKEN) {
    log.warn("site not revalidated: MUSE_ADMIN_TOKEN is not set (the site picks the episodes up on its next render)");
    return "skipped";
  }
  const url = `${env.MUSE_SITE_URL.replace(/\/+$/, "")}/api/revalidate`;
  try {
    const res = await doFetch(url, { method: "POST", headers: { Authorization: `Bearer ${env.MUSE_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) {
      log.warn("site revalidation failed", { url, status: res.status });
      return "failed";
    }
    return "ok";
  } catch (error) {
    log.warn("site revalidation failed", { url, error: messageOf(error) });
    return "failed";
  }
}

export async function publish(
  options: PublishOptions,
  deps: AgentDeps,
  context: Pick<RunContext, "runId" | "progress">,
  hooks: PublishHooks = {},
): Promise<AgentResult<PublishSummary>> {
  const { db, env, metrics, log } = deps;
  const threshold = env.MUSE_PUBLISH_THRESHOLD;
  const repo = (hooks.contentRepo ?? ((e: Env) => createContentRepo(e, { log })))(env);
  const translationsExpected = hooks.translationsExpected ?? Boolean(env.OPENAI_API_KEY);
  const wait = translationsExpected ? { langs: env.MUSE_TRANSLATE_LANGS, waitMinutes: env.MUSE_TRANSLATION_WAIT_MINUTES, now: deps.clock.now() } : undefined;
  const reviewMode = env.MUSE_PUBLISH_MODE === "pull-request";
  // Earlier deployments whose webhook events never came: asked of Vercel, or expired to unknown (not on a dry run).
  const settled = options.dryRun ? [] : (await settleDeployments({ db, env, log, metrics, now: deps.clock.now() })).settled;
  if (settled.length > 0) context.progress(`${settled.length} earlier deployment(s) settled`, { settled });
  const work = await findWork(db, threshold, wait, { inReview: reviewMode });
  const summary: PublishSummary = {
    repo: repo.location,
    mode: repo.kind,
    publish_mode: env.MUSE_PUBLISH_MODE,
    threshold,
    candidates: work.length,
    published: [],
    in_review: [],
    would_publish: [],
    failed: [],
    revalidation: "not_needed",
    dry_run: options.dryRun,
    deployments_settled: settled,
  };
  if (work.length === 0) return { status: "skipped", reason: "no publishable episodes or translations", summary };
  context.progress(`${work.length} episode(s) to publish`, { repo: repo.location });

  for (const item of work.slice(0, options.limit)) {
    const { original } = item;
    const fail = (lang: string, problems: string[]) => {
      summary.failed.push({ series: original.series, episode: original.episode_num, lang, problems });
      metrics.count("muse.publish.failures");
      log.warn("episode file not published", { series: original.series, episode: original.episode_num, lang, problems });
    };

    // The files of this episode that pass the checks.
    const rows: EpisodeRow[] = [];
    const files: Record<string, string> = {};
    const paths = new Map<EpisodeRow, string>();
    let originalOk = true;
    for (const row of [...(item.publishOriginal ? [original] : []), ...item.translations]) {
      let filePath: string;
      try {
        filePath = episodeFilePathOf(row.series, row.episode_num, row.lang);
      } catch (error) {
        fail(row.lang, [messageOf(error)]);
        if (row === original) originalOk = false;
        continue;
      }
      const problems = episodeFileProblems(row, {
        links: { hearts: repoName(env.BANTERHEARTS_REPO), packs: repoName(env.BANTERPACKS_REPO) },
        siteUrl: env.MUSE_SITE_URL,
        strongCorrelation: env.MUSE_CHIMERA_MIN_CORRELATION,
      });
      if (problems.length > 0) {
        fail(row.lang, problems);
        if (row === original) originalOk = false;
        continue;
      }
      rows.push(row);
      files[filePath] = row.markdown;
      paths.set(row, filePath);
    }
    // Translations never go out before their original.
    if (!originalOk || rows.length === 0) continue;
    const langs = rows.map((r) => r.lang);

    if (options.dryRun) {
      summary.would_publish.push({ series: original.series, episode: original.episode_num, langs, files: Object.keys(files) });
      continue;
    }

    try {
      const message = commitMessage(item, langs, context.runId);
      const branch = reviewMode ? episodeBranch(original.series, original.episode_num) : undefined;
      const result = await repo.commitFiles({ files, message, branch });
      if (branch !== undefined && !result.onContentBranch) {
        summary.in_review.push(await openReview({ item, rows, files, paths, branch, head: result.sha }));
        continue;
      }
      // Already committed (a crashed or concurrent run): the deployment is the commit that brought the files.
      const commitSha = result.created ? result.sha : ((await repo.lastCommitOf(paths.get(rows[0])!)) ?? result.sha);
      const now = deps.clock.now();
      if (!(await deploymentExists(db, commitSha))) {
        await db.insert("deployments", [pendingDeploymentRow({ at: now, runId: context.runId, episodeRunId: original.run_id, commitSha })]);
      }
      const marked = rows.map((row) =>
        episodeRow.parse({ ...row, status: "published", commit_sha: commitSha, file_path: paths.get(row)!, updated_at: nextVersionTime(now, row.updated_at) }),
      );
      await insertEpisodes(db, marked);
      metrics.count("muse.publish.episodes", 1, { series: original.series });
      summary.published.push({
        series: original.series,
        episode: original.episode_num,
        langs,
        files: Object.keys(files),
        commit: commitSha,
        created: result.created,
      });
      context.progress(`published ${original.series} episode ${original.episode_num}`, { langs, commit: commitSha, created: result.created });
    } catch (error) {
      metrics.count("muse.publish.failures");
      log.error("publish failed", { series: original.series, episode: original.episode_num, error: messageOf(error) });
      throw error;
    }
  }

  /** Pull-request mode: the review of the branch opened or updated, the rows marked in review, the review recorded. */
  async function openReview(input: {
    item: WorkItem;
    rows: EpisodeRow[];
    files: Record<string, string>;
    paths: Map<EpisodeRow, string>;
    branch: string;
    head: string;
  }): Promise<ReviewedEpisode> {
    const { item, rows, branch, head } = input;
    const { original } = item;
    const translationsOnly = !item.publishOriginal && original.status === "published";
    // The branch may hold languages of earlier publishes of this review: the body names them all.
    const pending = await reviewFor(db, original.series, original.episode_num);
    const earlier = pending && pending.branch === branch ? pending.langs : [];
    const langsOnBranch = [...new Set([...earlier, ...rows.map((r) => r.lang)])].sort(
      (a, b) => LANG_ORDER.indexOf(a as (typeof LANG_ORDER)[number]) - LANG_ORDER.indexOf(b as (typeof LANG_ORDER)[number]),
    );
    const title = reviewTitle(original, translationsOnly);
    const review = await repo.reviews.open({
      branch,
      title,
      body: reviewBody({
        original,
        langs: langsOnBranch,
        files: langsOnBranch.map((l) => episodeFilePathOf(original.series, original.episode_num, l)),
        siteUrl: env.MUSE_SITE_URL,
        translationsOnly,
      }),
    });
    const now = deps.clock.now();
    await insertEpisodes(
      db,
      rows.map((row) =>
        episodeRow.parse({ ...row, status: "in_review", commit_sha: head, file_path: input.paths.get(row)!, updated_at: nextVersionTime(now, row.updated_at) }),
      ),
    );
    const previous = await reviewFor(db, original.series, original.episode_num, review.number);
    await saveReview(db, {
      series: original.series,
      episode_num: original.episode_num,
      pull_request: review.number,
      repo: repo.location,
      branch,
      url: review.url,
      title,
      langs: langsOnBranch,
      head_sha: head,
      state: "pending_review",
      commit_sha: "",
      actor: "",
      reason: "",
      source: "publisher",
      delivery_id: "",
      opened_at: previous?.opened_at ?? now.toISOString(),
      decided_at: null,
      updated_at: nextVersion(now, previous?.updated_at),
    });
    context.progress(`${original.series} episode ${original.episode_num} in review`, { langs: rows.map((r) => r.lang), branch, url: review.url });
    return {
      series: original.series,
      episode: original.episode_num,
      langs: rows.map((r) => r.lang),
      files: Object.keys(input.files),
      branch,
      commit: head,
      pull_request: review.number,
      url: review.url,
      // A local review is its branch: opened when no review of it was pending.
      opened: repo.kind === "github" ? review.created : previous?.state !== "pending_review",
    };
  }

  if (!options.dryRun && summary.published.length > 0 && repo.kind === "local") {
    summary.revalidation = await revalidateSite(env, log, hooks.fetch ?? globalThis.fetch);
  }
  return { status: "ok", summary };
}

export function createPublishAgent(hooks: PublishHooks = {}): AgentDefinition<typeof publishOptions, PublishSummary> {
  return {
    name: "publish",
    description: "commits publishable episodes and their translations (one commit per episode) and records the deployment",
    options: publishOptions,
    run: (options, deps, context) => publish(options, deps, context, hooks),
  };
}

export const publishAgent = createPublishAgent();
