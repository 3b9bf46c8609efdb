import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified } from "unified";
import { formatFact, type Fact, type Lang } from "./fact";
import { visible } from "./normalise";
import { numberWordsIn } from "./number-words";
import { FACT_ANCHOR_PREFIX } from "./references";

/**
 * THE RESIDUAL CHECK: after references are rendered, nothing in an episode may
 * state a number that did not come from a fact reference.
 *
 * The markdown is parsed with the same remark + GFM pipeline the site renders
 * with, so the check sees what a reader sees: every text node, link text and
 * title, image alt, code span and block, heading and table cell, after entity
 * decoding (remark's) and Unicode NFKC. A token is a violation when it holds a
 * digit of any script (\p{Nd}, \p{No}) or a number word (English always, and
 * the file's language; Chinese and Hindi words in any file, their scripts
 * cannot be mistaken), unless it is
 * - a rendered fact: a link to `#fact-<id>` whose text is exactly that fact
 *   as `formatFact` renders it in the file's language (anything else in such a
 *   link is a violation: a forged evidence link);
 * - an identifier the facts themselves carry (model names, quantizations,
 *   datasets, commit shas, commit subjects, the run id) or a metric name of
 *   the fixed vocabulary (p50, p95, p99, per 1k tokens).
 * Structure that shows numbers is refused too: raw HTML, images, ordered
 * lists not starting at 1, footnote labels with digits, and links to hosts
 * other than this site and the upstream repositories.
 */

export interface ResidualRules {
  lang: Lang;
  /** The facts a rendered evidence link may show. */
  facts: Fact[];
  /** Identifiers the facts carry; matched case-insensitively as whole words. */
  identifiers: string[];
  /** Upstream's words (commit subjects): allowed only as the whole text of a code span, where the renderer puts them. */
  quoted?: string[];
  /** Link targets allowed besides `#fact-…` and site-relative paths: URL prefixes. */
  allowedUrlPrefixes: string[];
}

/** Metric names and units that contain digits but state no figure. */
export const FIXED_VOCABULARY = ["p50", "p90", "p95", "p99", "per 1k tokens", "1k tokens"];

const WORD = /[\p{L}\p{M}\p{N}_]+(?:[.,:][\p{N}]+)*/gu;
/** A digit of any script by its numeric property: decimal digits, letter numbers (Ⅻ), other numbers (½, ², ①). */
const DIGIT = /\p{N}/u;
/** Signs that state a proportion even without a digit beside them. */
const PROPORTION_SIGNS = /[%％٪‰‱]/gu;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Removes allowed phrases (whole words, case-insensitive), longest first. */
function withoutPhrases(text: string, phrases: string[]): string {
  let out = text;
  for (const phrase of [...new Set(phrases.filter((p) => p.trim() !== ""))].sort((a, b) => b.length - a.length)) {
    // Whole words; Chinese writes no spaces, so a Han character next to the phrase is a boundary too ("p95延迟", "为170.0 ms").
    const pattern = new RegExp(`(?:(?<![\\p{L}\\p{N}_])|(?<=\\p{sc=Han}))${escapeRegExp(visible(phrase))}(?:(?![\\p{L}\\p{N}_])|(?=\\p{sc=Han}))`, "giu");
    out = out.replace(pattern, " ");
  }
  return out;
}

function snippet(text: string, index: number, length: number): string {
  const from = Math.max(0, index - 25);
  const to = Math.min(text.length, index + length + 25);
  return `${from > 0 ? "…" : ""}${text.slice(from, to).replace(/\s+/g, " ").trim()}${to < text.length ? "…" : ""}`;
}

/** The violations in one piece of visible text. */
export function numbersIn(text: string, rules: Pick<ResidualRules, "identifiers" | "lang">, extraAllowed: string[] = []): string[] {
  const found: string[] = [];
  // Letter numbers (Ⅻ) become letters under NFKC: look for numeric characters before folding too.
  const raw = text.replace(/\p{Default_Ignorable_Code_Point}/gu, "");
  const rawNumeral = /[\p{Nl}\p{No}]/u.exec(raw);
  if (rawNumeral) found.push(`"${rawNumeral[0]}" is a number that no fact reference rendered (in "${snippet(raw, rawNumeral.index, 1)}")`);
  const normal = visible(text);
  const rest = withoutPhrases(withoutPhrases(normal, extraAllowed), [...rules.identifiers, ...FIXED_VOCABULARY]);
  for (const m of rest.matchAll(WORD)) {
    const token = m[0];
    if (DIGIT.test(token)) found.push(`"${token}" is a number that no fact reference rendered (in "${snippet(rest, m.index, token.length)}")`);
  }
  for (const w of numberWordsIn(rest, rules.lang)) {
    const what = w.kind === "number word" ? "a number word" : `a ${w.kind}`;
    found.push(`"${w.word}" is ${what}; numbers come only from fact references (in "${snippet(rest, w.index, w.word.length)}")`);
  }
  // Number signs that read as figures even without digits in the word pattern.
  for (const m of rest.matchAll(PROPORTION_SIGNS)) found.push(`"${m[0]}" stands without a fact reference (in "${snippet(rest, m.index, 1)}")`);
  return found;
}

// ---------------------------------------------------------------- markdown

interface MdNode {
  type: string;
  value?: string;
  url?: string;
  title?: string | null;
  alt?: string | null;
  label?: string | null;
  ordered?: boolean | null;
  start?: number | null;
  children?: MdNode[];
}

const parser = unified().use(remarkParse).use(remarkGfm);

function textContent(node: MdNode): string {
  if (node.type === "text" || node.type === "inlineCode") return node.value ?? "";
  return (node.children ?? []).map(textContent).join("");
}

function urlAllowed(url: string, rules: ResidualRules): boolean {
  if (url.startsWith("#")) return true;
  if (url.startsWith("/") && !url.startsWith("//")) return true;
  return rules.allowedUrlPrefixes.some((prefix) => url.startsWith(prefix));
}

/** The residual check on one markdown piece (a section body or heading). */
export function checkMarkdown(markdown: string, where: string, rules: ResidualRules): string[] {
  const facts = new Map(rules.facts.map((f) => [f.id, f]));
  const problems: string[] = [];
  const say = (p: string) => problems.push(`${where}: ${p}`);
  const scan = (text: string | null | undefined, what?: string) => {
    if (!text) return;
    for (const p of numbersIn(text, rules)) say(what ? `${what} ${p}` : p);
  };
  // The text of one block (paragraph, heading, table cell) is scanned joined: a
  // number word split by emphasis (`tw*ice*`) is one word to a reader.
  let block: string[] | null = null;
  const visit = (node: MdNode) => {
    switch (node.type) {
      case "paragraph":
      case "heading":
      case "tableCell": {
        const outer = block;
        block = [];
        for (const child of node.children ?? []) visit(child);
        scan(block.join(""));
        block = outer;
        return;
      }
      case "inlineCode":
        block?.push(" ");
        if (rules.quoted?.includes((node.value ?? "").normalize("NFKC"))) return;
        scan(node.value);
        return;
      case "text":
        if (block) block.push(node.value ?? "");
        else scan(node.value);
        return;
      case "break":
        block?.push("\n");
        return;
      case "code":
        scan(node.value);
        return;
      case "html":
        say(`raw HTML is not allowed (${JSON.stringify((node.value ?? "").slice(0, 40))})`);
        return;
      case "image":
      case "imageReference":
        say(`images are not allowed in episode prose (${JSON.stringify(node.alt ?? "")})`);
        return;
      case "footnoteReference":
      case "footnoteDefinition":
        scan(node.label, "footnote label");
        break;
      case "definition":
        scan(node.title, "link title");
        if (node.url && !urlAllowed(node.url, rules)) say(`link target ${JSON.stringify(node.url)} is neither this site nor an upstream repository`);
        return;
      case "list":
        if (node.ordered && node.start !== null && node.start !== undefined && node.start !== 1)
          say(`an ordered list starts at ${node.start}: lists must start at 1`);
        break;
      case "link": {
        const url = node.url ?? "";
        scan(node.title, "link title");
        if (url.startsWith(`#${FACT_ANCHOR_PREFIX}`)) {
          const id = url.slice(1 + FACT_ANCHOR_PREFIX.length);
          const f = facts.get(id);
          const shown = textContent(node);
          const onlyText = (node.children ?? []).every((c) => c.type === "text");
          block?.push(" ");
          if (!f) say(`an evidence link points to ${JSON.stringify(id)}, which is no fact`);
          else if (!onlyText || shown !== formatFact(f, rules.lang))
            say(`an evidence link to ${id} shows "${shown}" but the fact renders as "${formatFact(f, rules.lang)}"`);
          return;
        }
        if (!urlAllowed(url, rules)) say(`link target ${JSON.stringify(url)} is neither this site nor an upstream repository`);
        break;
      }
      default:
        break;
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(parser.parse(markdown) as MdNode);
  return problems;
}
