import { describe, expect, it } from "vitest";
import type { Facts } from "../lib/analysis/facts";
import { writeOffline } from "../lib/council/offline-writer";
import type { EpisodeContent, EpisodeDraft } from "../lib/episode/draft";
import type { Lang } from "../lib/episode/fact";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { verifyTranslation } from "../lib/translate/verify";
import { LINKS, RUN, TO, fixtureFacts } from "./helpers/truth-fixture";

/**
 * Truth, round two (issue 26): forms a dishonest writer got through both the
 * council's check (renderAndCheck) and the publisher's (checkEpisodeFile)
 * while writing only with references — the figure is true, its meaning is
 * not. Each form is run through both checks: the council's on the template,
 * the publisher's on the file the template renders to (as if the council had
 * been bypassed). Every one must be refused by both.
 */

const facts = fixtureFacts();
const honest = (): EpisodeDraft => writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } });

/** The template, its council verdict, and the publisher's verdict on the file it renders to. */
function judge(template: EpisodeContent, lang: Lang = "en", f: Facts = facts) {
  const council = renderAndCheck(template, f, { lang, links: LINKS, runId: RUN });
  const fm = buildFrontMatter(f, council.content, claimsOf(council.references, f.facts), {
    series: "chimera",
    episode: 1,
    lang,
    date: new Date(TO),
    runId: RUN,
    writer: { kind: "offline" },
    ...(lang === "en" ? {} : { translationOf: "episodes/chimera/ep-001.md" }),
  });
  const file = renderEpisode(fm, council.content.sections);
  return { council: council.problems, publisher: checkEpisodeFile(file, f, { links: LINKS }), rendered: council.content };
}

const compose = (draft: EpisodeDraft, f: Facts = facts) => composeEpisode(draft, f, { runId: RUN, publishThreshold: 0.6 });
/** The honest draft with `text` as a paragraph of its own in "Why it matters". */
const withParagraph = (text: string): EpisodeDraft => {
  const d = honest();
  return { ...d, sections: { ...d.sections, why_it_matters: `${d.sections.why_it_matters}\n\n${text}` } };
};

interface Form {
  form: string;
  draft: () => EpisodeDraft;
  /** What the council's problem says: the check that is meant to stop the form. */
  says: RegExp;
}

const paragraph = (form: string, text: string, says: RegExp): Form => ({ form, draft: () => withParagraph(text), says });

const CATEGORIES: Record<string, Form[]> = {
  "number words, with normalisation tricks": [
    paragraph("tenfold", "Throughput grew tenfold.", /number word/),
    paragraph("doubling", "We saw latency doubling.", /number word/),
    paragraph("halve", "The fix will halve latency.", /number word/),
    paragraph("triples", "Cost triples under load.", /number word/),
    paragraph("a fifth", "A fifth of the sessions failed.", /number word/),
    paragraph("a score", "A score of runs timed out.", /number word/),
    paragraph("a couple", "A couple of runs timed out.", /number word/),
    paragraph("order of magnitude", "Latency is an order of magnitude above the target.", /number word/),
    paragraph("Roman numeral XIV", "Run XIV was the slowest.", /Roman numeral/),
    paragraph("Roman numeral sign Ⅻ", "Run Ⅻ was the slowest.", /number|Roman/),
    paragraph("zero-width space inside twice", "Latency is now tw\u200bice as high.", /number word/),
    paragraph("soft hyphen inside twice", "Latency is now tw\u00adice as high.", /number word/),
    paragraph("emphasis splitting twice", "Latency is now tw*ice* as high.", /number word/),
    paragraph("Cyrillic і in twice", "Latency is now tw\u0456ce as high.", /number word/),
  ],
};

describe("truth, round two: every form is refused by the council and by the publisher", () => {
  it("the honest offline episode passes both checks, in every language", () => {
    for (const lang of ["en", "de", "zh", "hi"] as const) {
      const verdict = judge(compose(honest()), lang);
      expect(verdict.council, lang).toEqual([]);
      expect(verdict.publisher, lang).toEqual([]);
    }
  });

  for (const [category, forms] of Object.entries(CATEGORIES)) {
    describe(category, () => {
      for (const f of forms) {
        it(`refuses: ${f.form}`, () => {
          const verdict = judge(compose(f.draft()));
          expect(verdict.council.join("\n"), "council").toMatch(f.says);
          expect(verdict.publisher.length, `publisher on ${JSON.stringify(verdict.rendered.sections[1]?.markdown.slice(-160))}`).toBeGreaterThan(0);
        });
      }
    });
  }
});

describe("translations keep the order and the neighbourhood", () => {
  const original = compose(honest());
  const rules = { titleMaxLength: 300 };
  /** The original's template with one section edited, as a translation. */
  const translated = (edit: (markdown: string) => string, section = 0): EpisodeContent => ({
    ...original,
    sections: original.sections.map((s, i) => (i === section ? { ...s, markdown: edit(s.markdown) } : s)),
  });
  const appended = (text: string) => translated((m) => `${m}\n\n${text}`, 1);
  const check = (t: EpisodeContent, lang: Lang) => verifyTranslation(original, t, facts, lang, rules, LINKS, { runId: RUN });

  it("the original's template, as its own translation, passes in de, zh and hi", () => {
    for (const lang of ["de", "zh", "hi"] as const) expect(check(original, lang), lang).toEqual([]);
  });

  const WORDS: [Lang, string][] = [
    ["de", "Der Durchsatz stieg zehnfach."],
    ["de", "Die Latenz verdoppelte sich."],
    ["de", "Ein Dutzend Läufe brach ab."],
    ["de", "Die Latenz ist anderthalb Mal so hoch."],
    ["zh", "延迟翻倍了。"],
    ["zh", "成本减半。"],
    ["zh", "三成用户受到影响。"],
    ["zh", "十分之一的请求失败。"],
    ["zh", "请求达到萬次。"],
    ["zh", "请求达到億次。"],
    ["zh", "延迟是兩倍。"],
    ["zh", "延迟增加了壹倍。"],
    ["hi", "विलंबता डेढ़ गुना हुई।"],
    ["hi", "लागत ढाई गुना हुई।"],
    ["hi", "एक दर्जन रन विफल हुए।"],
    ["hi", "तेरह रन विफल हुए।"],
    ["hi", "पैंतालीस रन विफल हुए।"],
    ["hi", "निन्यानवे रन धीमे थे।"],
  ];
  for (const [lang, text] of WORDS) {
    it(`refuses the ${lang} number word in "${text}"`, () => {
      expect(check(appended(text), lang).join("\n")).toMatch(/number|numeral/);
    });
  }
});
