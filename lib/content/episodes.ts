import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { DATA_QUALITY_HEADING, SERIES, type Series } from "../episode/draft";
import { EpisodeFileError, episodeFrontMatter, parseEpisodeFile, readFrontMatter, splitSections, type EpisodeFrontMatter } from "../episode/file";
import { loadEnv } from "../env";
import { createLogger, type Logger } from "../log";
import { SITE_LANGS, type Lang } from "../site/i18n";
import { episodeSlug } from "../site/paths";
import { messageOf } from "../error-message";

/**
 * The published episodes, read (never written) from
 * `${MUSE_CONTENT_DIR}/episodes/<series>/ep-NNN.md` and its translations
 * `ep-NNN.<lang>.md` (docs/episodes.md). Server only: it reads the
 * filesystem.
 *
 * Every file is validated with the council's front-matter schema
 * (lib/council/render.ts); a file that fails, or whose front-matter disagrees
 * with its path, is skipped with a logged warning and listed in `problems`:
 * one bad file never breaks the build. Translations may translate the section
 * headings, so for them only the front-matter must validate.
 *
 * Reads are memoised per directory on the files' names, sizes and mtimes, so
 * the many pages of a build share one parse and a publish (new or changed
 * files) is seen on the next read. During `next build` the memo is trusted
 * without re-listing (see `trustMemoForMs`).
 */

export interface EpisodeSectionText {
  heading: string;
  markdown: string;
}

/** One file: the English original or one translation. */
export interface EpisodeVariant {
  lang: Lang;
  /** Relative to the content directory, e.g. `episodes/chimera/ep-001.de.md`. */
  path: string;
  frontMatter: EpisodeFrontMatter;
  body: string;
  sections: EpisodeSectionText[];
}

/** An episode: its English original and the translations that exist. */
export interface Episode {
  /** `chimera/ep-001` */
  id: string;
  series: Series;
  episode: number;
  slug: string;
  /** The original's publication date (ISO 8601 UTC). */
  date: string;
  original: EpisodeVariant;
  translations: Partial<Record<Lang, EpisodeVariant>>;
  /** Languages the episode exists in, English first. */
  langs: Lang[];
  tags: string[];
  /** Written from seeded sample data: the site labels it. */
  sample: boolean;
  /** The body has a Data quality notice section. */
  dataQualityNotice: boolean;
}

export interface ContentProblem {
  path: string;
  problems: string[];
}

export interface Content {
  dir: string;
  /** Newest first. */
  episodes: Episode[];
  problems: ContentProblem[];
}

/** What a page in `requestedLang` shows: the translation, or the English original with `fallback` set (the page must say so). */
export interface ResolvedEpisode {
  episode: Episode;
  requestedLang: Lang;
  variant: EpisodeVariant;
  contentLang: Lang;
  fallback: boolean;
}

export interface LoadOptions {
  /** Default: MUSE_CONTENT_DIR (relative paths resolve against the working directory). */
  contentDir?: string;
  /** Site-wide sample marker. Default: MUSE_SAMPLE_DATA. */
  sampleData?: boolean;
  logger?: Logger;
  /**
   * How long a memo is trusted without re-listing the files. Default: for the
   * whole process during `next build` (the content of a build is fixed, and
   * re-listing thousands of files once per generated page made builds grow
   * with episodes × pages), otherwise 0 (every read checks for new files).
   */
  trustMemoForMs?: number;
}

/** Set by Next.js itself in the build and its static-generation workers; not a Muse setting. */
const isNextBuild = () => process.env.NEXT_PHASE === "phase-production-build";

const FILE_NAME = /^ep-(\d{3,5})(?:\.(de|zh|hi))?\.md$/;

function resolveDir(dir: string): string {
  return path.isAbsolute(dir) ? dir : path.join(/* turbopackIgnore: true */ process.cwd(), dir);
}

function defaultLogger(): Logger {
  let level: "debug" | "info" | "warn" | "error" = "info";
  try {
    level = loadEnv().MUSE_LOG_LEVEL;
  } catch {
    // An invalid environment is reported where it is loaded; keep logging here.
  }
  return createLogger({ level, fields: { component: "content" } });
}

// ------------------------------------------------------------------ tags

export function tagSlug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
}

/** Tags derived from an original's front-matter: series, models, what was found. */
export function deriveTags(frontMatter: EpisodeFrontMatter, options: { sample: boolean; dataQualityNotice: boolean }): string[] {
  const m = frontMatter.metrics;
  const tags = new Set<string>([frontMatter.series]);
  for (const model of frontMatter.models) {
    const slug = tagSlug(model);
    if (slug) tags.add(slug);
  }
  if (m.regressions > 0) tags.add("regression");
  if (m.improvements > 0) tags.add("improvement");
  for (const change of m.changes) tags.add(change.metric === "latency_p95_ms" ? "latency" : "throughput");
  if (m.correlation !== null && Math.abs(m.correlation) >= 0.7) tags.add("strong-correlation");
  if (options.dataQualityNotice) tags.add("data-quality");
  if (options.sample) tags.add("sample-data");
  return [...tags];
}

// ------------------------------------------------------------------ parsing

interface ParsedFile {
  frontMatter: EpisodeFrontMatter;
  body: string;
  sections: EpisodeSectionText[];
  raw: Record<string, unknown>;
}

/**
 * Parses one episode file. English originals must pass the council's
 * `parseEpisodeFile` entirely; translations must have valid front-matter (their
 * headings may be translated). Throws EpisodeFileError naming the problems.
 */
export function parseEpisodeText(text: string, lang: Lang): ParsedFile {
  const { data: raw, raw: rawObject, body } = readFrontMatter(text);
  try {
    const parsed = parseEpisodeFile(text);
    return { frontMatter: parsed.frontMatter, body: parsed.body, sections: parsed.sections, raw: rawObject };
  } catch (error) {
    if (!(error instanceof EpisodeFileError)) throw error;
    const bodyOnly = error.problems.length > 0 && error.problems.every((p) => p.startsWith("body:"));
    if (lang === "en" || !bodyOnly) throw error;
  }
  const frontMatter = episodeFrontMatter.safeParse(raw);
  if (!frontMatter.success) {
    throw new EpisodeFileError(frontMatter.error.issues.map((i) => `front-matter ${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  const sections = splitSections(body);
  if (sections.length === 0) throw new EpisodeFileError(["body: no H2 sections"]);
  return { frontMatter: frontMatter.data, body, sections, raw: rawObject };
}

/** Seeder hints in the front-matter: `sample: true` (or `sample_data`, `data: sample`, `writer.sample`). */
export function frontMatterSaysSample(raw: Record<string, unknown>): boolean {
  const writer = raw.writer && typeof raw.writer === "object" ? (raw.writer as Record<string, unknown>) : {};
  return raw.sample === true || raw.sample_data === true || raw.data === "sample" || writer.sample === true;
}

// ------------------------------------------------------------------ loading

/** An episode file as listed (not yet read): `signature` is its path, size and mtime. */
export interface FileEntry {
  rel: string;
  abs: string;
  series: string;
  episode: number;
  lang: Lang;
  signature: string;
}

/** The episode files under `root` (what a build reads; `npm run demo` rebuilds when they change: lib/demo/redeploy.ts). */
export async function listFiles(root: string): Promise<{ files: FileEntry[]; problems: ContentProblem[] }> {
  const files: FileEntry[] = [];
  const problems: ContentProblem[] = [];
  const episodesDir = path.join(root, "episodes");
  let seriesDirs: string[];
  try {
    seriesDirs = (await readdir(episodesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return { files, problems }; // no content yet
  }
  for (const series of seriesDirs) {
    const dir = path.join(episodesDir, series);
    const names = (await readdir(dir)).filter((n) => n.endsWith(".md")).sort();
    if (!(SERIES as readonly string[]).includes(series)) {
      if (names.length > 0) problems.push({ path: `episodes/${series}`, problems: [`unknown series "${series}" (expected ${SERIES.join(", ")})`] });
      continue;
    }
    for (const name of names) {
      const rel = `episodes/${series}/${name}`;
      const match = FILE_NAME.exec(name);
      if (!match) {
        problems.push({ path: rel, problems: ["file name must be ep-NNN.md or ep-NNN.<de|zh|hi>.md"] });
        continue;
      }
      const abs = path.join(dir, name);
      const info = await stat(abs);
      files.push({ rel, abs, series, episode: Number(match[1]), lang: (match[2] as Lang | undefined) ?? "en", signature: `${rel}:${info.size}:${info.mtimeMs}` });
    }
  }
  return { files, problems };
}

function compareNewestFirst(a: Episode, b: Episode): number {
  return b.date.localeCompare(a.date) || a.series.localeCompare(b.series) || b.episode - a.episode;
}

async function buildContent(dir: string, files: FileEntry[], listProblems: ContentProblem[], sampleData: boolean): Promise<Content> {
  const problems = [...listProblems];
  const variants = new Map<string, Partial<Record<Lang, { variant: EpisodeVariant; raw: Record<string, unknown> }>>>();
  for (const file of files) {
    let parsed: ParsedFile;
    try {
      parsed = parseEpisodeText(await readFile(file.abs, "utf8"), file.lang);
    } catch (error) {
      problems.push({ path: file.rel, problems: error instanceof EpisodeFileError ? error.problems : [messageOf(error)] });
      continue;
    }
    const fm = parsed.frontMatter;
    const mismatches: string[] = [];
    if (fm.series !== file.series) mismatches.push(`front-matter series "${fm.series}" does not match the directory "${file.series}"`);
    if (fm.episode !== file.episode) mismatches.push(`front-matter episode ${fm.episode} does not match the file name`);
    if (fm.lang !== file.lang) mismatches.push(`front-matter lang "${fm.lang}" does not match the file name ("${file.lang}")`);
    if (fm.episode < 1) mismatches.push("episode numbers start at 1");
    if (mismatches.length > 0) {
      problems.push({ path: file.rel, problems: mismatches });
      continue;
    }
    const key = `${file.series}/${episodeSlug(file.episode)}`;
    const entry = variants.get(key) ?? {};
    entry[file.lang] = { variant: { lang: file.lang, path: file.rel, frontMatter: fm, body: parsed.body, sections: parsed.sections }, raw: parsed.raw };
    variants.set(key, entry);
  }

  const episodes: Episode[] = [];
  for (const [id, byLang] of variants) {
    const original = byLang.en;
    if (!original) {
      for (const l of SITE_LANGS) {
        const orphan = byLang[l];
        if (orphan) problems.push({ path: orphan.variant.path, problems: ["translation without its English original (ep-NNN.md)"] });
      }
      continue;
    }
    const fm = original.variant.frontMatter;
    const sample = sampleData || frontMatterSaysSample(original.raw);
    const dataQualityNotice = original.variant.sections.some((s) => s.heading === DATA_QUALITY_HEADING);
    const translations: Partial<Record<Lang, EpisodeVariant>> = {};
    for (const l of SITE_LANGS) {
      const t = byLang[l];
      if (l !== "en" && t) translations[l] = t.variant;
    }
    episodes.push({
      id,
      series: fm.series,
      episode: fm.episode,
      slug: episodeSlug(fm.episode),
      date: fm.date,
      original: original.variant,
      translations,
      langs: SITE_LANGS.filter((l) => l === "en" || translations[l]),
      tags: deriveTags(fm, { sample, dataQualityNotice }),
      sample,
      dataQualityNotice,
    });
  }
  episodes.sort(compareNewestFirst);
  return { dir, episodes, problems };
}

const cache = new Map<string, { signature: string; sampleData: boolean; listedAt: number; content: Promise<Content> }>();

/** All valid episodes (newest first) and the problems of the files that were skipped. */
export async function loadContent(options: LoadOptions = {}): Promise<Content> {
  const env = options.contentDir === undefined || options.sampleData === undefined ? loadEnv() : undefined;
  const dir = resolveDir(options.contentDir ?? env!.MUSE_CONTENT_DIR);
  const sampleData = options.sampleData ?? env!.MUSE_SAMPLE_DATA;
  const trustMemoForMs = options.trustMemoForMs ?? (isNextBuild() ? Number.POSITIVE_INFINITY : 0);
  const memo = cache.get(dir);
  if (memo && memo.sampleData === sampleData && Date.now() - memo.listedAt < trustMemoForMs) return memo.content;
  const listedAt = Date.now();
  const { files, problems } = await listFiles(dir);
  const signature = [String(sampleData), ...files.map((f) => f.signature), ...problems.map((p) => p.path)].join("\n");
  const hit = cache.get(dir);
  if (hit && hit.signature === signature) {
    hit.listedAt = listedAt;
    return hit.content;
  }
  const content = buildContent(dir, files, problems, sampleData).then((built) => {
    const log = options.logger ?? defaultLogger();
    for (const p of built.problems) log.warn("episode file skipped", { path: p.path, problems: p.problems });
    return built;
  });
  cache.set(dir, { signature, sampleData, listedAt, content });
  content.catch(() => cache.delete(dir));
  return content;
}

// ------------------------------------------------------------------ queries

export function resolveEpisode(episode: Episode, lang: Lang): ResolvedEpisode {
  const translation = lang === "en" ? undefined : episode.translations[lang];
  const variant = lang === "en" ? episode.original : (translation ?? episode.original);
  return { episode, requestedLang: lang, variant, contentLang: variant.lang, fallback: variant.lang !== lang };
}

export function findEpisode(content: Content, series: string, episode: number): Episode | undefined {
  return content.episodes.find((e) => e.series === series && e.episode === episode);
}

/** The episodes before and after this one in its series (by episode number). */
export function seriesNeighbours(content: Content, episode: Episode): { prev?: Episode; next?: Episode } {
  const inSeries = content.episodes.filter((e) => e.series === episode.series).sort((a, b) => a.episode - b.episode);
  const i = inSeries.findIndex((e) => e.id === episode.id);
  return { prev: i > 0 ? inSeries[i - 1] : undefined, next: i >= 0 && i < inSeries.length - 1 ? inSeries[i + 1] : undefined };
}

export function episodesIn(content: Content, filter: { series?: string; tag?: string } = {}): Episode[] {
  return content.episodes.filter((e) => (filter.series === undefined || e.series === filter.series) && (filter.tag === undefined || e.tags.includes(filter.tag)));
}

/** Every tag with how many episodes carry it, most used first. */
export function tagCounts(content: Content): { tag: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const e of content.episodes) for (const t of e.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag));
}

export { SERIES };
