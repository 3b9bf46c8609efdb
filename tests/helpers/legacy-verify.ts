import type { Fact, FactUnit, Facts } from "../../lib/analysis/facts";

/**
 * THE OLD CHECKER, kept only as a test fixture: the value-matching truth rule
 * Muse used before fact references (lib/episode/truth.ts). The truth-rule
 * tests run every attack against it too, to show each one was a hole.
 */

export interface DraftClaim {
  fact_id: string;
  value: number;
  unit: string;
}
export interface LegacyContent {
  title: string;
  summary: string;
  sections: { heading: string; markdown: string }[];
  claims: DraftClaim[];
}

/**
 * THE TRUTH RULE (docs/truth-rule.md): every number an episode's prose
 * states must equal a computed fact within the fact's rounding, and be covered
 * by a claim naming that fact. Used on the council's drafts and, unchanged, on
 * translations (which must keep every number).
 *
 * What counts as a stated number — digits in prose, after masking what is not
 * prose:
 * - masked (never numbers): fenced and inline code, link targets, bare URLs
 *   and autolinks, UUIDs, full commit shas and ≥ 7-hex prefixes of the
 *   episode's commits, issue references (#123), ordered-list markers (`1. `),
 *   commit subjects quoted verbatim (upstream's words, not claims about data),
 *   ISO dates/datetimes and HH:MM times — those must lie in the window or be a
 *   commit's, else they are a problem of their own;
 * - identifiers (ignored): a token of letters/digits joined by `.`, `_`, `-`
 *   that starts with an ASCII letter (p95, int8, fp16, llama-3.1-8b, gpt-4o,
 *   v0.3), or starts with digits glued to letters that are no unit (8b, 4o,
 *   5d9c8b7a);
 * - numbers: 1,234.5 (thousands commas), -0.82 / −0.82 (a minus glued to the
 *   digits), 12% and 12 % (percent: must state a percent fact), $0.0004
 *   (dollars: must state a usd fact), 130ms / 1.5x / 24h (a number with a unit
 *   glued on), 7-day (the 7), 3-5 (both), 2nd (the 2);
 * - abbreviations (1.2k, 3M, 2bn) are a problem: they cannot be checked
 *   against a fact's rounding, so they must be written out ("per 1k tokens",
 *   the cost fact's unit, is a name and ignored).
 * Numbers written as words ("seven") are not detected; the writers' prompt
 * asks for digits.
 *
 * Rounding: a number stated with d decimals states fact f when d ≤ f.decimals
 * and f.value rounded to d decimals equals it (18.43 may be stated 18.43, 18.4
 * or 18). More decimals than the fact has are accepted only as trailing zeros
 * (18.40 for 18.4). Signs must match.
 */

export interface ResolvedClaim {
  id: string;
  value: number;
  unit: FactUnit;
  source: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  /** The facts the prose states, for the front-matter (deduplicated, in claim order). */
  claims: ResolvedClaim[];
}

export interface StatedNumber {
  /** As written, e.g. "1,234.5". */
  text: string;
  value: number;
  /** Decimal places written. */
  decimals: number;
  percent: boolean;
  usd: boolean;
  /** Offset in the text, for messages. */
  index: number;
}

/** What the prose may mention besides facts: the window and the commits. */
export interface TruthContext {
  facts: Fact[];
  window: { from: string; to: string };
  commits: { sha: string; ts?: string; message?: string }[];
}

export function truthContext(facts: Facts): TruthContext {
  return {
    facts: facts.facts,
    window: { from: facts.window.from, to: facts.window.to },
    commits: [...facts.commits.hearts, ...facts.commits.packs, ...facts.hearts_commits_used.map((sha) => ({ sha }))],
  };
}

/** A commit message's first line, whitespace collapsed: how episodes quote commits. */
export function commitSubject(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/\s+/g, " ").trim();
}

// ---------------------------------------------------------------- rounding

/** Decimal rounding, half away from zero, free of binary artefacts (1.005 → 1.01). */
export function roundTo(value: number, decimals: number): number {
  const abs = Math.abs(value);
  const shifted = Math.round(Number(`${abs.toFixed(Math.min(20, decimals + 8))}e${decimals}`));
  return Math.sign(value) * Number(`${shifted}e-${decimals}`);
}

const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Whether `n` is an allowed statement of fact `f` (units, rounding, sign). */
export function statesFact(n: Pick<StatedNumber, "value" | "decimals" | "percent" | "usd">, f: Fact): boolean {
  if (n.percent && f.unit !== "percent") return false;
  if (n.usd && f.unit !== "usd") return false;
  if (n.decimals <= f.decimals) return same(roundTo(f.value, n.decimals), n.value);
  return same(roundTo(n.value, f.decimals), n.value) && same(roundTo(f.value, f.decimals), n.value);
}

/** A claim's value must be the fact's (both at the fact's decimals). */
export function claimMatchesFact(value: number, f: Fact): boolean {
  return same(roundTo(value, f.decimals), roundTo(f.value, f.decimals));
}

// ---------------------------------------------------------------- extraction

const blank = (s: string) => s.replace(/[^\n]/g, " ");

function maskAll(text: string, pattern: RegExp, keep?: (match: string) => boolean): string {
  return text.replace(pattern, (match: string) => (keep?.(match) ? match : blank(match)));
}

const day = (iso: string) => iso.slice(0, 10);
const minute = (iso: string) => new Date(iso).toISOString().slice(11, 16);

function allowedDays(context: TruthContext): Set<string> {
  const days = new Set<string>();
  const from = Date.parse(`${day(context.window.from)}T00:00:00Z`);
  const to = Date.parse(context.window.to);
  for (let t = from; t <= to && days.size < 4000; t += 86_400_000) days.add(new Date(t).toISOString().slice(0, 10));
  for (const c of context.commits) if (c.ts) days.add(day(new Date(c.ts).toISOString()));
  return days;
}

function allowedMinutes(context: TruthContext): Set<string> {
  const stamps = [context.window.from, context.window.to, ...context.commits.flatMap((c) => (c.ts ? [c.ts] : []))];
  return new Set(stamps.map(minute));
}

const NUMERIC = /^\d+(?:,\d{3})*(?:\.\d+)?$/;
/** A number with a unit glued on: 130ms, 1.5x, 24h, 7d, 90s. */
const WITH_UNIT = /^(\d+(?:,\d{3})*(?:\.\d+)?)(?:ms|s|secs?|h|hrs?|mins?|m|d|x)$/i;
const ORDINAL = /^(\d+)(?:st|nd|rd|th)$/i;
const ABBREVIATED = /^\d+(?:,\d{3})*(?:\.\d+)?(?:k|K|M|bn)$/;
/** Letters/digits joined by . _ - (and thousands commas between digits). ASCII letters only: CJK text has no spaces. */
const CHAIN = /[A-Za-z0-9]+(?:(?:[._-]|(?<=[0-9]),(?=[0-9]{3}(?![0-9])))[A-Za-z0-9]+)*/g;

function snippet(text: string, index: number, length: number): string {
  const from = Math.max(0, index - 30);
  const to = Math.min(text.length, index + length + 30);
  return `${from > 0 ? "…" : ""}${text.slice(from, to).replace(/\s+/g, " ").trim()}${to < text.length ? "…" : ""}`;
}

/**
 * The numbers a piece of prose states, and problems found on the way
 * (abbreviations, dates or times outside the window and commits).
 */
export function extractNumbers(text: string, context: TruthContext): { numbers: StatedNumber[]; problems: string[] } {
  const problems: string[] = [];
  let masked = text;
  // Upstream's words quoted verbatim (first: a subject may hold backticks).
  for (const subject of new Set(context.commits.map((c) => commitSubject(c.message ?? "")))) {
    if (subject.length < 10 || !/[A-Za-z]/.test(subject) || !/\d/.test(subject)) continue;
    for (let i = masked.indexOf(subject); i >= 0; i = masked.indexOf(subject, i + subject.length)) {
      masked = masked.slice(0, i) + blank(subject) + masked.slice(i + subject.length);
    }
  }
  // Code, then link targets and URLs: not prose.
  masked = maskAll(masked, /(```|~~~)[\s\S]*?(?:\1|$)/g);
  masked = maskAll(masked, /(`+)[\s\S]*?\1/g);
  masked = masked.replace(/\]\([^)]*\)/g, (m) => `]${blank(m.slice(1))}`);
  masked = maskAll(masked, /<(?:https?|mailto):[^>\s]*>/gi);
  masked = maskAll(masked, /\b(?:https?:\/\/|www\.)[^\s<>()[\]]+/gi);
  // The unit of the cost fact ("cost per 1k tokens") is a name, not an abbreviated number.
  masked = masked.replace(/\bper 1k\b/gi, (m) => `per ${blank(m.slice(4))}`);
  // Run ids and commits.
  masked = maskAll(masked, /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi);
  const shas = context.commits.map((c) => c.sha.toLowerCase());
  masked = maskAll(masked, /\b[0-9a-f]{7,40}\b/gi, (match) => {
    const token = match.toLowerCase();
    return !(token.length === 40 || shas.some((sha) => sha.startsWith(token)));
  });
  // Issue and pull-request references (#123) name things; they state nothing.
  masked = masked.replace(/(^|[^A-Za-z0-9&])#\d+\b/g, (m, lead: string) => lead + blank(m.slice(lead.length)));
  // Ordered-list markers are structure, not statements.
  masked = masked.replace(/^(\s*)(\d+)([.)])(?=\s)/gm, (_m, indent: string, digits: string, mark: string) => indent + blank(digits) + mark);

  // Dates and times: allowed when in the window or a commit's; never numbers.
  const days = allowedDays(context);
  const windowFrom = Date.parse(context.window.from);
  const windowTo = Date.parse(context.window.to);
  const commitMinutes = new Set(context.commits.flatMap((c) => (c.ts ? [new Date(c.ts).toISOString().slice(0, 16)] : [])));
  masked = masked.replace(
    /\b(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?(?:\s?UTC\b)?/g,
    (match: string, date: string, time: string | undefined, zone: string | undefined, index: number) => {
      let allowed: boolean;
      if (time === undefined) allowed = days.has(date);
      else {
        const instant = Date.parse(`${date}T${time}${zone && zone !== "Z" ? zone : "Z"}`);
        allowed =
          Number.isFinite(instant) &&
          ((instant >= windowFrom - 60_000 && instant <= windowTo) || commitMinutes.has(new Date(instant).toISOString().slice(0, 16)));
      }
      if (!allowed)
        problems.push(
          `date "${match.trim()}" is neither in the window (${day(context.window.from)} to ${day(context.window.to)}) nor a commit's (in "${snippet(text, index, match.length)}")`,
        );
      return blank(match);
    },
  );
  const minutes = allowedMinutes(context);
  masked = masked.replace(/\b(\d{1,2}):(\d{2})(?::\d{2})?\b(?:\s?UTC\b)?/g, (match: string, h: string, m: string, index: number) => {
    if (!minutes.has(`${h.padStart(2, "0")}:${m}`))
      problems.push(`time "${match.trim()}" is not the window's or a commit's (in "${snippet(text, index, match.length)}")`);
    return blank(match);
  });

  const numbers: StatedNumber[] = [];
  for (const chain of masked.matchAll(CHAIN)) {
    const token = chain[0];
    const start = chain.index;
    if (/^[A-Za-z]/.test(token)) continue; // identifier: p95, int8, llama-3.1-8b, gpt-4o
    let offset = 0;
    const parts = token.split("-");
    for (const [i, part] of parts.entries()) {
      const at = start + offset;
      offset += part.length + 1;
      if (ABBREVIATED.test(part)) {
        problems.push(`"${part}" is abbreviated: write the number out as the fact states it (in "${snippet(text, at, part.length)}")`);
        continue;
      }
      const digits = NUMERIC.test(part) ? part : (WITH_UNIT.exec(part)?.[1] ?? ORDINAL.exec(part)?.[1]);
      if (digits === undefined) {
        if (i === 0) break; // digits glued to letters: an identifier (8b, 4o, 5d9c8b7a)
        continue; // a word after a hyphen: "7-day"
      }
      // Sign and currency glued to the first part: -0.82, −0.82, $0.0004, -$1.5.
      let negative = false;
      let usd = false;
      if (i === 0) {
        let k = at - 1;
        if (masked[k] === "$") {
          usd = true;
          k -= 1;
        }
        if ((masked[k] === "-" || masked[k] === "−") && !/[A-Za-z0-9]/.test(masked[k - 1] ?? " ")) {
          negative = true;
          k -= 1;
        }
        if (!usd && masked[k] === "$") usd = true;
      }
      const after = masked.slice(at + part.length, at + part.length + 2);
      const percent = digits === part && /^ ?%/.test(after);
      const decimals = digits.includes(".") ? digits.split(".")[1].length : 0;
      const magnitude = Number(digits.replace(/,/g, ""));
      const shown = `${negative ? "-" : ""}${usd ? "$" : ""}${digits}${percent ? "%" : ""}`;
      numbers.push({ text: shown, value: negative ? -magnitude : magnitude, decimals, percent, usd, index: at });
    }
  }
  return { numbers, problems };
}

// ---------------------------------------------------------------- verification

export interface ProsePiece {
  /** Where the text is, for messages: "title", "summary", a section heading. */
  where: string;
  text: string;
}

const describeFact = (f: Fact) => `${f.id} = ${f.value}`;

/** Checks prose against the facts and the claims; the heart of the truth rule. */
export function verifyProse(pieces: ProsePiece[], claims: DraftClaim[], context: TruthContext): VerifyResult {
  const problems: string[] = [];
  const factsById = new Map(context.facts.map((f) => [f.id, f]));

  // Claims first: they must name real facts with their real values.
  const validClaims: { claim: DraftClaim; fact: Fact }[] = [];
  for (const claim of claims) {
    const fact = factsById.get(claim.fact_id);
    if (!fact) problems.push(`claims: "${claim.fact_id}" is not a fact id (claimed value ${claim.value}); use an id from the fact list`);
    else if (!claimMatchesFact(claim.value, fact)) problems.push(`claims: ${claim.fact_id} is claimed as ${claim.value} but the fact is ${fact.value}`);
    else validClaims.push({ claim, fact });
  }

  const used = new Set<string>();
  for (const piece of pieces) {
    const { numbers, problems: found } = extractNumbers(piece.text, context);
    problems.push(...found.map((p) => `${piece.where}: ${p}`));
    for (const n of numbers) {
      const covering = validClaims.filter((c) => statesFact(n, c.fact));
      if (covering.length > 0) {
        for (const c of covering) used.add(c.fact.id);
        continue;
      }
      const context_ = snippet(piece.text, n.index, n.text.length);
      const stated = context.facts.filter((f) => statesFact(n, f));
      if (stated.length > 0) {
        problems.push(
          `${piece.where}: "${n.text}" states ${stated.slice(0, 3).map(describeFact).join(" or ")} but no claim covers it: add it to claims (in "${context_}")`,
        );
      } else {
        const unit = n.percent ? " (a percent fact)" : n.usd ? " (a usd fact)" : "";
        problems.push(
          `${piece.where}: "${n.text}" is not a computed fact${unit} at its stated rounding: remove it or state a fact from the list (in "${context_}")`,
        );
      }
    }
  }

  const resolved: ResolvedClaim[] = [];
  for (const { fact } of validClaims) {
    if (!used.has(fact.id) || resolved.some((r) => r.id === fact.id)) continue;
    resolved.push({ id: fact.id, value: fact.value, unit: fact.unit, source: fact.source });
  }
  const unique = [...new Set(problems)];
  return { ok: unique.length === 0, problems: unique, claims: resolved };
}

export function contentPieces(content: Pick<LegacyContent, "title" | "summary" | "sections">): ProsePiece[] {
  return [
    { where: "title", text: content.title },
    { where: "summary", text: content.summary },
    ...content.sections.map((s) => ({ where: s.heading, text: s.markdown })),
  ];
}

export function verifyContent(content: LegacyContent, facts: Facts): VerifyResult {
  return verifyProse(contentPieces(content), content.claims, truthContext(facts));
}
