import { describe, expect, it } from "vitest";
import type { Facts } from "../lib/analysis/facts";
import { writeOffline } from "../lib/council/offline-writer";
import type { EpisodeContent, EpisodeDraft } from "../lib/episode/draft";
import type { Lang } from "../lib/episode/fact";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { verifyTranslation } from "../lib/translate/verify";
import { HEARTS, LINKS, RUN, fixtureFacts, fixtureIdentity } from "./helpers/truth-fixture";

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
    ...fixtureIdentity(lang),
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
  "adjacent references": [
    paragraph("two counts read as 21", "We found {{fact:commits.hearts}}{{fact:commits.packs}} regressions.", /no words between/),
    paragraph("2.1-fold from two counts", "Throughput rose {{fact:commits.hearts}}.{{fact:commits.packs}}-fold.", /no words between/),
    paragraph("a space is not a word", "Runs: {{fact:event.1.runs_before}} {{fact:event.1.runs_after}}.", /no words between/),
  ],
  "a real figure with the wrong noun or unit": [
    paragraph("sessions as regressions", "Overall {{fact:volume.sessions}} regressions reached users.", /"regressions" .*counts? /),
    paragraph("days as weeks", "The window lasted {{fact:window.days}} weeks.", /"weeks" .*unit/),
    paragraph("dollar sign before a count", "The window cost ${{fact:volume.sessions}} in compute.", /"\$" .*unit/),
    paragraph("GB after a count", "Peak memory reached {{fact:volume.sessions}} GB.", /"GB" .*unit/),
    paragraph("lakh after a count", "Some {{fact:volume.sessions}} lakh users waited.", /"lakh" .*unit/),
    paragraph("percentage points after a percentage", "The error rate rose {{fact:packs.error_rate_pct}} percentage points.", /"percentage" .*unit/),
  ],
  "unit and sign slips": [
    paragraph("&nbsp;percent", "{{fact:volume.sessions}}&nbsp;percent of users left.", /"percent" .*unit/),
    paragraph("-percent", "{{fact:volume.sessions}}-percent of users left.", /"percent" .*unit/),
    paragraph("**percent**", "{{fact:volume.sessions}} **percent** of users left.", /"percent" .*unit/),
    paragraph("-fold", "Latency grew {{fact:event.1.series}}-fold.", /"fold" .*unit/),
    paragraph("-second", "Each request took a {{fact:detect.min_runs}}-second pause.", /"second" .*unit/),
    paragraph("Arabic percent sign", "{{fact:volume.sessions}}٪ of users left.", /"٪" .*unit/),
    paragraph("per ten thousand sign", "{{fact:volume.sessions}}‱ of requests failed.", /"‱" .*unit/),
    paragraph("en dash as minus", "p95 latency changed by –{{fact:event.1.change_pct}}.", /sign/),
    paragraph("non-breaking hyphen as minus", "p95 latency changed by \u2011{{fact:event.1.change_pct}}.", /sign/),
    paragraph("full-width hyphen-minus", "p95 latency changed by －{{fact:event.1.change_pct}}.", /sign/),
    paragraph("hyphen and space", "p95 latency changed by - {{fact:event.1.change_pct}}.", /sign/),
  ],
  "number words, with normalisation tricks": [
    paragraph("tenfold", "Throughput grew tenfold.", /number word/),
    paragraph("doubling", "We saw latency doubling.", /number word/),
    paragraph("halve", "The fix will halve latency.", /number word/),
    paragraph("triples", "Cost triples under load.", /number word/),
    paragraph("a fifth", "A fifth of the sessions failed.", /number word/),
    paragraph("a score", "A score of runs timed out.", /number word/),
    paragraph("a couple", "A couple of runs timed out.", /number word/),
    paragraph("order of magnitude", "Latency is an order of magnitude above the target.", /number word/),
    paragraph("no regressions (there is one)", "There were no regressions in this window.", /"no regressions" .*states none/),
    paragraph("Roman numeral XIV", "Run XIV was the slowest.", /Roman numeral/),
    paragraph("Roman numeral sign Ⅻ", "Run Ⅻ was the slowest.", /number|Roman/),
    paragraph("zero-width space inside twice", "Latency is now tw\u200bice as high.", /number word/),
    paragraph("soft hyphen inside twice", "Latency is now tw\u00adice as high.", /number word/),
    paragraph("emphasis splitting twice", "Latency is now tw*ice* as high.", /number word/),
    paragraph("Cyrillic і in twice", "Latency is now tw\u0456ce as high.", /number word/),
  ],
  "title and summary copies": [
    {
      form: "a typed copy of a referenced count in the title",
      draft: () => ({ ...honest(), title: "{{fact:volume.sessions}} sessions, p95 down to 42 ms" }),
      says: /"42" is a number/,
    },
    {
      form: "a typed copy of a referenced count in the summary",
      draft: () => ({ ...honest(), summary: "Across {{fact:volume.sessions}} sessions users waited 42 ms longer." }),
      says: /"42" is a number/,
    },
  ],
  "other channels": [
    paragraph("strikethrough", "~~{{fact:hearts.latency_p95_ms}}~~ is fixed.", /strikethrough/),
    paragraph("a subject presented as a result", `Confirmed by the benchmarks: {{subject:${HEARTS.slice(0, 12)}}}.`, /subject/),
    {
      form: "a subject in the summary",
      draft: () => ({ ...honest(), summary: `The benchmarks confirm {{subject:${HEARTS.slice(0, 12)}}}.` }),
      says: /subject/,
    },
    paragraph("a link wrapped around a figure", "[{{fact:volume.sessions}} users](https://github.com/acme/banterpacks) saw it.", /link/),
  ],
  "true figures framed falsely": [
    paragraph("good news for a regression", "Good news: p95 latency improved by {{fact:event.1.change_pct}}.", /"(Good|improved)" .*regression/),
    paragraph("fell by a rise", "p95 latency fell by {{fact:event.1.change_pct}}.", /"fell" .*rose|"fell" .*\+/),
    paragraph("before and after swapped", "p95 latency dropped from {{fact:event.1.after}} to {{fact:event.1.before}}.", /before .*after|order/),
    paragraph("a q-value as a share of runs", "The regression affected {{fact:event.1.q_value}} of runs.", /q-value|p-value/),
    paragraph("an interval bound as the change", "p95 latency changed by {{fact:event.1.ci_high_pct}}.", /interval/),
    paragraph("the window's mean as the value after the fix", "After the fix, p95 latency is {{fact:hearts.latency_p95_ms}}.", /window/),
    paragraph(
      "a strong correlation whose interval is not",
      "Daily p95 and user latency share a strong correlation, r = {{fact:correlation.latency_user}}.",
      /strong/,
    ),
    paragraph(
      "a positive correlation that is negative",
      "Daily p95 and user latency move with a positive correlation, r = {{fact:correlation.latency_user}}.",
      /positive/,
    ),
    paragraph(
      "another event's commit as the cause",
      "Commit {{commit:b2c3d4e5f607}} caused the change of {{fact:event.1.change_pct}}.",
      /commit b2c3d4e .*event 1/,
    ),
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

  it("a short sha made only of digits is shown with a letter, and typed as a figure it is refused", () => {
    const digits = "1234567089abcdef0123456789abcdef01234567";
    const numeric: Facts = {
      ...facts,
      events: facts.events.map((e) => ({ ...e, commit_sha: digits, candidates: [digits] })),
      commits: { ...facts.commits, hearts: [{ ...facts.commits.hearts[0], sha: digits }, ...facts.commits.hearts.slice(1)] },
      hearts_commits_used: [digits],
    };
    const draft = writeOffline(numeric, { series: "chimera", titleRules: { maxLength: 80 } });
    const clean = judge(compose(draft, numeric), "en", numeric);
    expect(clean.council).toEqual([]);
    expect(clean.publisher).toEqual([]);
    // Wherever the commit is shown, its short form carries a letter: no all-digit token a reader could take for a figure.
    const shown = [clean.rendered.title, ...clean.rendered.sections.map((s) => s.markdown)].join("\n");
    expect(shown).toContain(digits.slice(0, 7));
    expect(shown).not.toMatch(/(?<![0-9a-f])1234567(?![0-9a-f])/);
    const typed = judge(
      compose({ ...draft, sections: { ...draft.sections, why_it_matters: `${draft.sections.why_it_matters}\n\nThe slowest run took 1234567 ms.` } }, numeric),
      "en",
      numeric,
    );
    expect(typed.council.join("\n")).toMatch(/"1234567" is a number/);
    expect(typed.publisher.join("\n")).toMatch(/"1234567" is a number/);
  });
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

  it("refuses before and after swapped (the same multiset of references, another order)", () => {
    // The offline writer states the event as a claim; a writer's own sentence with the pair is what a translation can swap.
    const withPair = translated((m) => `${m}\n\np95 latency rose from {{fact:event.1.before}} to {{fact:event.1.after}}.`);
    const swapped = translated((m) => `${m}\n\nDie p95-Latenz fiel von {{fact:event.1.after}} auf {{fact:event.1.before}}.`);
    expect(verifyTranslation(withPair, withPair, facts, "de", rules, LINKS, { runId: RUN })).toEqual([]);
    const problems = verifyTranslation(withPair, swapped, facts, "de", rules, LINKS, { runId: RUN }).join("\n");
    expect(problems).toMatch(/references stand in another order/);
    expect(problems).toMatch(/\{\{fact:event\.1\.after\}\} stands before \{\{fact:event\.1\.before\}\}: keep the order/);
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

  /** A sentence of the original, and the same sentence translated with a neighbour that changes its meaning. */
  const NEIGHBOURS: [Lang, string, string, RegExp][] = [
    ["de", "The error rate was {{fact:packs.error_rate_pct}}.", "Die Fehlerrate stieg um {{fact:packs.error_rate_pct}} Prozentpunkte.", /unit/],
    ["de", "The window had {{fact:volume.sessions}} sessions.", "Es waren {{fact:volume.sessions}} Nutzer betroffen.", /counts? /],
    ["zh", "The window had {{fact:volume.sessions}} sessions.", "用户达到{{fact:volume.sessions}}万。", /unit/],
    ["zh", "p95 latency changed by {{fact:event.1.change_pct}}.", "p95延迟下降了{{fact:event.1.change_pct}}。", /"下降"/],
    ["hi", "The window had {{fact:volume.sessions}} sessions.", "{{fact:volume.sessions}} लाख उपयोगकर्ता प्रभावित हुए।", /unit/],
    ["hi", "The window had {{fact:volume.sessions}} sessions.", "त्रुटि दर {{fact:volume.sessions}} फ़ीसदी रही।", /unit/],
    ["de", "p95 latency changed by {{fact:event.1.change_pct}}.", "Die p95-Latenz fiel um {{fact:event.1.change_pct}}.", /"fiel" says down/],
    [
      "de",
      "p95 latency changed by {{fact:event.1.change_pct}}.",
      "Gute Nachricht: die p95-Latenz hat sich um {{fact:event.1.change_pct}} verbessert.",
      /says better/,
    ],
    ["hi", "p95 latency changed by {{fact:event.1.change_pct}}.", "p95 विलंबता {{fact:event.1.change_pct}} घटी।", /"घटी" says down/],
    [
      "de",
      "The correlation is r = {{fact:correlation.latency_user}}.",
      "Die Korrelation ist stark und positiv, r = {{fact:correlation.latency_user}}.",
      /"positiv" contradicts/,
    ],
  ];
  for (const [lang, sentence, text, says] of NEIGHBOURS) {
    it(`refuses in ${lang}: ${text}`, () => {
      const withSentence = { ...original, sections: original.sections.map((s, i) => (i === 1 ? { ...s, markdown: `${s.markdown}\n\n${sentence}` } : s)) };
      expect(verifyTranslation(withSentence, withSentence, facts, lang, rules, LINKS, { runId: RUN }), "the original itself passes").toEqual([]);
      const problems = verifyTranslation(withSentence, appended(text), facts, lang, rules, LINKS, { runId: RUN });
      expect(problems.join("\n")).toMatch(says);
      expect(problems.join("\n")).not.toMatch(/not in the original|appears 0 time/);
    });
  }
});
