import { z } from "zod";

/**
 * The writer's output (the LLM's structured output, and what the offline
 * writer produces): title, summary, the five sections of episodes.md as
 * markdown, numbers and commits only as references (lib/episode/references.ts).
 *
 * The schema is what the model sees as its JSON schema, so it stays
 * strict-mode friendly: every field required, no open maps, no numeric or
 * length constraints (those are checked afterwards, with problems the model
 * can repair: see `draftFormProblems`).
 */

export const SERIES = ["chimera", "banterpacks"] as const;
export const series = z.enum(SERIES);
export type Series = z.infer<typeof series>;

/** The body's H2 sections, in the order episodes.md fixes. */
export const SECTIONS = [
  { key: "what_changed", heading: "What changed" },
  { key: "why_it_matters", heading: "Why it matters" },
  { key: "benchmarks_summary", heading: "Benchmarks (summary)" },
  { key: "next_steps", heading: "Next steps" },
  { key: "links_and_artifacts", heading: "Links & artifacts" },
] as const;
export type SectionKey = (typeof SECTIONS)[number]["key"];
export const DATA_QUALITY_HEADING = "Data quality notice";

const sectionText = (what: string) =>
  z
    .string()
    .describe(
      `Markdown body of the section (no heading; use ### for sub-headings). ${what} Write no digits: every number is a {{fact:<id>}} reference, every commit a {{commit:<sha>}} reference.`,
    );

export const episodeDraft = z.object({
  title: z
    .string()
    .describe("A short, specific headline in plain text (no markdown), leading with the biggest event. No digits: numbers only as {{fact:<id>}} references."),
  summary: z.string().describe("One or two plain-text sentences: what happened and why a reader should care."),
  sections: z
    .object({
      what_changed: sectionText("What changed upstream and in the numbers this window: commits, regressions, improvements."),
      why_it_matters: sectionText("Why it matters for users of the overlay: the hearts↔packs correlation and its confidence."),
      benchmarks_summary: sectionText("The key benchmark and user figures, e.g. as a bullet list."),
      next_steps: sectionText("Concrete next steps for the engineers."),
      links_and_artifacts: sectionText("Where the data comes from (the commit list and run id are appended automatically)."),
    })
    .describe("The five sections of the episode, in order."),
});
export type EpisodeDraft = z.infer<typeof episodeDraft>;

/** A template's length once rendered, roughly: a reference renders to about a dozen characters. */
export function renderedLengthEstimate(template: string): number {
  return template.replace(/\{\{[^{}]*\}\}/g, "x".repeat(12)).length;
}

export interface TitleRules {
  maxLength: number;
}

/** Checks the schema cannot express; each problem is phrased so a model can fix it. */
export function draftFormProblems(draft: EpisodeDraft, rules: TitleRules): string[] {
  const problems: string[] = [];
  const title = draft.title.trim();
  if (title === "") problems.push("title: the title is empty");
  // The rendered title is checked again after rendering.
  const length = renderedLengthEstimate(title);
  if (length > rules.maxLength) problems.push(`title: the title has about ${length} characters once rendered; at most ${rules.maxLength} are allowed`);
  if (/[\r\n]/.test(title)) problems.push("title: the title must be a single line");
  if (draft.summary.trim() === "") problems.push("summary: the summary is empty");
  for (const { key, heading } of SECTIONS) {
    if (draft.sections[key].trim() === "") problems.push(`${heading}: the section is empty`);
  }
  return problems;
}

/** A section of an episode's body: its H2 heading and markdown. */
export interface EpisodeSection {
  heading: string;
  markdown: string;
}

/** An episode's prose: with {{fact:…}} references (a template) or rendered. */
export interface EpisodeContent {
  title: string;
  summary: string;
  sections: EpisodeSection[];
}

/**
 * A section must not open H1/H2 headings of its own: they would split the
 * body into sections the file format does not have. Demote them to H3.
 */
export function demoteHeadings(markdown: string): string {
  let fenced = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      return !fenced && /^#{1,2}\s/.test(line) ? line.replace(/^#{1,2}/, "###") : line;
    })
    .join("\n")
    .trim();
}

export function draftToContent(draft: EpisodeDraft): EpisodeContent {
  return {
    title: draft.title.trim(),
    summary: draft.summary.trim(),
    sections: SECTIONS.map(({ key, heading }) => ({ heading, markdown: demoteHeadings(draft.sections[key]) })),
  };
}
