import type { Facts } from "../analysis/facts";
import { expandClaims } from "./claims";
import type { EpisodeContent } from "./draft";
import type { Fact, Lang } from "./fact";
import { parseEpisodeFile, type CommitLinks, type ResolvedClaim } from "./file";
import { atomsOfMarkdown, atomsOfPlain, atomsOfTemplate, checkNeighbourhood, neighbourhoodContext } from "./neighbourhood";
import { REFERENCE_PATTERN, commitSubject, renderTemplate, referencesIn, shortSha, type Reference, type ReferenceContext } from "./references";
import { checkMarkdown, numbersIn, type ResidualRules } from "./residual";
import { messageOf } from "../error-message";

/**
 * THE TRUTH RULE, by construction: an episode's prose is a template whose
 * numbers are fact references; rendering puts the facts in; the residual check
 * proves nothing else in the rendered text states a number. Used by the
 * council (on its draft), the translator (on each language) and the publisher
 * (on the exact file it commits).
 */

export function referenceContext(facts: Facts, links: CommitLinks = {}): ReferenceContext {
  const commits = [
    ...facts.commits.hearts.map((c) => ({ sha: c.sha, repo: "banterhearts" as const, subject: commitSubject(c.message) })),
    ...facts.commits.packs.map((c) => ({ sha: c.sha, repo: "banterpacks" as const, subject: commitSubject(c.message) })),
  ];
  const known = new Set(commits.map((c) => c.sha));
  // Commits of the story's changes (possibly older than the window) and those whose runs are used.
  for (const e of facts.events) {
    for (const sha of [e.commit_sha, e.fixed_by_sha, e.range_from_sha, ...e.candidates]) {
      if (sha && !known.has(sha)) {
        known.add(sha);
        commits.push({ sha, repo: "banterhearts", subject: sha === e.commit_sha ? e.subject : "" });
      }
    }
  }
  for (const sha of facts.hearts_commits_used) if (!known.has(sha)) commits.push({ sha, repo: "banterhearts", subject: "" });
  return { facts: facts.facts, commits, repos: { banterhearts: links.hearts, banterpacks: links.packs }, webUrl: links.webUrl };
}

export function residualRules(
  facts: Facts,
  lang: Lang,
  links: CommitLinks = {},
  runId?: string,
  siteUrl?: string,
  context: ReferenceContext = referenceContext(facts, links),
): ResidualRules {
  const webUrl = links.webUrl ?? "https://github.com";
  const identifiers = [
    ...facts.identifiers,
    ...facts.models,
    // A prefix made only of digits would let a typed figure pass as a commit: only letter-bearing forms are identifiers.
    ...context.commits.flatMap((c) => [c.sha, shortSha(c.sha), c.sha.slice(0, 12)].filter((form) => /[a-f]/i.test(form))),
    ...(runId ? [runId] : []),
  ];
  const quoted = context.commits.map((c) => c.subject.normalize("NFKC")).filter((q) => q !== "");
  const allowedUrlPrefixes = [links.hearts, links.packs].filter((r): r is string => Boolean(r)).map((repo) => `${webUrl}/${repo}/`);
  if (siteUrl) allowedUrlPrefixes.push(siteUrl.replace(/\/?$/, "/"));
  return { lang, facts: facts.facts, identifiers, quoted, allowedUrlPrefixes };
}

export interface RenderedEpisode {
  content: EpisodeContent;
  /** Every reference, in order of appearance (title, summary, sections). */
  references: Reference[];
  problems: string[];
}

/**
 * Renders every reference of a template in `lang` — claims first, as their code-written sentences in that language —,
 * then runs the residual and neighbourhood checks on the result.
 */
export function renderAndCheck(
  template: EpisodeContent,
  facts: Facts,
  options: { lang: Lang; links?: CommitLinks; runId?: string; siteUrl?: string; strongCorrelation?: number },
): RenderedEpisode {
  const context = referenceContext(facts, options.links);
  const rules = residualRules(facts, options.lang, options.links, options.runId, options.siteUrl, context);
  const near = neighbourhoodContext(facts, context, options.lang, options.strongCorrelation);
  const problems: string[] = [];
  const references: Reference[] = [];
  /** Claims become their sentences in this language first: from here on they are fact references and words like any other. */
  const expand = (text: string, mode: "markdown" | "plain", where: string) => {
    const e = expandClaims(text, facts, { lang: options.lang, mode, where, strongCorrelation: options.strongCorrelation });
    problems.push(...e.problems);
    return e.text;
  };
  const plain = (piece: string, where: string) => {
    const text = expand(piece, "plain", where);
    const r = renderTemplate(text, context, { lang: options.lang, mode: "plain", where });
    problems.push(...r.problems);
    references.push(...r.references);
    // Only the references' own places may hold their figures: a typed copy of a referenced figure is a number like any other.
    problems.push(...numbersIn(text.replace(REFERENCE_PATTERN, " "), rules).map((p) => `${where}: ${p}`));
    problems.push(...checkNeighbourhood([atomsOfTemplate(text, near, context)], near, where));
    return r.text;
  };
  // Upstream's words are data: the writer refers to a commit, it never quotes one (the commit list does, in code).
  for (const c of context.commits) {
    if (c.subject.length < 8) continue;
    const pieces = [template.title, template.summary, ...template.sections.map((s) => s.markdown)];
    if (pieces.some((p) => p.toLowerCase().includes(c.subject.toLowerCase())))
      problems.push(`the text quotes the subject of commit ${c.sha.slice(0, 7)}; refer to it as {{commit:${c.sha.slice(0, 12)}}}`);
  }
  const title = plain(template.title, "title");
  const summary = plain(template.summary, "summary");
  const sections = template.sections.map((s) => {
    if (referencesIn(s.heading).length > 0 || /\{\{/.test(s.heading)) problems.push(`${s.heading}: a heading holds a reference; headings carry no numbers`);
    problems.push(...numbersIn(s.heading, rules).map((p) => `heading "${s.heading}": ${p}`));
    const r = renderTemplate(expand(s.markdown, "markdown", s.heading), context, { lang: options.lang, mode: "markdown", where: s.heading });
    problems.push(...r.problems);
    references.push(...r.references);
    problems.push(...checkMarkdown(r.text, s.heading, rules));
    problems.push(...checkNeighbourhood(atomsOfMarkdown(r.text, near), near, s.heading));
    return { heading: s.heading, markdown: r.text };
  });
  return { content: { title, summary, sections }, references, problems: [...new Set(problems)] };
}

function factsOf(references: Reference[], facts: Fact[]): Fact[] {
  const byId = new Map(facts.map((f) => [f.id, f]));
  return references.flatMap((r) => (r.kind === "fact" && byId.has(r.id) ? [byId.get(r.id)!] : []));
}

/** The front-matter claims: every fact the episode references, once, in order. */
export function claimsOf(references: Reference[], facts: Fact[]): ResolvedClaim[] {
  const claims: ResolvedClaim[] = [];
  for (const f of factsOf(references, facts)) {
    if (!claims.some((c) => c.id === f.id)) claims.push({ id: f.id, value: f.value, unit: f.unit, source: f.source });
  }
  return claims;
}

/**
 * Defence in depth, on the exact file about to be committed: parse it, check
 * every claim against the facts it was computed from, and run the residual
 * check on title, summary, headings and sections in the file's language.
 */
export function checkEpisodeFile(text: string, facts: Facts, options: { links?: CommitLinks; siteUrl?: string; strongCorrelation?: number } = {}): string[] {
  let parsed: ReturnType<typeof parseEpisodeFile>;
  try {
    // Translations keep the original's sections with translated headings; an original must have the English ones.
    parsed = parseEpisodeFile(text, { translatedHeadings: true });
    if (parsed.frontMatter.lang === "en") parsed = parseEpisodeFile(text);
  } catch (error) {
    const list = (error as { problems?: unknown }).problems;
    return Array.isArray(list) ? list.map(String) : [messageOf(error)];
  }
  const fm = parsed.frontMatter;
  const context = referenceContext(facts, options.links);
  const rules = residualRules(facts, fm.lang, options.links, fm.run_id, options.siteUrl, context);
  const near = neighbourhoodContext(facts, context, fm.lang, options.strongCorrelation);
  const byId = new Map(facts.facts.map((f) => [f.id, f]));
  const problems: string[] = [];
  const claimed: Fact[] = [];
  for (const c of fm.claims) {
    const f = byId.get(c.id);
    if (!f) problems.push(`claims: ${c.id} is not a computed fact`);
    else if (f.value !== c.value || f.unit !== c.unit)
      problems.push(`claims: ${c.id} is ${c.value} ${c.unit} in the file but ${f.value} ${f.unit} in the facts`);
    else claimed.push(f);
  }
  for (const [where, plain] of [
    ["title", fm.title],
    ["summary", fm.summary],
  ] as const) {
    // Each claimed rendering stands for its reference as often as claimed facts render that way; any further copy is typed.
    const atoms = atomsOfPlain(plain, claimed, near);
    const rest = atoms.map((a) => (a.kind === "text" ? a.text : " ")).join("");
    problems.push(...numbersIn(rest, rules).map((p) => `${where}: ${p}`));
    problems.push(...checkNeighbourhood([atoms], near, where));
    for (const c of context.commits)
      if (c.subject.length >= 8 && plain.toLowerCase().includes(c.subject.toLowerCase()))
        problems.push(`${where}: it quotes the subject of commit ${c.sha.slice(0, 7)}; a subject appears only after its commit in the sections`);
  }
  for (const s of parsed.sections) {
    problems.push(...numbersIn(s.heading, rules).map((p) => `heading "${s.heading}": ${p}`));
    problems.push(...checkMarkdown(s.markdown, s.heading, rules));
    problems.push(...checkNeighbourhood(atomsOfMarkdown(s.markdown, near), near, s.heading));
  }
  return [...new Set(problems)];
}
