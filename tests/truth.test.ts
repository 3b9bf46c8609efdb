import { describe, expect, it } from "vitest";
import { writeOffline } from "../lib/council/offline-writer";
import { renderMarkdown } from "../lib/content/markdown";
import type { EpisodeDraft } from "../lib/episode/draft";
import { formatFact } from "../lib/episode/fact";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { LINKS, RUN, fixtureFacts, fixtureIdentity } from "./helpers/truth-fixture";
import { contentPieces, truthContext, verifyProse, type DraftClaim } from "./helpers/legacy-verify";

/**
 * The truth rule by construction (lib/episode): every attack form found
 * against the old value-matching checker, run through the full pipeline —
 * the writer's template is composed, its references rendered, the residual
 * check run — and, to show each form WAS a hole, through the old checker
 * (tests/helpers/legacy-verify.ts) with the site's markdown renderer showing
 * the false number on the page.
 */

const facts = fixtureFacts();
const honest = (): EpisodeDraft => writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } });

/** The whole pipeline on a draft: compose, render the references, run the residual check. */
function pipeline(draft: EpisodeDraft) {
  const template = composeEpisode(draft, facts, { runId: RUN, publishThreshold: 0.6 });
  return renderAndCheck(template, facts, { lang: "en", links: LINKS, runId: RUN });
}

/** The draft with `text` appended to "Why it matters", as a model would write it. */
const attacked = (text: string): EpisodeDraft => {
  const d = honest();
  return { ...d, sections: { ...d.sections, why_it_matters: `${d.sections.why_it_matters}\n\n${text}` } };
};

/** The old checker on old-style prose: `prose` with honest claims of every fact. */
function oldChecker(prose: string) {
  // The old world had no date facts; every other fact is claimed, as an honest old draft would.
  // Its facts were stored rounded to their decimals (123.456 → 123.5), which is what let 124 through.
  const legacyFacts = { ...facts, facts: facts.facts.filter((f) => f.unit !== "date").map((f) => ({ ...f, value: Number(f.value.toFixed(f.decimals)) })) };
  const claims: DraftClaim[] = legacyFacts.facts.map((f) => ({ fact_id: f.id, value: f.value, unit: f.unit }));
  return verifyProse(
    contentPieces({ title: "t", summary: "s", sections: [{ heading: "Why it matters", markdown: prose }] }),
    claims,
    truthContext(legacyFacts),
  );
}

interface Attack {
  form: string;
  /** What the model writes (the new world: its template). */
  template: string;
  /** The same attack in the old world's prose (typed numbers), when it differs. */
  legacy?: string;
  /** The false figure a reader would see. */
  shows: string;
  /** Why the old checker's verdict on this form is not asserted, when it is not. */
  oldNote?: string;
}

const ATTACKS: Attack[] = [
  { form: "link title", template: '[run](https://github.com/acme/banterhearts "p95 was 999 ms")', shows: "p95 was 999 ms" },
  { form: "inline code", template: "The worst run took `999` ms.", shows: "999" },
  { form: "fenced code", template: "```\np95 999 ms\n```", shows: "999" },
  { form: "tilde fence", template: "~~~\np95 999 ms\n~~~", shows: "999" },
  { form: "HTML entities", template: "p95 reached &#x39;&#x39;&#x39; ms.", shows: "999" },
  { form: "issue-style number", template: "Latency peaked at #999 this week.", shows: "#999" },
  { form: "ordered list start", template: "999. runs were slow\n1000. and more", shows: 'start="999"' },
  { form: "quoted commit subject", template: "The commit perf: cut p95 latency to 99 ms changed everything.", shows: "99 ms" },
  { form: "scale suffix B", template: "The model has 1.2B parameters.", shows: "1.2B" },
  { form: "scale suffix G", template: "It used 99G of memory.", shows: "99G" },
  { form: "multiplier x10", template: "Throughput improved x10.", shows: "x10" },
  { form: "exponent", template: "About 1e3 requests failed.", shows: "1e3" },
  { form: "dotted date", template: "Since 01.01.2020 nothing changed.", shows: "01.01.2020" },
  { form: "number word: twice", template: "Latency is now twice as high.", shows: "twice", oldNote: "the old checker did not look at words" },
  { form: "number word: a third", template: "A third of users left.", shows: "third" },
  { form: "number word: forty-two", template: "Forty-two sessions failed.", shows: "Forty-two" },
  { form: "number word: 两倍", template: "延迟是两倍。", shows: "两倍" },
  { form: "Devanagari digits", template: "p95 was ९९९ ms.", shows: "९९९" },
  { form: "full-width digits", template: "p95 was ９９９ ms.", shows: "９９９" },
  { form: "percent on a count", template: "{{fact:volume.sessions}} percent of users felt it.", legacy: "42 percent of users felt it.", shows: "42 percent" },
  { form: "seconds for milliseconds", template: "p95 was {{fact:hearts.latency_p95_ms}} s.", legacy: "p95 was 123.5 s.", shows: "123.5 ms s" },
  { form: "sign flipped", template: "The correlation is r = −{{fact:correlation.latency_user}}.", legacy: "The correlation is r = 0.82.", shows: "0.82" },
  { form: "double rounding", template: "p95 was 124 ms.", shows: "124 ms" },
  { form: "scale word after a fact", template: "We saw {{fact:event.1.series}} million requests.", legacy: "We saw 1 million requests.", shows: "million" },
  {
    form: "forged evidence link",
    template: "p95 was [999 ms](#fact-hearts.latency_p95_ms).",
    shows: "999 ms",
    oldNote: "found here: the old checker rejected it (its digits were prose)",
  },
  {
    form: "remote image",
    template: "![p95 999 ms](https://evil.example/999.png)",
    shows: "evil.example",
    oldNote: "found here: the old checker rejected the alt text's digits, but allowed any remote image",
  },
  {
    form: "raw HTML",
    template: "<b>999</b> ms",
    shows: "999",
    oldNote: "raw HTML is dropped by the site's sanitiser, so the old checker passing it showed nothing",
  },
  {
    form: "footnote label",
    template: "See the note[^999].\n\n[^999]: p95 note",
    shows: "999",
    oldNote: "found here: the old checker rejected the label's digits",
  },
  { form: "unknown fact id", template: "p95 was {{fact:hearts.latency_p99_ms}}.", legacy: "", shows: "", oldNote: "a reference is new syntax" },
];

describe("truth by construction: every attack form is rejected by the full pipeline", () => {
  it("counts agree with their nouns: one regression, two commits", () => {
    const d = honest();
    expect(d.sections.what_changed).toContain("{{fact:changes.regressions}} regression and {{fact:changes.improvements}} improvements");
    expect(d.sections.what_changed).toContain("recorded {{fact:commits.hearts}} commits and Banterpacks {{fact:commits.packs}}.");
  });

  it("the honest offline draft is accepted first time (numeric commit subjects, spaced model names)", () => {
    const result = pipeline(honest());
    expect(result.problems).toEqual([]);
    const links = result.content.sections.at(-1)!.markdown;
    expect(links).toContain("`chore(deps): bump torch 1.2`");
    expect(result.content.sections[0].markdown).toContain("Qwen 1.5 7B");
    // Every figure on the page is an evidence link rendered by the formatter.
    expect(result.content.sections[0].markdown).toContain(`[${formatFact(facts.facts.find((f) => f.id === "event.1.change_pct")!)}](#fact-event.1.change_pct)`);
  });

  for (const attack of ATTACKS) {
    it(`rejects: ${attack.form}`, async () => {
      const result = pipeline(attacked(attack.template));
      expect(result.problems.length, JSON.stringify(result.content.sections[1].markdown)).toBeGreaterThan(0);

      // It was a hole: the old checker accepted the same prose, and the site would have shown the figure.
      if (!attack.oldNote) {
        const legacy = attack.legacy ?? attack.template;
        expect(oldChecker(legacy).problems, `old checker on ${JSON.stringify(legacy)}`).toEqual([]);
        if (attack.form !== "remote image") {
          const html = (await renderMarkdown(legacy)).html;
          const visible = html.replace(/<[^>]*>/g, " ");
          expect(`${html} ${visible}`).toContain(attack.shows.replace(/ ms s$/, " s"));
        }
      }
    });
  }

  it("a file tampered with after the council fails the publisher's check; the untouched file passes", () => {
    const rendered = pipeline(honest());
    const claims = claimsOf(rendered.references, facts.facts);
    const fm = buildFrontMatter(facts, rendered.content, claims, fixtureIdentity());
    const file = renderEpisode(fm, rendered.content.sections);
    expect(checkEpisodeFile(file, facts, { links: LINKS })).toEqual([]);
    const shown = formatFact(facts.facts.find((f) => f.id === "event.1.after")!);
    const forged = file.replace(`[${shown}](#fact-event.1.after)`, "[999.0 ms](#fact-event.1.after)");
    expect(forged).not.toBe(file);
    expect(checkEpisodeFile(forged, facts, { links: LINKS }).join("\n")).toMatch(/evidence link to event\.1\.after shows "999\.0 ms"/);
    const typed = file.replace("## Next steps\n\n", "## Next steps\n\nAlso p95 hit 999 ms.\n");
    expect(checkEpisodeFile(typed, facts, { links: LINKS }).join("\n")).toMatch(/"999" is a number/);
  });
});

describe("one formatter, every locale", () => {
  it("renders the same facts in en, de, zh and hi with the locale's number format", () => {
    const template = composeEpisode(honest(), facts, { runId: RUN, publishThreshold: 0.6 });
    const en = renderAndCheck(template, facts, { lang: "en", links: LINKS, runId: RUN });
    const de = renderAndCheck(template, facts, { lang: "de", links: LINKS, runId: RUN });
    const zh = renderAndCheck(template, facts, { lang: "zh", links: LINKS, runId: RUN });
    const hi = renderAndCheck(template, facts, { lang: "hi", links: LINKS, runId: RUN });
    for (const r of [en, de, zh, hi]) expect(r.problems).toEqual([]);
    const tps = facts.facts.find((f) => f.id === "hearts.tokens_per_sec")!;
    expect(formatFact(tps, "en")).toBe("1,234.5 tokens/s");
    expect(formatFact(tps, "de")).toBe("1.234,5 tokens/s");
    expect(formatFact(tps, "zh")).toBe("1,234.5 tokens/s");
    expect(formatFact(tps, "hi")).toBe("1,234.5 tokens/s");
    expect(formatFact({ value: 123456.5, unit: "count", decimals: 1 }, "hi")).toBe("1,23,456.5");
    expect(formatFact({ value: 1.5, unit: "percent", decimals: 2 }, "de")).toBe("1,50\u00a0%");
    expect(formatFact({ value: 41.2, unit: "percent", decimals: 1, signed: true }, "en")).toBe("+41.2%");
    expect(formatFact({ value: -0.82, unit: "coefficient", decimals: 2 }, "de")).toBe("-0,82");
    // Never rounded to nothing: a p-value below 0.001 is its floor, above it two significant digits (tests/truth-floor.test.ts).
    expect(formatFact({ value: 0.00012, unit: "p_value", decimals: 2 }, "en")).toBe("<\u00a00.001");
    expect(formatFact({ value: 0.0123, unit: "p_value", decimals: 2 }, "de")).toBe("0,012");
    // The same references, in the same places.
    expect(de.references).toEqual(en.references);
    const benchEn = en.content.sections.find((s) => s.heading === "Benchmarks (summary)")!.markdown;
    const benchDe = de.content.sections.find((s) => s.heading === "Benchmarks (summary)")!.markdown;
    expect(benchEn).toContain("[1,234.5 tokens/s](#fact-hearts.tokens_per_sec)");
    expect(benchDe).toContain("[1.234,5 tokens/s](#fact-hearts.tokens_per_sec)");
    // The German file passes the residual check in German (its own number format is what the evidence links show).
    const fm = buildFrontMatter(facts, de.content, claimsOf(de.references, facts.facts), fixtureIdentity("de"));
    expect(checkEpisodeFile(renderEpisode(fm, de.content.sections), facts, { links: LINKS })).toEqual([]);
  });
});
