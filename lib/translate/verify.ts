import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified } from "unified";
import type { Facts } from "../analysis/facts";
import type { EpisodeSection } from "../episode/draft";
import type { Lang } from "../episode/fact";
import type { CommitLinks } from "../episode/file";
import { compareReferences, referenceKey, referencesIn } from "../episode/references";
import { sentencesOfText } from "../episode/neighbourhood";
import { renderAndCheck } from "../episode/truth";

/**
 * The translation rule: a translation keeps every reference, code span and
 * link target of its original, piece by piece (title ↔ title, summary ↔
 * summary, section i ↔ section i: headings are translated, so sections map by
 * position), and states no number of its own. It translates the original's
 * TEMPLATE — prose with {{fact:…}} references — so its numbers are rendered
 * from the facts in its own locale (German 1,5; lib/episode/fact.ts) and can
 * be neither mistyped nor changed.
 */

export interface TranslatableText {
  title: string;
  summary: string;
  sections: EpisodeSection[];
}

interface Piece {
  where: string;
  text: string;
}

export function translationPieces(text: TranslatableText): Piece[] {
  return [
    { where: "title", text: text.title },
    { where: "summary", text: text.summary },
    ...text.sections.map((s, i) => ({
      where: `section ${i + 1} ("${s.heading.trim()}")`,
      text: `${s.heading}\n\n${s.markdown}`,
    })),
  ];
}

// ---------------------------------------------------------------- code and links

const FENCED = /(```|~~~)[\s\S]*?(?:\1|$)/g;
const INLINE_CODE = /(`+)[\s\S]*?\1/g;
const blank = (s: string) => s.replace(/[^\n]/g, " ");

/** Code blocks and inline code spans, as written (delimiters included). */
export function codeSpans(text: string): string[] {
  const spans: string[] = [];
  const rest = text.replace(FENCED, (m) => {
    spans.push(m.trimEnd());
    return blank(m);
  });
  for (const m of rest.matchAll(INLINE_CODE)) spans.push(m[0]);
  return spans;
}

function withoutCode(text: string): string {
  return text.replace(FENCED, blank).replace(INLINE_CODE, blank);
}

/** Trailing punctuation after a bare URL (ASCII and CJK) is prose, not part of the URL. */
const URL_TRAILER = /[.,;:!?'"»”’)\]。，；：！？、）」』】।॥]+$/u;

/** Link targets: markdown links, reference definitions, autolinks, bare URLs (outside code). */
export function linkTargets(text: string): string[] {
  const targets: string[] = [];
  let rest = withoutCode(text);
  rest = rest.replace(/^[ \t]*\[[^\]\n]+\]:[ \t]*<?([^\s>]+)>?.*$/gm, (m, target: string) => {
    targets.push(target);
    return blank(m);
  });
  rest = rest.replace(/\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g, (m, target: string) => {
    targets.push(target);
    return blank(m);
  });
  rest = rest.replace(/<((?:https?|mailto):[^>\s]*)>/gi, (m, target: string) => {
    targets.push(target);
    return blank(m);
  });
  for (const m of rest.matchAll(/\b(?:https?:\/\/|www\.)[^\s<>()[\]]+/giu)) targets.push(m[0].replace(URL_TRAILER, ""));
  return targets;
}

// ---------------------------------------------------------------- sentences

interface MdNode {
  type: string;
  children?: MdNode[];
  position?: { start: { offset?: number }; end: { offset?: number } };
}
const parser = unified().use(remarkParse).use(remarkGfm);

interface Block {
  /** "paragraph 3", "list item 2", "table cell 4", "heading 1": how a problem names it. */
  name: string;
  /** The block's source text, references as written. */
  text: string;
}

/** The blocks of a template's markdown (paragraphs, list items, headings, table cells), each with its source text. */
export function templateBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const counts = new Map<string, number>();
  const visit = (node: MdNode, inList: boolean) => {
    const kind =
      node.type === "paragraph" ? (inList ? "list item" : "paragraph") : node.type === "heading" ? "heading" : node.type === "tableCell" ? "table cell" : "";
    if (kind && node.position?.start.offset !== undefined && node.position.end.offset !== undefined) {
      const n = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, n);
      blocks.push({ name: `${kind} ${n}`, text: markdown.slice(node.position.start.offset, node.position.end.offset) });
      return;
    }
    for (const c of node.children ?? []) visit(c, inList || node.type === "listItem");
  };
  visit(parser.parse(markdown) as MdNode, false);
  return blocks;
}

/** A template's sentences: as the neighbourhood check cuts them, and after a claim, which renders a sentence of its own. */
const sentences = (text: string) => sentencesOfText(text).flatMap((s) => s.split(/(?<=\{\{\s*claim\s*:[^{}]*\}\})\s+/u).filter((x) => x.trim() !== ""));
const refList = (text: string) => referencesIn(text).map((r) => `{{${referenceKey(r)}}}`);
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const quote = (text: string) => {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return `"${oneLine.length > 90 ? `${oneLine.slice(0, 87)}…` : oneLine}"`;
};
const listed = (refs: string[]) => (refs.length > 0 ? refs.join(", ") : "no reference");

/**
 * The same references in the same order, paragraph by paragraph (list item by list item) and sentence by sentence.
 * Blocks are aligned by position — all of them when the two have as many, else those that hold references — and a
 * translation whose blocks with references do not match the original's moved a reference between them. Within an
 * aligned pair, sentences are aligned when both have as many; otherwise the block's references keep their order.
 */
export function alignmentProblems(source: string, target: string, where: string): string[] {
  const problems: string[] = [];
  let from = templateBlocks(source);
  let to = templateBlocks(target);
  if (from.length !== to.length) {
    from = from.filter((b) => refList(b.text).length > 0);
    to = to.filter((b) => refList(b.text).length > 0);
    if (from.length !== to.length) {
      problems.push(
        `${where}: the original has references in ${from.length} paragraph(s) or list item(s), the translation in ${to.length}: keep each reference in the paragraph or list item it stands in`,
      );
      return problems;
    }
  }
  for (const [i, dst] of to.entries()) {
    const src = from[i];
    const srcRefs = refList(src.text);
    const dstRefs = refList(dst.text);
    const srcSentences = sentences(src.text);
    const dstSentences = sentences(dst.text);
    if (srcSentences.length === dstSentences.length) {
      for (const [j, sentence] of dstSentences.entries()) {
        const want = refList(srcSentences[j]);
        const got = refList(sentence);
        if (!sameList(want, got))
          problems.push(
            `${where}, ${dst.name}, sentence ${j + 1} (${quote(sentence)}): it has ${listed(got)}, but the original's sentence (${quote(srcSentences[j])}) has ${listed(want)} — keep each sentence's references, in their order`,
          );
      }
    } else if (!sameList(srcRefs, dstRefs))
      problems.push(
        `${where}, ${dst.name} (${quote(dst.text)}): it has ${listed(dstRefs)}, but the original's (${quote(src.text)}) has ${listed(srcRefs)} — keep the paragraph's references, in their order`,
      );
  }
  return problems;
}

// ---------------------------------------------------------------- numbers

/** Digits of any script other than ASCII 0-9 (Devanagari, full-width, Arabic-Indic, ...). */
// ---------------------------------------------------------------- the check

export interface TranslationRules {
  /** Longest title accepted (characters). */
  titleMaxLength: number;
}

/**
 * Structure: the pieces exist and the sections map 1:1 (by position: headings
 * are translated). Headings arrive normalised (lib/translate/episode.ts: one
 * line, no leading #). Problems phrased for the model.
 */
export function translationFormProblems(original: TranslatableText, translation: TranslatableText, rules: TranslationRules): string[] {
  const problems: string[] = [];
  const title = translation.title.trim();
  if (title === "") problems.push("title: the title is empty");
  if (/[\r\n]/.test(title)) problems.push("title: the title must be a single line");
  if (title.length > rules.titleMaxLength) problems.push(`title: the title has ${title.length} characters; at most ${rules.titleMaxLength} are allowed`);
  if (original.summary.trim() !== "" && translation.summary.trim() === "") problems.push("summary: the summary is empty");
  if (translation.sections.length !== original.sections.length) {
    problems.push(
      `sections: the original has ${original.sections.length} sections (${original.sections.map((s) => `"${s.heading}"`).join(", ")}); return exactly one translated section for each, in the same order (got ${translation.sections.length})`,
    );
  }
  translation.sections.forEach((s, i) => {
    const where = `section ${i + 1}`;
    const heading = s.heading.trim();
    if (heading === "") problems.push(`${where}: the heading is empty`);
    const source = original.sections[i];
    if (source && source.markdown.trim() !== "" && s.markdown.trim() === "") problems.push(`${where} ("${heading}"): the section is empty`);
  });
  return problems;
}

/**
 * What the residual check of the translation's file knows besides the facts,
 * as the council's and the publisher's checks know it: the original's run id
 * (the front-matter's, shown in code in the Links section) and the site's URL.
 */
export interface TranslationFileContext {
  runId?: string;
  siteUrl?: string;
  /** What "strong" means for the correlation (MUSE_CHIMERA_MIN_CORRELATION), as the council judged the original. */
  strongCorrelation?: number;
}

/**
 * References, code spans and link targets of each piece of the translation
 * against the same piece of the original (the original's template): the same
 * references in the same order — none dropped, added, changed or moved —,
 * in the same paragraphs and sentences (alignmentProblems), the same code and
 * the same link targets. Then the translation is
 * rendered in its language and the residual check runs on it: a digit or a
 * number word (English, German, Chinese, Hindi lists) that no reference put
 * there rejects it.
 */
export function translationTruthProblems(
  original: TranslatableText,
  translation: TranslatableText,
  facts: Facts,
  lang: Lang,
  links: CommitLinks = {},
  file: TranslationFileContext = {},
): string[] {
  const problems: string[] = [];
  const sourcePieces = translationPieces(original);
  const targetPieces = translationPieces(translation);
  for (const [i, target] of targetPieces.entries()) {
    const source = sourcePieces[i];
    if (!source) continue; // an extra section: a form problem already
    const where = target.where;
    const of = `the original ${source.where}`;
    const sourceRefs = referencesIn(source.text);
    const targetRefs = referencesIn(target.text);
    const multiset = compareReferences(sourceRefs, targetRefs, where);
    problems.push(...multiset);
    // The same references in another order can swap meanings ("von {{after}} auf {{before}}"): the order is kept too.
    if (multiset.length === 0 && sourceRefs.map(referenceKey).join(" ") !== targetRefs.map(referenceKey).join(" "))
      problems.push(
        `${where}: the references stand in another order than in ${of} (${sourceRefs.map((r) => `{{${referenceKey(r)}}}`).join(", ")}): keep their order, so that before stays before after`,
      );
    // And in the same sentences: a reference moved into the next sentence keeps the piece's order but not its meaning.
    if (multiset.length === 0) problems.push(...alignmentProblems(source.text, target.text, where));
    const srcCode = new Set(codeSpans(source.text));
    const dstCode = new Set(codeSpans(target.text));
    for (const span of srcCode)
      if (!dstCode.has(span))
        problems.push(`${where}: the code ${short(span)} of ${of} is missing or changed: copy code spans and blocks character for character`);
    for (const span of dstCode) if (!srcCode.has(span)) problems.push(`${where}: the code ${short(span)} is not in ${of}: do not add or alter code spans`);
    const srcLinks = new Set(linkTargets(source.text));
    const dstLinks = new Set(linkTargets(target.text));
    for (const link of srcLinks)
      if (!dstLinks.has(link)) problems.push(`${where}: the link target ${link} of ${of} is missing or changed: keep every URL unchanged`);
    for (const link of dstLinks) if (!srcLinks.has(link)) problems.push(`${where}: the link target ${link} is not in ${of}: do not add or alter links`);
  }
  problems.push(
    ...renderAndCheck(translation, facts, { lang, links, runId: file.runId, siteUrl: file.siteUrl, strongCorrelation: file.strongCorrelation }).problems,
  );
  return [...new Set(problems)];
}

function short(span: string): string {
  const oneLine = span.replace(/\s+/g, " ");
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}…` : oneLine;
}

export function verifyTranslation(
  original: TranslatableText,
  translation: TranslatableText,
  facts: Facts,
  lang: Lang,
  rules: TranslationRules,
  links: CommitLinks = {},
  file: TranslationFileContext = {},
): string[] {
  return [...translationFormProblems(original, translation, rules), ...translationTruthProblems(original, translation, facts, lang, links, file)];
}
