import type { EpisodeSection } from "../episode/draft";
import { extractNumbers, type StatedNumber, type TruthContext } from "../council/verify";

/**
 * The translation rule (shared/design/episodes.md: "Translations keep every
 * number and code span unchanged"), checked on a translation against its
 * English original, piece by piece: title ↔ title, summary ↔ summary, section
 * i ↔ section i (heading and markdown together). The original passed the
 * truth rule when the council wrote it, so a translation that states exactly
 * the original's numbers passes it too; the check is relative to the original.
 *
 * Per piece:
 * - numbers (found with the council's `extractNumbers`, same masks: code,
 *   link targets, URLs, shas, run ids, dates in the window, list markers,
 *   verbatim commit subjects): every number of the translation must be one the
 *   original piece states (same value, same decimals; a % or $ only where the
 *   original had one — a translation may say "percent" in words, or put the %
 *   differently, "12 %", "12％"), and every number of the original must appear
 *   in the translation (a number dropped or written in words is a change);
 * - code spans and code blocks: the translation's are exactly the original's,
 *   character for character — none dropped, changed or added (code is masked
 *   from the number check, so a new code span could hide a new number);
 * - link targets (markdown links, reference definitions, autolinks, bare
 *   URLs): exactly the original's; link TEXT may be translated.
 *
 * Number formats. Numbers keep the original's ASCII form: digits 0-9, "." as
 * the decimal point, "," grouping thousands (or no grouping). Accepted because
 * they are unambiguous and denote the same figure: Indian lakh grouping
 * (1,23,456), grouping with a no-break or thin space (12 345), the full-width
 * percent sign ％. Rejected as "numbers changed" — never normalised, since the
 * file must show the original's figures: non-ASCII digits (Devanagari ०-९,
 * full-width ０-９, any other script's digits), a decimal comma (18,4 reads as
 * the numbers 18 and 4), dotted thousands (1.234 reads as 1.234). Numbers
 * written as words (Chinese 十二, Hindi बारह, German zwölf) are not detected
 * as numbers, as in English; a number of the original rewritten that way is
 * caught because the original's digits are then missing.
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

// ---------------------------------------------------------------- numbers

/** Digits of any script other than ASCII 0-9 (Devanagari, full-width, Arabic-Indic, ...). */
const NON_ASCII_DIGITS = /(?:(?![0-9])\p{Nd})+/gu;

/**
 * Unambiguous regional forms of an ASCII number, rewritten to the original's
 * form before extraction: ％ → %, lakh grouping 1,23,456 → 123,456, grouping
 * by no-break/thin spaces 12 345 → 12,345.
 */
export function normaliseNumberForms(text: string): string {
  return text
    .replace(/％/g, "%")
    .replace(/(?<![\d,.])\d{1,2}(?:,\d{2})+,\d{3}(?![\d,])/g, (m) => Number(m.replace(/,/g, "")).toLocaleString("en-US"))
    .replace(/(?<![\d.,])\d{1,3}(?:[\u00A0\u2009\u202F]\d{3})+(?![\d]|[\u00A0\u2009\u202F]\d)/g, (m) => m.replace(/[\u00A0\u2009\u202F]/g, ","));
}

const PER_1K = /\bper 1k\b/i;
/** "1k" as in the cost fact's unit ("cost per 1k tokens"), in any language's sentence around it. */
const ONE_K = /(?<![A-Za-z0-9.,])1k(?![A-Za-z0-9])/gi;

/** The numbers a piece states, found in its normalised text (`text`: what the numbers' indexes refer to). */
function numbersOf(text: string, context: TruthContext, options: { unitName1k: boolean }): { numbers: StatedNumber[]; problems: string[]; text: string } {
  let prepared = normaliseNumberForms(text);
  if (options.unitName1k) prepared = prepared.replace(ONE_K, "  ");
  return { ...extractNumbers(prepared, context), text: prepared };
}

const numberKey = (n: Pick<StatedNumber, "value" | "decimals">) => `${n.value}|${n.decimals}`;

function snippet(text: string, at: number, length: number): string {
  const from = Math.max(0, at - 30);
  const to = Math.min(text.length, at + length + 30);
  return ` (in "${from > 0 ? "…" : ""}${text.slice(from, to).replace(/\s+/g, " ").trim()}${to < text.length ? "…" : ""}")`;
}

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
 * Numbers, code spans and link targets of each piece of the translation
 * against the same piece of the original. `context` is the original's truth
 * context (window, commits): dates and shas are judged as for the original.
 */
export function translationTruthProblems(original: TranslatableText, translation: TranslatableText, context: TruthContext): string[] {
  const problems: string[] = [];
  const sourcePieces = translationPieces(original);
  const targetPieces = translationPieces(translation);
  const unitName1k = sourcePieces.some((p) => PER_1K.test(p.text));

  for (const [i, target] of targetPieces.entries()) {
    const source = sourcePieces[i];
    if (!source) continue; // an extra section: a form problem already
    const where = target.where;
    const of = `the original ${source.where}`;

    // Digits of other scripts: never normalised.
    for (const m of withoutCode(target.text).matchAll(NON_ASCII_DIGITS)) {
      problems.push(`${where}: "${m[0]}" uses non-ASCII digits: write every number with the ASCII digits 0-9 exactly as ${of} does${snippet(target.text, m.index, m[0].length)}`);
    }

    // Numbers: the same set, as the original writes them.
    const src = numbersOf(source.text, context, { unitName1k });
    const dst = numbersOf(target.text, context, { unitName1k });
    problems.push(...dst.problems.map((p) => `${where}: ${p}`));
    const reported = new Set<string>();
    for (const n of dst.numbers) {
      const match = src.numbers.find((o) => numberKey(o) === numberKey(n) && (!n.percent || o.percent) && (!n.usd || o.usd));
      if (match) continue;
      const sameValue = src.numbers.find((o) => numberKey(o) === numberKey(n));
      const message = sameValue
        ? `${where}: "${n.text}" carries a ${n.percent && !sameValue.percent ? "%" : "$"} sign that ${of} does not give it ("${sameValue.text}")`
        : `${where}: "${n.text}" is not a number of ${of}: copy every number exactly as the original writes it (ASCII digits, "." as the decimal point, "," only between thousands), and add none`;
      if (reported.has(message)) continue;
      reported.add(message);
      problems.push(`${message}${snippet(dst.text, n.index, n.text.length)}`);
    }
    const stated = new Set(dst.numbers.map(numberKey));
    const missing = new Set<string>();
    for (const o of src.numbers) {
      if (stated.has(numberKey(o)) || missing.has(numberKey(o))) continue;
      missing.add(numberKey(o));
      problems.push(`${where}: the number "${o.text}" of ${of} is missing: keep it, written exactly as the original writes it${snippet(src.text, o.index, o.text.length)}`);
    }

    // Code spans: exactly the original's.
    const srcCode = new Set(codeSpans(source.text));
    const dstCode = new Set(codeSpans(target.text));
    for (const span of srcCode) if (!dstCode.has(span)) problems.push(`${where}: the code ${short(span)} of ${of} is missing or changed: copy code spans and blocks character for character`);
    for (const span of dstCode) if (!srcCode.has(span)) problems.push(`${where}: the code ${short(span)} is not in ${of}: do not add or alter code spans`);

    // Link targets: exactly the original's.
    const srcLinks = new Set(linkTargets(source.text));
    const dstLinks = new Set(linkTargets(target.text));
    for (const link of srcLinks) if (!dstLinks.has(link)) problems.push(`${where}: the link target ${link} of ${of} is missing or changed: keep every URL unchanged`);
    for (const link of dstLinks) if (!srcLinks.has(link)) problems.push(`${where}: the link target ${link} is not in ${of}: do not add or alter links`);
  }
  return [...new Set(problems)];
}

function short(span: string): string {
  const oneLine = span.replace(/\s+/g, " ");
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}…` : oneLine;
}

export function verifyTranslation(original: TranslatableText, translation: TranslatableText, context: TruthContext, rules: TranslationRules): string[] {
  return [...translationFormProblems(original, translation, rules), ...translationTruthProblems(original, translation, context)];
}
