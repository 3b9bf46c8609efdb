import { formatFact, isPValueFloor, type Fact, type Lang } from "./fact";

/**
 * Fact references: how a number (or a commit) gets into an episode.
 *
 * Writers — the LLM and the offline writer alike — never type a figure. Where
 * a number goes they write `{{fact:<id>}}` (an id of the computed facts), and
 * where a commit goes `{{commit:<sha prefix>}}`. `renderTemplate` replaces
 * each reference with the fact as `formatFact` renders it in the file's
 * language, so value, rounding, unit, sign and number format come from one
 * place. In markdown a fact renders as a link to its evidence row
 * (`[123.5 ms](#fact-hearts.latency_p95_ms)`), which is also how the residual
 * check (residual.ts) recognises a rendered number in the final file.
 */

/** Every reference a template may hold; claims (`{{claim:…}}`, claims.ts) are whole sentences, expanded into the others before rendering. */
export const REFERENCE_PATTERN = /\{\{\s*(fact|commit|subject|claim)\s*:\s*([^{}\s]+?)\s*\}\}/g;
/**
 * A reference with the "=" a writer puts before a p- or q-value ("q = {{fact:…}}"): when the value renders as its
 * floor ("< 0.001"), the floor's own "<" takes the place of the "=" — "q < 0.001", never "q = < 0.001".
 */
const REFERENCE_WITH_EQUALS = new RegExp(`(=[ \\t\\u00A0]*)?${REFERENCE_PATTERN.source}`, "g");
/** Anything that looks like a reference but is not a well-formed one. */
const BROKEN_REFERENCE = /\{\{|\}\}/;

export const FACT_ANCHOR_PREFIX = "fact-";

export interface CommitRef {
  sha: string;
  repo: "banterhearts" | "banterpacks";
  /** The commit message's first line: upstream's words, only ever shown in code. */
  subject: string;
}

export interface ReferenceContext {
  facts: Fact[];
  commits: CommitRef[];
  /** owner/name of each upstream on GitHub; unset: commits are shown by sha only. */
  repos?: { banterhearts?: string; banterpacks?: string };
  webUrl?: string;
}

export interface Reference {
  /** subject: a commit's subject line, rendered escaped in code (the commit list uses it); claim: a code-written sentence (claims.ts). */
  kind: "fact" | "commit" | "subject" | "claim";
  id: string;
}

/** A commit message's first line, whitespace collapsed: how episodes show commits (in code). */
export function commitSubject(message: string): string {
  return (message.split("\n")[0] ?? "").replace(/\s+/g, " ").trim();
}

/** Inline code that holds any text (backticks in upstream's words included). */
export function codeSpan(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

export function factAnchor(id: string): string {
  return `${FACT_ANCHOR_PREFIX}${id}`;
}

/** The references a template holds, in order (a multiset: repeats kept). */
export function referencesIn(template: string): Reference[] {
  return [...template.matchAll(REFERENCE_PATTERN)].map((m) => ({ kind: m[1] as Reference["kind"], id: m[2] }));
}

export const referenceKey = (r: Reference) => `${r.kind}:${r.id}`;

export function findCommit(context: ReferenceContext, id: string): CommitRef | undefined {
  const prefix = id.toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(prefix)) return undefined;
  const found = context.commits.filter((c) => c.sha.toLowerCase().startsWith(prefix));
  return found.length === 1 ? found[0] : undefined;
}

export function commitUrl(context: ReferenceContext, commit: CommitRef): string | undefined {
  const repo = context.repos?.[commit.repo];
  return repo ? `${context.webUrl ?? "https://github.com"}/${repo}/commit/${commit.sha}` : undefined;
}

export interface RenderedTemplate {
  text: string;
  references: Reference[];
  problems: string[];
}

/**
 * A commit's short form as episodes show it: seven characters, longer when
 * those are all digits (about 4 % of shas), so that no commit can be read —
 * or typed — as a figure.
 */
export function shortSha(sha: string): string {
  const letter = sha.search(/[a-f]/i);
  return sha.slice(0, Math.max(7, letter + 1));
}

/**
 * Renders the references of a template (`markdown`: facts as evidence links,
 * commits as code links; `plain`: text only, for title and summary). Unknown
 * ids, broken braces and a subject in plain text are problems; what stands
 * next to a reference is judged on the rendered text (neighbourhood.ts).
 */
export function renderTemplate(
  template: string,
  context: ReferenceContext,
  options: { lang: Lang; mode: "markdown" | "plain"; where: string },
): RenderedTemplate {
  const facts = new Map(context.facts.map((f) => [f.id, f]));
  const problems: string[] = [];
  const references: Reference[] = [];
  const text = template.replace(REFERENCE_WITH_EQUALS, (whole: string, equals: string | undefined, kind: string, id: string) => {
    const match = whole.slice(equals?.length ?? 0);
    const prefix = equals ?? "";
    if (kind === "fact") {
      const f = facts.get(id);
      if (!f) {
        problems.push(`${options.where}: ${match} names no fact; use an id from the fact list`);
        return prefix;
      }
      references.push({ kind: "fact", id });
      const shown = formatFact(f, options.lang);
      const rendered = options.mode === "markdown" ? `[${shown}](#${factAnchor(id)})` : shown;
      // The floor's "<" is the relation: it replaces the writer's "=" (and only that; a writer's own "<" stays, and the neighbourhood check refuses it).
      return isPValueFloor(f) ? rendered : `${prefix}${rendered}`;
    }
    if (kind === "claim") {
      // Claims are sentences of the facts, expanded into fact references first (truth.ts renderAndCheck, claims.ts expandClaims).
      problems.push(`${options.where}: ${match} is a claim, which only an episode's rendering (with its facts) resolves`);
      return prefix;
    }
    const commit = findCommit(context, id);
    if (!commit) {
      problems.push(`${options.where}: ${match} names no commit of the facts (use a sha prefix of at least 7 characters from the commit list)`);
      return prefix;
    }
    references.push({ kind: kind as "commit" | "subject", id: commit.sha.slice(0, 7) });
    if (kind === "subject") {
      // Upstream's words are shown in code after their commit, never in a title or summary, where they would read as the episode's own.
      if (options.mode === "plain")
        problems.push(`${options.where}: ${match}: a commit subject is upstream's words; it appears only in the sections, after its {{commit:…}}`);
      return prefix + (options.mode === "markdown" ? codeSpan(commit.subject) : commit.subject);
    }
    const short = shortSha(commit.sha);
    if (options.mode === "plain") return prefix + short;
    const url = commitUrl(context, commit);
    return prefix + (url ? `[\`${short}\`](${url})` : `\`${short}\``);
  });
  if (BROKEN_REFERENCE.test(text))
    problems.push(`${options.where}: a malformed reference ("{{" or "}}" left over); write {{claim:<id>}}, {{fact:<id>}} or {{commit:<sha>}}`);
  return { text, references, problems };
}

/** Multiset difference of two reference lists, as readable problems. */
export function compareReferences(expected: Reference[], actual: Reference[], where: string): string[] {
  const count = (list: Reference[]) => {
    const m = new Map<string, number>();
    for (const r of list) m.set(referenceKey(r), (m.get(referenceKey(r)) ?? 0) + 1);
    return m;
  };
  const want = count(expected);
  const got = count(actual);
  const problems: string[] = [];
  for (const [key, n] of want) {
    const have = got.get(key) ?? 0;
    if (have < n) problems.push(`${where}: {{${key}}} appears ${have} time(s); the original has it ${n} time(s) — keep every reference exactly`);
  }
  for (const [key, n] of got) {
    if (!want.has(key)) problems.push(`${where}: {{${key}}} is not in the original — add no reference`);
    else if (n > want.get(key)!) problems.push(`${where}: {{${key}}} appears ${n} time(s); the original has it ${want.get(key)} time(s)`);
  }
  return problems;
}
