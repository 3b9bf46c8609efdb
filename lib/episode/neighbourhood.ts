import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified } from "unified";
import type { ChangeEvent, Facts } from "../analysis/facts";
import { formatFact, type Fact, type Lang } from "./fact";
import {
  DAY_HAN,
  DAY_WORDS,
  EVENT_TIME_HAN,
  EVENT_TIME_WORDS,
  NEGATIONS,
  NEGATIONS_HAN,
  NOT_AFTER_P_VALUE,
  NOUNS,
  NOUNS_HAN,
  POLARITY,
  P_LABEL,
  SIGN_HAN,
  SIGN_WORDS,
  STRENGTH,
  UNIT_BEFORE,
  UNIT_BEFORE_HAN,
  UNIT_HAN,
  UNIT_SIGN,
  UNIT_WORDS,
  countNounsOf,
  directionWordsIn,
  factsCountingNoun,
  type Claim,
} from "./lexicon";
import { SIGN, matchKey, visible } from "./normalise";
import { allNounForms } from "./nouns";
import { FACT_ANCHOR_PREFIX, REFERENCE_PATTERN, findCommit, shortSha, type CommitRef, type ReferenceContext } from "./references";

/**
 * THE NEIGHBOURHOOD CHECK: a reference renders a true figure, but the words
 * next to it give it its meaning — "42 regressions" for 42 sessions, "fell
 * by +41.2 %", "2" and "1" glued into "21". This check reads the rendered
 * text sentence by sentence, as a reader does, and refuses a reference whose
 * neighbours change what it says:
 * - a second reference with no words between (read as one number);
 * - a unit, scale, currency or percent sign or word of any script next to it
 *   (the reference renders its own unit); for a count, a noun that is not what
 *   it counts;
 * - a sign character or sign word before it;
 * - a direction or judgement word (rose/fell/improved/worse …, per language)
 *   that disagrees with the sign and kind of the change it describes;
 *   correlation words that disagree with r and its interval;
 * - a before/after pair in the wrong order, an interval bound without its
 *   other end, a p-value presented as a share, the window's mean presented
 *   as a before or after value, a negated count ("no regressions") that a
 *   fact contradicts;
 * - a commit in a sentence about another event's change; a commit subject
 *   anywhere but right after its own commit;
 * - strikethrough or a link wrapped around it.
 * The same atoms are built from rendered markdown (section bodies: evidence
 * links, commit code spans), from a template (title and summary, whose
 * references are known) and from a file's plain title and summary (where the
 * claimed facts' renderings stand for their references).
 */

export interface NeighbourhoodContext {
  lang: Lang;
  facts: Map<string, Fact>;
  events: ChangeEvent[];
  commits: CommitRef[];
  correlation: number | null;
  /** The lower end of |r|'s interval that "strong" needs (MUSE_CHIMERA_MIN_CORRELATION). */
  strongCorrelation: number;
}

export function neighbourhoodContext(facts: Facts, references: ReferenceContext, lang: Lang, strongCorrelation = 0.5): NeighbourhoodContext {
  return {
    lang,
    facts: new Map(facts.facts.map((f) => [f.id, f])),
    events: facts.events,
    commits: references.commits,
    correlation: facts.correlation,
    strongCorrelation,
  };
}

export type Atom =
  | { kind: "text"; text: string }
  /** ids: the facts this rendering may stand for (one, except in a file's plain title, where renderings can coincide). */
  | { kind: "fact"; ids: string[]; struck: boolean }
  | { kind: "commit"; sha: string; struck: boolean }
  /** A commit subject in code: `sha` is one commit with that subject (several commits can share one). */
  | { kind: "subject"; sha: string; subject: string }
  | { kind: "code"; text: string };

type RefAtom = Extract<Atom, { kind: "fact" | "commit" }>;
const isRef = (a: Atom): a is RefAtom => a.kind === "fact" || a.kind === "commit";

// ---------------------------------------------------------------- atoms

interface MdNode {
  type: string;
  value?: string;
  url?: string;
  children?: MdNode[];
}
const parser = unified().use(remarkParse).use(remarkGfm);

function commitOfCode(value: string, ctx: NeighbourhoodContext): CommitRef | undefined {
  const v = value.trim().toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(v)) return undefined;
  const found = ctx.commits.filter((c) => c.sha.toLowerCase().startsWith(v));
  return found.length === 1 ? found[0] : undefined;
}

/** The blocks (paragraphs, headings, table cells) of rendered markdown, each as atoms. */
export function atomsOfMarkdown(markdown: string, ctx: NeighbourhoodContext): Atom[][] {
  const blocks: Atom[][] = [];
  const subjects = new Map(ctx.commits.filter((c) => c.subject !== "").map((c) => [c.subject.normalize("NFKC"), c.sha]));
  const inline = (node: MdNode, out: Atom[], struck: boolean) => {
    switch (node.type) {
      case "text":
        out.push({ kind: "text", text: node.value ?? "" });
        return;
      case "break":
        out.push({ kind: "text", text: "\n" });
        return;
      case "inlineCode": {
        const value = node.value ?? "";
        const commit = commitOfCode(value, ctx);
        const subject = subjects.get(value.normalize("NFKC"));
        if (commit) out.push({ kind: "commit", sha: commit.sha, struck });
        else if (subject) out.push({ kind: "subject", sha: subject, subject: value.normalize("NFKC") });
        else out.push({ kind: "code", text: value });
        return;
      }
      case "link": {
        const url = node.url ?? "";
        if (url.startsWith(`#${FACT_ANCHOR_PREFIX}`)) {
          out.push({ kind: "fact", ids: [url.slice(1 + FACT_ANCHOR_PREFIX.length)], struck });
          return;
        }
        const children = node.children ?? [];
        const code = children.length === 1 && children[0].type === "inlineCode" ? commitOfCode(children[0].value ?? "", ctx) : undefined;
        if (code && url.endsWith(`/commit/${code.sha}`)) {
          out.push({ kind: "commit", sha: code.sha, struck });
          return;
        }
        // Any other link: its text is part of the sentence; a reference inside it is wrapped.
        const inner: Atom[] = [];
        for (const c of children) inline(c, inner, struck);
        out.push({ kind: "text", text: "[" }, ...inner, { kind: "text", text: "]" });
        return;
      }
      case "delete":
        for (const c of node.children ?? []) inline(c, out, true);
        return;
      default:
        for (const c of node.children ?? []) inline(c, out, struck);
    }
  };
  const visit = (node: MdNode) => {
    if (node.type === "paragraph" || node.type === "heading" || node.type === "tableCell") {
      const out: Atom[] = [];
      for (const c of node.children ?? []) inline(c, out, false);
      blocks.push(out);
      return;
    }
    for (const c of node.children ?? []) visit(c);
  };
  visit(parser.parse(markdown) as MdNode);
  return blocks;
}

/** A template's atoms (title, summary): its references are known exactly. */
export function atomsOfTemplate(template: string, ctx: NeighbourhoodContext, references: Pick<ReferenceContext, "commits">): Atom[] {
  const atoms: Atom[] = [];
  let last = 0;
  for (const m of template.matchAll(REFERENCE_PATTERN)) {
    if (m.index > last) atoms.push({ kind: "text", text: template.slice(last, m.index) });
    last = m.index + m[0].length;
    const [, kind, id] = m;
    if (kind === "fact") {
      if (ctx.facts.has(id)) atoms.push({ kind: "fact", ids: [id], struck: false });
      continue;
    }
    const commit = findCommit({ facts: [], commits: references.commits }, id);
    if (!commit) continue;
    atoms.push(kind === "commit" ? { kind: "commit", sha: commit.sha, struck: false } : { kind: "subject", sha: commit.sha, subject: commit.subject });
  }
  if (last < template.length) atoms.push({ kind: "text", text: template.slice(last) });
  return atoms;
}

/**
 * A file's plain title or summary: each claimed fact's rendering (as many
 * times as claimed facts render that way) and each commit's short form stand
 * for their references; the rest is text — so a typed copy of a figure stays
 * text, and the residual check sees it.
 */
export function atomsOfPlain(text: string, claimed: Fact[], ctx: NeighbourhoodContext): Atom[] {
  const byRendering = new Map<string, string[]>();
  for (const f of claimed) {
    const shown = formatFact(f, ctx.lang);
    const ids = byRendering.get(shown) ?? [];
    if (!ids.includes(f.id)) ids.push(f.id);
    byRendering.set(shown, ids);
  }
  const left = new Map([...byRendering].map(([shown, ids]) => [shown, ids.length]));
  const candidates: { shown: string; atom: Atom; fact: boolean }[] = [
    ...[...byRendering].map(([shown, ids]) => ({ shown, atom: { kind: "fact", ids, struck: false } as Atom, fact: true })),
    ...ctx.commits.map((c) => ({ shown: shortSha(c.sha), atom: { kind: "commit", sha: c.sha, struck: false } as Atom, fact: false })),
  ].sort((a, b) => b.shown.length - a.shown.length);
  const bounded = (at: number) => at < 0 || at >= text.length || !/[\p{L}\p{N}]/u.test(text[at]);
  const atoms: Atom[] = [];
  let buffer = "";
  let i = 0;
  while (i < text.length) {
    const hit = candidates.find(
      (c) => c.shown !== "" && text.startsWith(c.shown, i) && bounded(i - 1) && bounded(i + c.shown.length) && (!c.fact || (left.get(c.shown) ?? 0) > 0),
    );
    if (!hit) {
      buffer += text[i];
      i += 1;
      continue;
    }
    if (buffer) atoms.push({ kind: "text", text: buffer });
    buffer = "";
    atoms.push(hit.atom);
    if (hit.fact) left.set(hit.shown, (left.get(hit.shown) ?? 0) - 1);
    i += hit.shown.length;
  }
  if (buffer) atoms.push({ kind: "text", text: buffer });
  return atoms;
}

// ---------------------------------------------------------------- sentences

/** Latin and Devanagari sentences end at . ! ? followed by a space; Chinese and Hindi marks end one anywhere. */
const SENTENCE_END = /(?<=[.!?])\s+|(?<=[。！？।॥])/u;

/** A piece of text (a template's paragraph) cut into sentences, as the check cuts atoms: the translation check aligns them. */
export function sentencesOfText(text: string): string[] {
  return text
    .split(SENTENCE_END)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** A block's atoms cut into sentences. */
export function sentencesOf(block: Atom[]): Atom[][] {
  const sentences: Atom[][] = [[]];
  for (const atom of block) {
    if (atom.kind !== "text") {
      sentences.at(-1)!.push(atom);
      continue;
    }
    const parts = atom.text.split(SENTENCE_END);
    parts.forEach((part, i) => {
      if (i > 0) sentences.push([]);
      if (part !== "") sentences.at(-1)!.push({ kind: "text", text: part });
    });
  }
  return sentences.filter((s) => s.length > 0);
}

// ---------------------------------------------------------------- the check

const textBetween = (atoms: Atom[], from: number, to: number) =>
  atoms
    .slice(from, to)
    .map((a) => (a.kind === "text" ? a.text : " "))
    .join("");
/** What stands right before atom i and right after it, as far as the next reference (or sentence end). */
function surroundings(atoms: Atom[], i: number): { before: string; after: string } {
  let start = i;
  while (start > 0 && !isRef(atoms[start - 1])) start -= 1;
  let end = i + 1;
  while (end < atoms.length && !isRef(atoms[end])) end += 1;
  return { before: visible(textBetween(atoms, start, i)), after: visible(textBetween(atoms, i + 1, end)) };
}

/** Spaces, dashes, emphasis or strike markers and entities a writer can put between a figure and its unit ("42-percent", "42 **percent**", "42&nbsp;percent" in a plain title). */
const FILLER = /^(?:[\s\p{Pd}\u2212*_~\uFE63\uFF0D]|&[a-z0-9#]+;)+/iu;
/** Only spaces and emphasis markers are skipped before a reference: a tilde there is a sign ("~41 %"). */
const FILLER_END = /(?:[\s*_]|&[a-z0-9#]+;)+$/iu;

const hanStart = (text: string, words: string[]) => words.find((w) => text.startsWith(w));
/** Every noun a count may render with, and every noun any count could be taken to count: none may follow a count that renders its own. */
const RENDERED_NOUNS = (() => {
  const forms = allNounForms();
  const han = [...new Set([...forms.han, ...NOUNS_HAN])].flatMap((h) => [h, h.replace(/^[个次条项位名]/u, "")]).filter((h) => h !== "");
  return { latin: new Set(forms.latin.map(matchKey)), han: [...new Set(han)].sort((a, b) => b.length - a.length) };
})();
const hanEnd = (text: string, words: string[]) => words.find((w) => text.endsWith(w));
const firstWord = (text: string) => /^[\p{L}\p{M}]+/u.exec(text)?.[0];
const lastWord = (text: string) => /[\p{L}\p{M}]+$/u.exec(text)?.[0];
const words = (text: string) => [...text.matchAll(/[\p{L}\p{M}]+/gu)].map((m) => matchKey(m[0]));

const name = (a: RefAtom) => (a.kind === "fact" ? `{{fact:${a.ids[0]}}}` : `{{commit:${a.sha.slice(0, 12)}}}`);

/** The event a fact belongs to, and the direction and kind of what it says. */
function eventOf(id: string, ctx: NeighbourhoodContext): { event: ChangeEvent; direction: number; kind: "regression" | "improvement" } | undefined {
  const m = /^event\.(\d+)\.(.+)$/.exec(id);
  if (!m) return undefined;
  const event = ctx.events.find((e) => e.n === Number(m[1]));
  if (!event) return undefined;
  const rest = m[2];
  const value = (suffix: string) => ctx.facts.get(`event.${m[1]}.${suffix}`)?.value;
  // A drift's slope and a spread change's noise ratio go the way of the lead's change (its sign: up is a rising slope, or more noise).
  if (
    /^(?:change_pct|ci_low_pct|ci_high_pct|median_change_pct|before|after|drift\.(?:slope_pct_per_run|ci_low|ci_high)|spread\.(?:ratio|ci_low|ci_high))$/.test(
      rest,
    )
  )
    return { event, direction: Math.sign(event.lead.change_pct), kind: event.kind };
  if (/^users\.(?:latency_before_ms|latency_after_ms|latency_change_pct|ci_low_pct|ci_high_pct)$/.test(rest)) {
    const d = Math.sign(event.users?.latency_change_pct ?? 0);
    return { event, direction: d, kind: d > 0 ? "regression" : "improvement" };
  }
  for (const pair of ["error", "abandon"]) {
    if (rest === `users.${pair}_before_pct` || rest === `users.${pair}_after_pct`) {
      const d = Math.sign((value(`users.${pair}_after_pct`) ?? 0) - (value(`users.${pair}_before_pct`) ?? 0));
      return { event, direction: d, kind: d > 0 ? "regression" : "improvement" };
    }
  }
  return { event, direction: 0, kind: event.kind };
}

const agrees = (claim: Claim, direction: number, kind: "regression" | "improvement") =>
  claim === "up" ? direction > 0 : claim === "down" ? direction < 0 : claim === "better" ? kind === "improvement" : kind === "regression";

/** Pairs whose order carries meaning: before first, the interval's lower end first. */
const ORDERED = [
  [".before", ".after"],
  ["latency_before_ms", "latency_after_ms"],
  ["error_before_pct", "error_after_pct"],
  ["abandon_before_pct", "abandon_after_pct"],
  ["ci_low_pct", "ci_high_pct"],
  ["ci_low", "ci_high"],
];

function correlationStrength(ctx: NeighbourhoodContext): "strong" | "moderate" | "weak" | undefined {
  const r = ctx.correlation ?? ctx.facts.get("correlation.latency_user")?.value;
  if (r === undefined || r === null) return undefined;
  const low = ctx.facts.get("correlation.ci_low")?.value;
  const high = ctx.facts.get("correlation.ci_high")?.value;
  const near = r >= 0 ? low : high === undefined ? undefined : -high;
  if (near !== undefined && near >= ctx.strongCorrelation) return "strong";
  return Math.abs(r) >= 0.4 ? "moderate" : "weak";
}

/** The problems of one sentence. */
function checkSentence(atoms: Atom[], ctx: NeighbourhoodContext, where: string): string[] {
  const problems: string[] = [];
  const say = (p: string) => problems.push(`${where}: ${p}`);
  const refs = atoms.map((a, i) => ({ a, i })).filter((x): x is { a: RefAtom; i: number } => isRef(x.a));
  const factIds = refs.flatMap((r) => (r.a.kind === "fact" ? r.a.ids : []));
  const sentenceText = visible(atoms.map((a) => (a.kind === "text" ? a.text : " ")).join(""));

  for (const [k, { a, i }] of refs.entries()) {
    const { before, after } = surroundings(atoms, i);
    const next = refs[k + 1];
    // Glued references: nothing but spaces, dots, commas, dashes or slashes between them. A count that renders its noun
    // ends in words ("42 sessions, 3 commits" is a list), but touching the next reference it is still glued.
    const endsInNoun = a.kind === "fact" && a.ids.every((id) => ctx.facts.get(id)?.unit === "count" && ctx.facts.get(id)?.noun);
    if (next && next.i > i) {
      const between = atoms.slice(i + 1, next.i);
      const gap = visible(textBetween(atoms, i + 1, next.i));
      if (!between.some((b) => b.kind === "code" || b.kind === "subject") && !/[\p{L}()[\];（）；]/u.test(gap) && !(endsInNoun && gap !== ""))
        say(`${name(a)} and ${name(next.a)} stand with no words between them ("${gap}"): a reader takes them for one number`);
    }
    if (a.struck) say(`strikethrough around ${name(a)}: a figure is stated or left out, never struck`);
    if (/\[\s*$/.test(before) || /^\s*\]/.test(after)) say(`a link is wrapped around ${name(a)}: an evidence link stands on its own`);
    if (a.kind !== "fact") continue;
    const ids = a.ids;
    const facts = ids.map((id) => ctx.facts.get(id)).filter((f): f is Fact => f !== undefined);
    if (facts.length === 0) continue;

    // A sign before it: any dash, plus, tilde or comparison sign, or a sign word.
    const head = before.replace(FILLER_END, "");
    const signChar = head.slice(-1);
    const signWord = lastWord(head);
    if ((signChar && SIGN.test(signChar)) || (signWord && SIGN_WORDS.has(matchKey(signWord))) || hanEnd(head, SIGN_HAN))
      say(
        `a sign ("${signChar && SIGN.test(signChar) ? signChar : (signWord ?? hanEnd(head, SIGN_HAN))}") stands before ${name(a)}; the reference renders the fact's own sign`,
      );
    // A unit before it: currency, multiplication, 百分之.
    const unitBefore =
      (signChar && /[$€£¥₹￥＄×]/u.test(signChar) ? signChar : undefined) ??
      (signWord && UNIT_BEFORE.has(matchKey(signWord)) && head.endsWith(signWord) ? signWord : undefined) ??
      hanEnd(head, UNIT_BEFORE_HAN);
    if (unitBefore)
      say(`"${unitBefore}" stands before ${name(a)}; the reference renders the fact's own unit — add no unit, scale, currency or percent sign or word`);

    // A unit, scale or noun after it.
    const tail = after.replace(FILLER, "");
    const word = firstWord(tail);
    const isDays = facts.every((f) => f.unit === "days");
    const unitSign = UNIT_SIGN.exec(tail)?.[0];
    const unitWord = word && UNIT_WORDS.has(matchKey(word)) && !(isDays && DAY_WORDS.has(matchKey(word))) ? word : undefined;
    const unitHan = hanStart(tail, UNIT_HAN);
    const unit = unitSign ?? unitWord ?? (unitHan && !(isDays && DAY_HAN.includes(unitHan)) ? unitHan : undefined);
    if (unit) say(`"${unit}" follows ${name(a)}; the reference renders the fact's own unit — add no unit, scale, currency or percent sign or word`);
    else if (facts.every((f) => f.unit === "count" && f.noun)) {
      // The count renders its own noun ("42 sessions"): any noun after it is a second one ("42 sessions regressions").
      const second = (word && (NOUNS.has(matchKey(word)) || RENDERED_NOUNS.latin.has(matchKey(word))) ? word : undefined) ?? hanStart(tail, RENDERED_NOUNS.han);
      if (second) say(`"${second}" follows ${name(a)}, which renders its own noun ("${formatFact(facts[0], ctx.lang)}"): add no noun after a count`);
    } else if (facts.every((f) => f.unit === "count") && word) {
      const k = matchKey(word);
      const own = ids.map(countNounsOf).filter((n) => n !== undefined);
      const hanNoun = hanStart(tail.replace(/^[个次条项位名]/u, ""), NOUNS_HAN);
      if (NOUNS.has(k) && !own.some((n) => n.nouns.has(k)))
        say(`"${word}" follows ${name(a)}, which counts ${ctx.facts.get(ids[0])?.label ?? ids[0]}: a count keeps its own noun`);
      else if (hanNoun && !own.some((n) => n.han.some((h) => tail.replace(/^[个次条项位名]/u, "").startsWith(h))))
        say(`"${hanNoun}" follows ${name(a)}, which counts ${ctx.facts.get(ids[0])?.label ?? ids[0]}: a count keeps its own noun`);
    }

    // A p-value is "p = …" / "q = …": never a share of anything.
    if (facts.every((f) => f.unit === "p_value")) {
      const letter = ids[0].endsWith("q_value") ? "q" : "p";
      const label = P_LABEL.exec(head);
      const what = letter === "q" ? "q-value" : "p-value";
      if (label && label[1].toLowerCase() !== letter) say(`${name(a)} is a ${what} but is labelled "${label[1]}"`);
      if ((word && (NOT_AFTER_P_VALUE.has(matchKey(word)) || NOUNS.has(matchKey(word)))) || tail.startsWith("的"))
        say(`${name(a)} is a ${what}, not a share or count ("${word ?? "的"}" follows it): write it as ${letter} = ${name(a)}`);
    }

    // An interval bound stands with its other end.
    for (const id of ids) {
      const bound = /^(.*)\.(ci_low|ci_high)(_pct)?$/.exec(id);
      if (!bound) continue;
      const other = `${bound[1]}.${bound[2] === "ci_low" ? "ci_high" : "ci_low"}${bound[3] ?? ""}`;
      const partner = bound[2] === "ci_low" ? refs[k + 1] : refs[k - 1];
      if (ids.length === 1 && (!partner || partner.a.kind !== "fact" || !partner.a.ids.includes(other)))
        say(
          `${name(a)} is one end of an interval: state it with the other end, {{fact:${bound[2] === "ci_low" ? id : other}}} to {{fact:${bound[2] === "ci_low" ? other : id}}}`,
        );
    }

    // The window's means are not a value before or after a commit.
    if (ids.every((id) => /^(?:hearts|packs)\./.test(id))) {
      const time = words(sentenceText).find((w) => EVENT_TIME_WORDS.has(w)) ?? EVENT_TIME_HAN.find((w) => sentenceText.includes(w));
      if (time) say(`${name(a)} is the window's mean, not a value before or after a commit ("${time}" in the same sentence)`);
    }
  }

  // Pairs in order: before, then after; the interval's lower end, then its upper end.
  const position = (id: string) => refs.findIndex((r) => r.a.kind === "fact" && r.a.ids.length === 1 && r.a.ids[0] === id);
  for (const id of factIds) {
    for (const [first, second] of ORDERED) {
      if (!id.endsWith(first)) continue;
      const partner = `${id.slice(0, -first.length)}${second}`;
      if (position(partner) >= 0 && position(id) >= 0 && position(partner) < position(id))
        say(`{{fact:${partner}}} stands before {{fact:${id}}}: keep the order (before, then after; the interval's lower end first)`);
    }
  }

  // Direction and judgement words agree with the change they describe (the nearest one after the word, else before).
  const directional = refs
    .filter((r) => r.a.kind === "fact" && r.a.ids.length === 1)
    .map((r) => ({ ...r, meaning: eventOf((r.a as Extract<Atom, { kind: "fact" }>).ids[0], ctx) }))
    .filter((r) => r.meaning && r.meaning.direction !== 0);
  if (directional.length > 0) {
    atoms.forEach((atom, i) => {
      if (atom.kind !== "text") return;
      for (const w of directionWordsIn(visible(atom.text))) {
        const target = directional.find((r) => r.i > i) ?? directional.filter((r) => r.i < i).at(-1);
        if (!target?.meaning) continue;
        const { direction, kind } = target.meaning;
        if (!agrees(w.claim, direction, kind)) {
          const id = (target.a as Extract<Atom, { kind: "fact" }>).ids[0];
          const truth =
            w.claim === "up" || w.claim === "down" ? (direction > 0 ? "rose" : "fell") : `is ${kind === "regression" ? "a regression" : "an improvement"}`;
          say(`"${w.word}" says ${w.claim}, but {{fact:${id}}} ${truth} (${formatFact(ctx.facts.get(id)!, ctx.lang)})`);
        }
      }
    });
  }

  // Correlation words agree with r and its interval.
  if (factIds.includes("correlation.latency_user")) {
    const r = ctx.facts.get("correlation.latency_user")!.value;
    const ws = words(sentenceText);
    const has = (list: string[]) => list.find((w) => ws.includes(matchKey(w)) || (/\p{sc=Han}/u.test(w) && sentenceText.includes(w)));
    const wrongPolarity = has(r < 0 ? POLARITY.positive : POLARITY.negative);
    if (wrongPolarity) say(`"${wrongPolarity}" contradicts r = {{fact:correlation.latency_user}}, which is ${r < 0 ? "negative" : "positive"}`);
    const strength = correlationStrength(ctx);
    for (const s of ["strong", "moderate", "weak"] as const) {
      const w = has(STRENGTH[s]);
      if (w && strength && s !== strength) say(`"${w}" does not describe r = {{fact:correlation.latency_user}}: its interval makes it ${strength}`);
    }
  }

  // A commit in a sentence about an event is that event's commit (or one of its candidates, the start of its range, or its fix).
  const events = [...new Set(factIds.map((id) => eventOf(id, ctx)?.event).filter((e): e is ChangeEvent => e !== undefined))];
  if (events.length > 0) {
    for (const { a } of refs) {
      if (a.kind !== "commit") continue;
      const own = events.some((e) => [e.commit_sha, e.fixed_by_sha, e.range_from_sha, ...e.candidates].includes(a.sha));
      if (!own) say(`commit ${a.sha.slice(0, 7)} is not the commit of event ${events.map((e) => e.n).join(", ")} this sentence is about`);
    }
  }

  // A subject only right after its own commit.
  atoms.forEach((atom, i) => {
    if (atom.kind !== "subject") return;
    const previous = atoms.slice(0, i).filter(isRef).at(-1);
    const subjectOf = (sha: string) => ctx.commits.find((c) => c.sha === sha)?.subject.normalize("NFKC");
    if (!previous || previous.kind !== "commit" || subjectOf(previous.sha) !== atom.subject.normalize("NFKC"))
      say(
        `the subject of commit ${atom.sha.slice(0, 7)} stands apart from its commit: a subject is upstream's words, shown only after {{commit:…}}, never as a result`,
      );
  });

  // Negated counts: "no regressions" states a count of zero; the facts must agree.
  const ws = [...sentenceText.matchAll(/[\p{L}\p{M}]+/gu)].map((m) => m[0]);
  ws.forEach((w, i) => {
    if (!NEGATIONS.has(matchKey(w))) return;
    for (const noun of ws.slice(i + 1, i + 4)) {
      const counted = factsCountingNoun(noun);
      if (!counted) continue;
      const total = counted.reduce((sum, id) => sum + (ctx.facts.get(id)?.value ?? 0), 0);
      if (total !== 0) say(`"${w} ${noun}" states none, but {{fact:${counted[0]}}} is ${formatFact(ctx.facts.get(counted[0])!, ctx.lang)}`);
      return;
    }
  });
  for (const neg of NEGATIONS_HAN) {
    const at = sentenceText.indexOf(neg);
    if (at < 0) continue;
    const noun = [
      ["回归", "changes.regressions"],
      ["改进", "changes.improvements"],
      ["提交", "commits.hearts"],
    ].find(([n]) => sentenceText.slice(at, at + 8).includes(n));
    if (noun && (ctx.facts.get(noun[1])?.value ?? 0) !== 0) say(`"${neg}…${noun[0]}" states none, but {{fact:${noun[1]}}} is not zero`);
  }
  return problems;
}

/** The neighbourhood check on blocks of atoms (one per paragraph, heading or table cell). */
export function checkNeighbourhood(blocks: Atom[][], ctx: NeighbourhoodContext, where: string): string[] {
  return [...new Set(blocks.flatMap((block) => sentencesOf(block).flatMap((s) => checkSentence(s, ctx, where))))];
}
