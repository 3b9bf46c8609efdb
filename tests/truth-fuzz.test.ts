import { describe, expect, it } from "vitest";
import { writeOffline } from "../lib/council/offline-writer";
import { expandClaims } from "../lib/episode/claims";
import type { EpisodeContent } from "../lib/episode/draft";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { REFERENCE_PATTERN } from "../lib/episode/references";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { seededRandom } from "../lib/seed/random";
import { LINKS, RUN, fixtureFacts, fixtureIdentity } from "./helpers/truth-fixture";

/**
 * The neighbourhood fuzzer (issue 26): a real episode — the offline writer's,
 * on the truth fixture — and the text around each of its fact references
 * mutated the ways a dishonest writer would: signs and dashes of every kind
 * before it, units and scale words of each language after it (spaced,
 * hyphenated, emphasised, hidden with ignorables or look-alike letters), a
 * second reference glued on, strikethrough, number words hidden the same
 * ways. Every such mutation changes what the figure says, so every one must
 * be refused — by the council on the template and by the publisher on the
 * file it renders to. Mutations that change nothing a reader sees (spacing)
 * must pass. Deterministic: a seeded generator picks the sample.
 */

const facts = fixtureFacts();
/** Claims expanded into their sentences (lib/episode/claims.ts): the fuzzer mutates around every fact reference, those in a claim's sentence included. */
const expanded = (t: EpisodeContent): EpisodeContent => {
  const expand = (text: string, mode: "markdown" | "plain") => expandClaims(text, facts, { lang: "en", mode, where: "" }).text;
  return {
    title: expand(t.title, "plain"),
    summary: expand(t.summary, "plain"),
    sections: t.sections.map((s) => ({ ...s, markdown: expand(s.markdown, "markdown") })),
  };
};
const honest = expanded(
  composeEpisode(writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } }), facts, { runId: RUN, publishThreshold: 0.6 }),
);

function verdict(template: EpisodeContent) {
  const council = renderAndCheck(template, facts, { lang: "en", links: LINKS, runId: RUN });
  const fm = buildFrontMatter(facts, council.content, claimsOf(council.references, facts.facts), fixtureIdentity());
  return { council: council.problems, publisher: checkEpisodeFile(renderEpisode(fm, council.content.sections), facts, { links: LINKS }) };
}

type Mutation = { name: string; apply: (reference: string) => string };

const before = (name: string, text: string): Mutation => ({ name, apply: (r) => `${text}${r}` });
const after = (name: string, text: string): Mutation => ({ name, apply: (r) => `${r}${text}` });

/** Each changes what the figure says. */
const MEANING: Mutation[] = [
  ...["-", "–", "—", "\u2011", "−", "－", "﹣", "- ", "+", "＋", "±", "~", "≈", "<", "\u00a0-", "-\u200b", "*-*"].map((s) =>
    before(`sign ${JSON.stringify(s)}`, s),
  ),
  before("sign word", "minus "),
  before("currency", "$"),
  before("multiplier", "x"),
  before("Chinese percent prefix", "百分之"),
  ...[
    " percent",
    "&nbsp;percent",
    "\u00a0percent",
    "-percent",
    " **percent**",
    " _percent_",
    " per\u00adcent",
    " p\u200bercent",
    " реrcent",
    "%",
    "٪",
    "‰",
    "‱",
    " pp",
    " percentage points",
    "-fold",
    "x",
    "×",
    " times",
    " ms",
    "-second",
    " s",
    " weeks",
    " GB",
    " k",
    " million",
    " lakh",
    " crore",
    " Prozent",
    " Prozentpunkte",
    " Mio.",
    " Wochen",
    "万",
    "倍",
    "个百分点",
    "毫秒",
    " प्रतिशत",
    " फ़ीसदी",
    " गुना",
    " लाख",
  ].map((s) => after(`unit ${JSON.stringify(s)}`, s)),
  after("glued reference", "{{fact:commits.packs}}"),
  after("glued with a dot", ".{{fact:commits.packs}}"),
  after("glued with a space", " {{fact:commits.packs}}"),
  after("glued with a hyphen", "-{{fact:commits.packs}}"),
  { name: "strikethrough", apply: (r) => `~~${r}~~` },
  ...[" tw\u200bice", " tw*ice*", " tw\u0456ce", " dou\u00adbled", " tenfold", " XIV", " zehnfach", " 翻倍", " डेढ़"].map((s) =>
    after(`number word ${JSON.stringify(s)}`, s),
  ),
];
/** Each changes nothing a reader sees. */
const NEUTRAL: Mutation[] = [before("double space", " "), after("trailing double space", " ")];

/** Every fact reference of the template, as (piece, occurrence) positions. */
function positions(template: EpisodeContent) {
  const pieces = [
    { where: "title" as const, text: template.title },
    { where: "summary" as const, text: template.summary },
    ...template.sections.map((s, i) => ({ where: i, text: s.markdown })),
  ];
  return pieces.flatMap((p) =>
    [...p.text.matchAll(REFERENCE_PATTERN)].filter((m) => m[1] === "fact").map((m) => ({ where: p.where, index: m.index, reference: m[0] })),
  );
}

function mutate(template: EpisodeContent, at: ReturnType<typeof positions>[number], mutation: Mutation): EpisodeContent {
  const edit = (text: string) => `${text.slice(0, at.index)}${mutation.apply(at.reference)}${text.slice(at.index + at.reference.length)}`;
  if (at.where === "title") return { ...template, title: edit(template.title) };
  if (at.where === "summary") return { ...template, summary: edit(template.summary) };
  return { ...template, sections: template.sections.map((s, i) => (i === at.where ? { ...s, markdown: edit(s.markdown) } : s)) };
}

describe("fuzzing the text around every reference of a real episode", () => {
  it("the honest episode passes both checks", () => {
    expect(verdict(honest)).toEqual({ council: [], publisher: [] });
  });

  it("every meaning-changing mutation is refused by the council and the publisher; spacing changes pass", () => {
    const random = seededRandom(26);
    const all = positions(honest);
    expect(all.length).toBeGreaterThan(30);
    let tried = 0;
    const missed: string[] = [];
    // Each mutation at a few positions drawn by the seeded generator, and each position mutated at least once.
    const pairs: [number, Mutation][] = [];
    for (const m of MEANING) for (let k = 0; k < 4; k += 1) pairs.push([Math.floor(random() * all.length), m]);
    all.forEach((_, i) => pairs.push([i, MEANING[Math.floor(random() * MEANING.length)]]));
    let refusedByCouncil = 0;
    let refusedByPublisher = 0;
    for (const [i, m] of pairs) {
      const at = all[i];
      const v = verdict(mutate(honest, at, m));
      tried += 1;
      if (v.council.length > 0) refusedByCouncil += 1;
      if (v.publisher.length > 0) refusedByPublisher += 1;
      if (v.council.length === 0 || v.publisher.length === 0)
        missed.push(`${m.name} at ${at.reference} (${String(at.where)}): council ${v.council.length}, publisher ${v.publisher.length}`);
    }
    let neutralPassed = 0;
    for (const m of NEUTRAL)
      for (const at of all) {
        const v = verdict(mutate(honest, at, m));
        if (v.council.length === 0 && v.publisher.length === 0) neutralPassed += 1;
        else missed.push(`neutral ${m.name} at ${at.reference}: ${[...v.council, ...v.publisher][0]}`);
      }
    console.log(
      `truth fuzz: ${tried} meaning-changing mutations tried, ${refusedByCouncil} refused by the council, ${refusedByPublisher} by the publisher; ${neutralPassed} of ${NEUTRAL.length * all.length} spacing mutations passed`,
    );
    expect(missed).toEqual([]);
    expect(refusedByCouncil).toBe(tried);
    expect(refusedByPublisher).toBe(tried);
    expect(neutralPassed).toBe(NEUTRAL.length * all.length);
  }, 240_000);
});
