import { z } from "zod";
import { facts as factsSchema, type Facts } from "../analysis/facts";
import type { EpisodeRow } from "../clickhouse/tables";
import { demoteHeadings, type EpisodeSection } from "../episode/draft";
import { episodeFilePath, episodeFrontMatter, parseEpisodeFile, renderEpisode, type EpisodeFrontMatter } from "../episode/file";
import type { CommitLinks } from "../episode/file";
import { renderAndCheck } from "../episode/truth";
import type { TranslationLang, TranslationOutput } from "./llm";
import type { TranslatableText } from "./verify";
import { messageOf } from "../error-message";

/**
 * From an English original's row to what is translated and checked, and from
 * a translation back to an episode file (docs/episodes.md):
 * `episodes/<series>/ep-NNN.<lang>.md`, rendered with the council's
 * renderEpisode, its front-matter COPIED from the original's (numbers,
 * metrics, claims, commits, window, date, run id, writer) except `title`,
 * `summary`, `lang` and `translation_of` (the original's path) — the LLM only
 * ever sees and returns prose.
 */

export interface TranslationSource {
  row: EpisodeRow;
  frontMatter: EpisodeFrontMatter;
  text: TranslatableText;
  /** The original's content path, e.g. `episodes/chimera/ep-001.md`. */
  path: string;
  /** The original's template (prose with fact references): what is translated. */
  template: TranslatableText;
  /** The facts the references render from. */
  facts: Facts;
}

const templateSchema = z.object({
  title: z.string(),
  summary: z.string(),
  sections: z.array(z.object({ heading: z.string(), markdown: z.string() })),
});

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The original, parsed and checked; problems when it is not a valid numbered English episode file. */
export function translationSource(row: EpisodeRow): { source: TranslationSource } | { problems: string[] } {
  let parsed: ReturnType<typeof parseEpisodeFile>;
  try {
    parsed = parseEpisodeFile(row.markdown);
  } catch (error) {
    const list = (error as { problems?: unknown }).problems;
    return { problems: Array.isArray(list) ? list.map(String) : [messageOf(error)] };
  }
  const fm = parsed.frontMatter;
  const problems: string[] = [];
  if (fm.lang !== "en") problems.push(`front-matter lang "${fm.lang}" is not "en"`);
  if (fm.series !== row.series) problems.push(`front-matter series "${fm.series}" is not the row's "${row.series}"`);
  if (fm.episode !== row.episode_num || fm.episode < 1) problems.push(`front-matter episode ${fm.episode} is not the row's ${row.episode_num}`);
  if (problems.length > 0) return { problems };
  const facts = factsSchema.safeParse(json(row.facts));
  const template = templateSchema.safeParse(json(row.template));
  if (!facts.success) return { problems: ["the original's facts are not readable"] };
  if (!template.success) return { problems: ["the original has no template with fact references (written before references): it cannot be translated"] };
  return {
    source: {
      row,
      frontMatter: fm,
      text: { title: fm.title, summary: fm.summary, sections: parsed.sections },
      path: episodeFilePath(fm.series, fm.episode),
      template: template.data,
      facts: facts.data,
    },
  };
}

/** The model's answer as it will be rendered: trimmed; headings one line without leading #; no H1/H2 inside sections. */
export function normaliseTranslation(output: TranslationOutput): TranslatableText {
  return {
    title: output.title.trim(),
    summary: output.summary.trim(),
    sections: output.sections.map((s): EpisodeSection => ({
      heading: s.heading
        .replace(/\s+/g, " ")
        .trim()
        .replace(/^#+\s*/, ""),
      markdown: demoteHeadings(s.markdown),
    })),
  };
}

export function translationFilePath(source: TranslationSource, lang: TranslationLang): string {
  return episodeFilePath(source.frontMatter.series, source.frontMatter.episode, lang);
}

/** The translation's episode file: the original's front-matter, the translated template rendered in its language. Throws when the front-matter would not validate. */
export function renderTranslation(source: TranslationSource, lang: TranslationLang, template: TranslatableText, links: CommitLinks = {}): string {
  return translationFile(source, lang, renderAndCheck(template, source.facts, { lang, links }).content);
}

/** The file for a translation already rendered (references in). */
export function translationFile(source: TranslationSource, lang: TranslationLang, text: TranslatableText): string {
  const frontMatter = episodeFrontMatter.parse({
    ...source.frontMatter,
    title: text.title,
    summary: text.summary,
    lang,
    translation_of: source.path,
  });
  return renderEpisode(frontMatter, text.sections);
}
