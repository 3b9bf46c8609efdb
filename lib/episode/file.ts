import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { changeEvent, changeFact, confidenceBreakdown, factUnit, facts as factsSchema, type Facts } from "../analysis/facts";
import { qualityModel } from "../analysis/quality-chart";
import { DATA_QUALITY_HEADING, SECTIONS, draftToContent, series, type EpisodeContent, type EpisodeDraft, type EpisodeSection, type Series } from "./draft";
import { LANGS, roundTo } from "./fact";
import { commitSubject } from "./references";
import { messageOf } from "../error-message";

export { LANGS } from "./fact";

/** A fact the episode states, as the front-matter lists it: id, value, unit and where it came from. */
export interface ResolvedClaim {
  id: string;
  value: number;
  unit: z.infer<typeof factUnit>;
  source: string;
}

export { commitSubject } from "./references";

/**
 * An episode as a markdown file (docs/episodes.md): YAML
 * front-matter, then the H2 sections in order (a Data quality notice first
 * when confidence is below the publish threshold). The front-matter schema is
 * exported for the site and the publisher; `parseEpisodeFile` validates.
 */

const isoUtc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, "expected an ISO 8601 UTC timestamp");

export const writerInfo = z.object({
  kind: z.enum(["llm", "offline"]),
  model: z.string().optional(),
  tokens_in: z.number().int().min(0).optional(),
  tokens_out: z.number().int().min(0).optional(),
  /** null: the model has no price in lib/pricing.ts (never guessed). */
  cost_usd: z.number().min(0).nullable().optional(),
});
export type WriterInfo = z.infer<typeof writerInfo>;

export const episodeMetrics = z.object({
  latency_p95_ms: z.number().nullable(),
  tokens_per_sec: z.number().nullable(),
  cost_per_1k: z.number().nullable(),
  user_latency_ms: z.number().nullable(),
  /** Fractions (0..1), like the daily series. */
  error_rate: z.number().nullable(),
  abandonment_rate: z.number().nullable(),
  /** Pearson r, p95 latency vs user latency over the joined days. */
  correlation: z.number().nullable(),
  confidence: confidenceBreakdown,
  regressions: z.number().int().min(0),
  improvements: z.number().int().min(0),
  /** Episodes before change points: window-vs-window changes. */
  changes: z.array(changeFact).default([]),
  /** What changed, by commit: change points, their commits, intervals and the users' side (NOT `events`, the UI event count). */
  change_events: z.array(changeEvent).default([]),
  /** Benchmark series with an open regression when the episode was written. */
  open_regressions: z.number().int().min(0).default(0),
  /** Latency against accuracy per model (components/charts/TradeoffChart.tsx); absent in episodes before it and without quantization data. */
  quality: z.array(qualityModel).optional(),
  days: z.number().int().min(0),
  joined_days: z.number().int().min(0),
  bench_rows: z.number().int().min(0),
  events: z.number().int().min(0),
  sessions: z.number().int().min(0),
});
export type EpisodeMetrics = z.infer<typeof episodeMetrics>;

export const episodeClaim = z.object({ id: z.string(), value: z.number(), unit: factUnit, source: z.string() });

export const episodeFrontMatter = z.object({
  title: z.string().min(1),
  summary: z.string(),
  series,
  episode: z.number().int().min(0),
  lang: z.enum(LANGS),
  date: isoUtc,
  run_id: z.uuid(),
  window: z.object({ from: isoUtc, to: isoUtc }),
  commits: z.object({ hearts: z.array(z.string()), packs: z.array(z.string()) }),
  models: z.array(z.string()),
  metrics: episodeMetrics,
  daily: factsSchema.shape.daily,
  claims: z.array(episodeClaim),
  writer: writerInfo,
  translation_of: z.string().optional(),
});
export type EpisodeFrontMatter = z.infer<typeof episodeFrontMatter>;

// ---------------------------------------------------------------- composition

export interface CommitLinks {
  /** owner/name of each upstream on GitHub; unset: commits are listed by sha. */
  hearts?: string;
  packs?: string;
  webUrl?: string;
}

/** `owner/name[@branch]` (as configured) → `owner/name`. */
export function repoName(ref: string | undefined): string | undefined {
  return ref?.split("@")[0];
}

const MAX_LISTED_COMMITS = 20;

function commitList(label: string, commits: { sha: string; message?: string }[]): string[] {
  const listed = commits.slice(0, MAX_LISTED_COMMITS).map((c) => {
    const subject = c.message ? commitSubject(c.message) : "";
    return `- ${label} {{commit:${c.sha.slice(0, 12)}}}${subject ? ` {{subject:${c.sha.slice(0, 12)}}}` : ""}`;
  });
  if (commits.length > MAX_LISTED_COMMITS) listed.push(`- Further ${label} commits are listed in the front-matter.`);
  return listed;
}

/** The commits of the window (and those whose benchmark rows are used). */
export function episodeCommits(facts: Facts): { hearts: { sha: string; message?: string }[]; packs: { sha: string; message?: string }[] } {
  const hearts: { sha: string; message?: string }[] = [...facts.commits.hearts];
  for (const sha of facts.hearts_commits_used) if (!hearts.some((c) => c.sha === sha)) hearts.push({ sha });
  return { hearts, packs: facts.commits.packs };
}

/** The generated part of Links & artifacts: the commits (as references) and the run. */
export function linksAppendix(facts: Facts, runId: string): string {
  const commits = episodeCommits(facts);
  const lines = [...commitList("Banterhearts", commits.hearts), ...commitList("Banterpacks", commits.packs)];
  return [lines.length > 0 ? `Commits:\n\n${lines.join("\n")}` : "No upstream commits fell in the window.", `Council run: \`${runId}\``].join("\n\n");
}

/**
 * The Data quality notice for drafts below the publish threshold: what is
 * missing, one line per weak confidence component, with references only.
 */
export function dataQualityNotice(facts: Facts, threshold: number): EpisodeSection | undefined {
  if (facts.confidence.value >= threshold) return undefined;
  const has = (id: string) => facts.facts.some((f) => f.id === id);
  /** A count and its noun: the fact's own where it renders one (nouns.ts), else written here. */
  const count = (id: string, noun: string) => (facts.facts.find((f) => f.id === id)?.noun ? `{{fact:${id}}}` : `{{fact:${id}}} ${noun}`);
  const c = facts.confidence;
  const items: string[] = [];
  if (c.completeness < 1)
    items.push("- Completeness: only {{fact:window.joined_days}} of {{fact:window.days}} days have data from both Banterhearts and Banterpacks.");
  if (c.recency < 1) items.push("- Recency: the newest data is older than the freshness threshold.");
  if (c.volume < 1)
    items.push(
      `- Volume: ${count("volume.bench_rows", "benchmark rows")} and ${count("volume.events", "UI events")} are less than a full-confidence window needs.`,
    );
  if ((c.evidence ?? 1) < 1) {
    items.push(
      facts.events.length > 0
        ? "- Evidence: the weakest change this episode reports is not certain enough after the correction across series."
        : has("detect.series_tested")
          ? `- Evidence: only ${count("detect.series_tested", "benchmark series")} have enough runs to show a change.`
          : "- Evidence: too few benchmark runs to show a change.",
    );
  }
  if ((c.attribution ?? 1) < 1) items.push("- Attribution: some changes are placed on a range of commits, not yet on one.");
  if ((c.users ?? 1) < 1)
    items.push("- Users: the user-side change this episode reports is not certain enough after the correction across changes and metrics.");
  const markdown = [
    "The confidence score is {{fact:confidence}}, below the publish threshold: this episode is a draft and will not be published. What is missing:",
    items.join("\n"),
    `Confidence is the weakest of completeness, recency, volume, evidence, attribution and the users' side; here ${c.limiting} limits it.`,
  ]
    .filter(Boolean)
    .join("\n\n");
  return { heading: DATA_QUALITY_HEADING, markdown };
}

/** The writer's draft + the generated links and notice: the episode's template (references not yet rendered). */
export function composeEpisode(draft: EpisodeDraft, facts: Facts, options: { runId: string; publishThreshold: number }): EpisodeContent {
  const content = draftToContent(draft);
  const sections = content.sections.map((s) =>
    s.heading === "Links & artifacts" ? { ...s, markdown: `${s.markdown}\n\n${linksAppendix(facts, options.runId)}`.trim() } : s,
  );
  const notice = dataQualityNotice(facts, options.publishThreshold);
  return { ...content, sections: notice ? [notice, ...sections] : sections };
}

// ---------------------------------------------------------------- front-matter

const factValue = (facts: Facts, id: string): number | null => facts.facts.find((f) => f.id === id)?.value ?? null;
const fraction = (pct: number | null) => (pct === null ? null : roundTo(pct / 100, 6));

export function episodeMetricsOf(facts: Facts): EpisodeMetrics {
  return {
    latency_p95_ms: factValue(facts, "hearts.latency_p95_ms"),
    tokens_per_sec: factValue(facts, "hearts.tokens_per_sec"),
    cost_per_1k: factValue(facts, "hearts.cost_per_1k"),
    user_latency_ms: factValue(facts, "packs.user_latency_ms"),
    error_rate: fraction(factValue(facts, "packs.error_rate_pct")),
    abandonment_rate: fraction(factValue(facts, "packs.abandonment_pct")),
    correlation: factValue(facts, "correlation.latency_user"),
    confidence: facts.confidence,
    regressions: facts.events.filter((c) => c.new && c.attribution !== "no_code" && c.kind === "regression").length,
    improvements: facts.events.filter((c) => c.new && c.attribution !== "no_code" && c.kind === "improvement").length,
    changes: facts.changes,
    change_events: facts.events,
    open_regressions: factValue(facts, "changes.open_regressions") ?? 0,
    ...(facts.quality.length > 0 ? { quality: facts.quality } : {}),
    days: facts.window.days,
    joined_days: facts.daily.length,
    bench_rows: facts.volume.bench_rows,
    events: facts.volume.events,
    sessions: facts.volume.sessions,
  };
}

export interface EpisodeIdentity {
  series: Series;
  episode: number;
  lang: (typeof LANGS)[number];
  date: Date;
  runId: string;
  writer: WriterInfo;
  translationOf?: string;
}

export function buildFrontMatter(
  facts: Facts,
  content: Pick<EpisodeContent, "title" | "summary">,
  claims: ResolvedClaim[],
  identity: EpisodeIdentity,
): EpisodeFrontMatter {
  const commits = episodeCommits(facts);
  return episodeFrontMatter.parse({
    title: content.title,
    summary: content.summary,
    series: identity.series,
    episode: identity.episode,
    lang: identity.lang,
    date: identity.date.toISOString(),
    run_id: identity.runId,
    window: { from: facts.window.from, to: facts.window.to },
    commits: { hearts: commits.hearts.map((c) => c.sha), packs: commits.packs.map((c) => c.sha) },
    models: facts.models,
    metrics: episodeMetricsOf(facts),
    daily: facts.daily,
    claims,
    writer: identity.writer,
    ...(identity.translationOf ? { translation_of: identity.translationOf } : {}),
  });
}

// ---------------------------------------------------------------- file

export function episodeFilePath(s: Series, episode: number, lang: (typeof LANGS)[number] = "en"): string {
  const nnn = String(episode).padStart(3, "0");
  return `episodes/${s}/ep-${nnn}${lang === "en" ? "" : `.${lang}`}.md`;
}

export function renderEpisode(frontMatter: EpisodeFrontMatter, sections: EpisodeSection[]): string {
  // Strings double-quoted: YAML 1.1 parsers (js-yaml, gray-matter) would read a bare ISO date as a Date, a bare "1234567..." sha as a number.
  const yaml = stringifyYaml(episodeFrontMatter.parse(frontMatter), { lineWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" });
  const body = sections.map((s) => `## ${s.heading}\n\n${s.markdown.trim()}\n`).join("\n");
  return `---\n${yaml}---\n\n${body}`;
}

export class EpisodeFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid episode file: ${problems.join("; ")}`);
    this.name = "EpisodeFileError";
  }
}

export interface ParsedEpisode {
  frontMatter: EpisodeFrontMatter;
  sections: EpisodeSection[];
  body: string;
}

/**
 * The one reader of an episode file's envelope: YAML front-matter between
 * `---` lines, then the body. Throws EpisodeFileError when there is none or
 * the YAML does not parse. (The site, the publisher and parseEpisodeFile all
 * read files through here.)
 */
export function readFrontMatter(text: string): { data: unknown; raw: Record<string, unknown>; body: string } {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text.replace(/\r\n/g, "\n"));
  if (!match) throw new EpisodeFileError(["the file must start with YAML front-matter between --- lines"]);
  let data: unknown;
  try {
    data = parseYaml(match[1]);
  } catch (error) {
    throw new EpisodeFileError([`front-matter is not valid YAML: ${messageOf(error)}`]);
  }
  const raw = data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  return { data, raw, body: match[2] };
}

/** The body's H2 sections, in order. */
export function splitSections(body: string): EpisodeSection[] {
  const chunks = body.split(/^## (.+)$/m);
  const sections: EpisodeSection[] = [];
  for (let i = 1; i < chunks.length; i += 2) sections.push({ heading: chunks[i].trim(), markdown: (chunks[i + 1] ?? "").trim() });
  return sections;
}

/** Parses and validates an episode file: front-matter schema, H2 sections in order. */
export function parseEpisodeFile(text: string, options: { translatedHeadings?: boolean } = {}): ParsedEpisode {
  const { data, body } = readFrontMatter(text);
  const parsed = episodeFrontMatter.safeParse(data);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `front-matter ${i.path.join(".") || "(root)"}: ${i.message}`);

  const sections = splitSections(body);
  if (body.split(/^## .+$/m)[0].trim() !== "") problems.push("body: text before the first H2 section");
  const expected = SECTIONS.map((s) => s.heading);
  const story = sections.map((s) => s.heading).filter((h) => h !== DATA_QUALITY_HEADING);
  // A translation's headings are translated: its sections map to the original's by position.
  if (!options.translatedHeadings && story.join("\n") !== expected.join("\n"))
    problems.push(
      `body: expected the H2 sections ${expected.map((h) => `"${h}"`).join(", ")} in this order, found ${story.map((h) => `"${h}"`).join(", ") || "none"}`,
    );
  if (sections.filter((s) => s.heading === DATA_QUALITY_HEADING).length > 1) problems.push(`body: more than one "${DATA_QUALITY_HEADING}" section`);

  if (problems.length > 0 || !parsed.success) throw new EpisodeFileError(problems);
  return { frontMatter: parsed.data, sections, body };
}
