import { describe, expect, it } from "vitest";
import type { Facts } from "../lib/analysis/facts";
import { writeOffline } from "../lib/council/offline-writer";
import type { EpisodeContent } from "../lib/episode/draft";
import { LANGS, P_VALUE_FLOOR, formatFact, type Lang } from "../lib/episode/fact";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { verifyTranslation } from "../lib/translate/verify";
import { LINKS, RUN, fixtureFacts, fixtureIdentity } from "./helpers/truth-fixture";

/**
 * p- and q-values as a statistician prints them (issue 27 item 5, docs/truth-rule.md): below 0.001 a floor,
 * "< 0.001", in every language of the site; above it two significant digits; never "0.00", "q = 0" or "7E-6". The
 * floor's "<" is part of the fact's own rendering: the checks accept it there, and still refuse a "<" or "≤" that a
 * writer types before a reference.
 */

const NBSP = "\u00a0";
/** The fixture with event 1's q-value at 1e-9 (a change far beyond any doubt: its digits mean nothing). */
function tinyQ(value = 1e-9): Facts {
  const base = fixtureFacts();
  return {
    ...base,
    facts: base.facts.map((f) => (f.id === "event.1.q_value" ? { ...f, value } : f)),
    events: base.events.map((e) => (e.n === 1 ? { ...e, lead: { ...e.lead, q_value: value } } : e)),
  };
}
const facts = tinyQ();
const Q = "event.1.q_value";
const template = (text: string): EpisodeContent => ({
  title: "Decode latency rose",
  summary: "A regression this week.",
  sections: [{ heading: "What changed", markdown: text }],
});
const problemsOf = (text: string, lang: Lang = "en", f: Facts = facts) => renderAndCheck(template(text), f, { lang, links: LINKS, runId: RUN }).problems;

describe("formatFact: p- and q-values", () => {
  it("renders a p of 1e-9 (and 0, and anything below 0.001) as the floor in every language", () => {
    const floors: Record<Lang, string> = { en: `<${NBSP}0.001`, de: `<${NBSP}0,001`, zh: `<${NBSP}0.001`, hi: `<${NBSP}0.001` };
    for (const lang of LANGS)
      for (const value of [1e-9, 0, 7e-6, 0.00012, 0.000999, P_VALUE_FLOOR - 1e-12])
        expect(formatFact({ value, unit: "p_value", decimals: 2 }, lang), `${lang} ${value}`).toBe(floors[lang]);
  });

  it("keeps two significant digits above the floor, whatever the fact's decimals", () => {
    const shown = (value: number, lang: Lang = "en", decimals = 2) => formatFact({ value, unit: "p_value", decimals }, lang);
    expect([0.001, 0.0012, 0.0123, 0.04, 0.5, 1].map((v) => shown(v))).toEqual(["0.0010", "0.0012", "0.012", "0.040", "0.50", "1.0"]);
    expect(shown(0.0123, "en", 4)).toBe("0.012");
    expect(shown(0.0123, "de")).toBe("0,012");
    expect(shown(0.5, "hi")).toBe("0.50");
  });

  it("never prints scientific notation, a zero or a bare 0.00", () => {
    for (const lang of LANGS)
      for (let e = -15; e <= 0; e += 0.25) {
        const text = formatFact({ value: 10 ** e, unit: "p_value", decimals: 2 }, lang);
        expect(text, `${lang} 1e${e}`).not.toMatch(/E|e[-+]|^0[.,]0+$|^0$/);
      }
  });
});

describe("the floor and the truth rule", () => {
  it('renders "q = {{fact:…}}" at the floor as "q < 0.001": the floor\'s "<" takes the place of the writer\'s "="', () => {
    const r = renderAndCheck(template(`The change held across series (q = {{fact:${Q}}}).`), facts, { lang: "en", links: LINKS, runId: RUN });
    expect(r.problems).toEqual([]);
    expect(r.content.sections[0].markdown).toBe(`The change held across series (q [<${NBSP}0.001](#fact-${Q})).`);
    // Above the floor the writer's "=" stays.
    const above = tinyQ(0.0042);
    const a = renderAndCheck(template(`It held (q = {{fact:${Q}}}).`), above, { lang: "en", links: LINKS, runId: RUN });
    expect(a.problems).toEqual([]);
    expect(a.content.sections[0].markdown).toBe(`It held (q = [0.0042](#fact-${Q})).`);
  });

  it("passes every check of the offline writer's honest episode, through to the publisher's check of the file", () => {
    const draft = writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } });
    const composed = composeEpisode(draft, facts, { runId: RUN, publishThreshold: 0.6 });
    const rendered = renderAndCheck(composed, facts, { lang: "en", links: LINKS, runId: RUN });
    expect(rendered.problems).toEqual([]);
    const all = rendered.content.sections.map((s) => s.markdown).join("\n");
    expect(all).toContain(`q [<${NBSP}0.001](#fact-${Q})`);
    expect(all).not.toMatch(/q = \[</);
    const fm = buildFrontMatter(facts, rendered.content, claimsOf(rendered.references, facts.facts), fixtureIdentity("en"));
    expect(checkEpisodeFile(renderEpisode(fm, rendered.content.sections), facts, { links: LINKS })).toEqual([]);
  });

  it('still refuses a "<", "≤" or "~" a writer types before a reference, floored or not', () => {
    for (const sign of ["<", "≤", "＜", "~", "&lt;"]) {
      expect(problemsOf(`The change held (q ${sign} {{fact:${Q}}}).`).join("\n"), sign).toMatch(/a sign .* stands before \{\{fact:event\.1\.q_value\}\}/);
      expect(problemsOf(`The change held (q ${sign} {{fact:${Q}}}).`, "en", tinyQ(0.02)).join("\n"), `${sign} above`).toMatch(/a sign/);
    }
    // In the title too (a template: the neighbourhood check reads the writer's own text).
    const title = renderAndCheck({ ...template("Nothing else."), title: `A regression at q < {{fact:${Q}}}` }, facts, { lang: "en", links: LINKS, runId: RUN });
    expect(title.problems.join("\n")).toMatch(/a sign \("<"\) stands before/);
    // A writer typing the floor by hand is a typed number.
    expect(problemsOf("The change held (q < 0.001).").join("\n")).toMatch(/"0\.001" is a number that no fact reference rendered/);
  });

  it('refuses a hand-made file whose title puts a second "<" before the floor', () => {
    const draft = writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } });
    const composed = composeEpisode(draft, facts, { runId: RUN, publishThreshold: 0.6 });
    const withQ = { ...composed, title: `A regression (q = {{fact:${Q}}})` };
    const rendered = renderAndCheck(withQ, facts, { lang: "en", links: LINKS, runId: RUN });
    expect(rendered.problems).toEqual([]);
    expect(rendered.content.title).toBe(`A regression (q <${NBSP}0.001)`);
    const fm = buildFrontMatter(facts, rendered.content, claimsOf(rendered.references, facts.facts), fixtureIdentity("en"));
    const file = renderEpisode(fm, rendered.content.sections);
    expect(checkEpisodeFile(file, facts, { links: LINKS })).toEqual([]);
    const tampered = file.replace(`A regression (q <${NBSP}0.001)`, `A regression (q < <${NBSP}0.001)`);
    expect(tampered).not.toBe(file);
    expect(checkEpisodeFile(tampered, facts, { links: LINKS }).join("\n")).toMatch(/a sign \("<"\) stands before/);
  });

  it("keeps the floor in translations: de, zh and hi render it in their own format and pass", () => {
    const original = template(`The change held across series (q = {{fact:${Q}}}).`);
    const translations: Record<Exclude<Lang, "en">, EpisodeContent> = {
      de: {
        title: "Die Latenz stieg",
        summary: "Eine Regression.",
        sections: [{ heading: "Was sich geändert hat", markdown: `Die Änderung hielt (q = {{fact:${Q}}}).` }],
      },
      zh: { title: "延迟上升", summary: "一次回归。", sections: [{ heading: "变化", markdown: `该变化在各序列中成立（q = {{fact:${Q}}}）。` }] },
      hi: { title: "विलंब बढ़ा", summary: "एक रिग्रेशन।", sections: [{ heading: "क्या बदला", markdown: `यह बदलाव बना रहा (q = {{fact:${Q}}})।` }] },
    };
    const floors = { de: `<${NBSP}0,001`, zh: `<${NBSP}0.001`, hi: `<${NBSP}0.001` };
    for (const lang of ["de", "zh", "hi"] as const) {
      expect(verifyTranslation(original, translations[lang], facts, lang, { titleMaxLength: 300 }, LINKS, { runId: RUN }), lang).toEqual([]);
      const r = renderAndCheck(translations[lang], facts, { lang, links: LINKS, runId: RUN });
      expect(r.content.sections[0].markdown, lang).toContain(`q [${floors[lang]}](#fact-${Q})`);
      // A translator's own "<" before the reference is refused as in English.
      const forged = {
        ...translations[lang],
        sections: [{ ...translations[lang].sections[0], markdown: translations[lang].sections[0].markdown.replace("q = ", "q < ") }],
      };
      expect(verifyTranslation(original, forged, facts, lang, { titleMaxLength: 300 }, LINKS, { runId: RUN }).join("\n"), lang).toMatch(/a sign/);
    }
  });
});
