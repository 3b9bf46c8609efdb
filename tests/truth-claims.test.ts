import { describe, expect, it } from "vitest";
import type { Facts } from "../lib/analysis/facts";
import { factsPrompt, systemPrompt } from "../lib/council/llm-writer";
import { writeOffline } from "../lib/council/offline-writer";
import { availableClaims } from "../lib/episode/claims";
import type { EpisodeContent } from "../lib/episode/draft";
import type { Lang } from "../lib/episode/fact";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { verifyTranslation } from "../lib/translate/verify";
import { DRIFT, LOOKBACK_START, RANGE_B, RANGE_FROM, SPREAD, claimsFacts, shapesFacts } from "./helpers/claims-fixture";
import { BUMP, HEARTS, LINKS, PACKS, RUN, fixtureIdentity } from "./helpers/truth-fixture";

/**
 * Truth, round two, items 1 and 6 (issue 26): references that carry their
 * meaning — `{{claim:…}}` sentences written by code in the page's language,
 * counts rendered with their noun — and translations that keep their
 * references sentence by sentence. Every verdict is the council's
 * (renderAndCheck on the template) and the publisher's (checkEpisodeFile on
 * the file the template renders to).
 */

const facts = claimsFacts();
const rules = { titleMaxLength: 300 };
const compose = (content: Parameters<typeof composeEpisode>[0], f: Facts = facts) => composeEpisode(content, f, { runId: RUN, publishThreshold: 0.6 });
const offline = () => compose(writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } }));

function judge(template: EpisodeContent, lang: Lang = "en", f: Facts = facts) {
  const council = renderAndCheck(template, f, { lang, links: LINKS, runId: RUN });
  const fm = buildFrontMatter(f, council.content, claimsOf(council.references, f.facts), {
    ...fixtureIdentity(lang),
    ...(lang === "en" ? {} : { translationOf: "episodes/chimera/ep-001.md" }),
  });
  const file = renderEpisode(fm, council.content.sections);
  return { council: council.problems, publisher: checkEpisodeFile(file, f, { links: LINKS }), rendered: council.content, file };
}

/** The offline episode with `text` as a paragraph of its own at the end of "Why it matters". */
const withParagraph = (text: string): EpisodeContent => {
  const e = offline();
  return { ...e, sections: e.sections.map((s, i) => (i === 1 ? { ...s, markdown: `${s.markdown}\n\n${text}` } : s)) };
};

const CLAIMS_PARAGRAPH =
  "{{claim:event.1}}\n\n**Improvement** ({{fact:event.2.date}}): {{claim:event.2}}\n\n- {{commit:b2c3d4e5f607}}: {{claim:event.2.users}}\n\n{{claim:correlation}}";

describe("claims: sentences written by code, in the page's language", () => {
  it("the facts offer a claim per event, its users and the correlation", () => {
    expect(availableClaims(facts)).toEqual(["event.1", "event.1.users", "event.2", "event.2.users", "correlation"]);
  });

  /** What each language's sentences say, decided by code: direction, nouns, interval, q-value. */
  const SAYS: Record<Lang, RegExp[]> = {
    en: [
      /^p95 latency of `quantization Qwen 1\.5 7B int8 \(wikitext-2, cuda\)` rose from \[100\.2 ms\]\(#fact-event\.1\.before\) to \[141\.5 ms\]\(#fact-event\.1\.after\), a change of \[\+41\.2%\]\(#fact-event\.1\.change_pct\) \(interval \[\+35\.1%\]\(#fact-event\.1\.ci_low_pct\) to \[\+47\.9%\]\(#fact-event\.1\.ci_high_pct\); \[9 runs\]\(#fact-event\.1\.runs_before\) before, \[12 runs\]\(#fact-event\.1\.runs_after\) after; q \[<\u00a00\.001\]\(#fact-event\.1\.q_value\)\)\./m,
      /across the \[4 series\]\(#fact-event\.2\.median\.series\) of throughput that moved with it/,
      /\*\*users felt it\*\*: the mean wait for an answer went from \[512\.3 ms\]/,
      /^Over \[7\]\(#fact-correlation\.days\) days .* moderate negative correlation, r = \[-0\.82\]/m,
    ],
    de: [
      /^Die p95-Latenz von `quantization Qwen 1\.5 7B int8 \(wikitext-2, cuda\)` stieg von \[100,2 ms\]\(#fact-event\.1\.before\) auf \[141,5 ms\]\(#fact-event\.1\.after\), eine Änderung um \[\+41,2\s%\]/m,
      /\[9 Läufe\]\(#fact-event\.1\.runs_before\) davor, \[12 Läufe\]\(#fact-event\.1\.runs_after\) danach; q \[<\u00a00,001\]/,
      /in den \[4 Serien\]\(#fact-event\.2\.median\.series\) \(Durchsatz\)/,
      /\*\*die Nutzer haben es gespürt\*\*/,
      /mit einer mäßigen negativen Korrelation, r = \[-0,82\]/,
    ],
    zh: [
      /^`quantization Qwen 1\.5 7B int8 \(wikitext-2, cuda\)` 的 p95 延迟从 \[100\.2 ms\]\(#fact-event\.1\.before\) 上升到 \[141\.5 ms\]/m,
      /之前 \[9 次运行\]\(#fact-event\.1\.runs_before\)，之后 \[12 次运行\]/,
      /\*\*用户感受到了\*\*：/,
      /呈中等负相关，r = \[-0\.82\]/,
    ],
    hi: [
      /^`quantization Qwen 1\.5 7B int8 \(wikitext-2, cuda\)` की p95 विलंबता \[100\.2 ms\]\(#fact-event\.1\.before\) से बढ़कर \[141\.5 ms\]\(#fact-event\.1\.after\) हो गई/m,
      /पहले \[9 रन\]\(#fact-event\.1\.runs_before\), बाद में \[12 रन\]/,
      /\*\*उपयोगकर्ताओं ने इसे महसूस किया\*\*/,
      /मध्यम नकारात्मक सहसंबंध रहा, r = \[-0\.82\]/,
    ],
  };

  for (const lang of ["en", "de", "zh", "hi"] as const) {
    it(`render in ${lang} and pass the council's and the publisher's checks`, () => {
      const template = withParagraph(CLAIMS_PARAGRAPH);
      const verdict = judge({ ...template, summary: "{{claim:event.1}}" }, lang);
      expect(verdict.council).toEqual([]);
      expect(verdict.publisher).toEqual([]);
      const why = verdict.rendered.sections[1].markdown;
      for (const says of SAYS[lang]) expect(why).toMatch(says);
      // In plain text (the summary): no code, no emphasis, the same sentence.
      expect(verdict.rendered.summary).not.toMatch(/[`*[\]]/);
      expect(verdict.rendered.summary).toContain({ en: "rose from 100.2 ms", de: "stieg von 100,2 ms", zh: "从 100.2 ms 上升到", hi: "100.2 ms से बढ़कर" }[lang]);
      // The front-matter claims list the facts the claims stated.
      expect(verdict.file).toMatch(/id: "event\.2\.users\.q_value"/);
    });
  }

  it("a claim that names nothing the facts can state is refused, with the claims there are", () => {
    const verdict = judge(withParagraph("{{claim:event.9}}"));
    expect(verdict.council.join("\n")).toMatch(/\{\{claim:event\.9\}\} names no claim the facts can state \(claims: \{\{claim:event\.1\}\}, /);
  });

  it("a claim in a heading is refused like any reference", () => {
    const e = offline();
    const verdict = judge({ ...e, sections: e.sections.map((s, i) => (i === 1 ? { ...s, heading: "{{claim:event.1}}" } : s)) });
    expect(verdict.council.join("\n")).toMatch(/a heading holds a reference/);
  });
});

describe("counts render with their noun", () => {
  it("a count fact renders its noun in every language, singular for one", () => {
    const rendered = (lang: Lang) => judge(withParagraph("Data: {{fact:volume.sessions}}, {{fact:commits.packs}}."), lang).rendered.sections[1].markdown;
    expect(rendered("en")).toContain("Data: [42 sessions](#fact-volume.sessions), [1 commit](#fact-commits.packs).");
    expect(rendered("de")).toContain("[42 Sitzungen](#fact-volume.sessions), [1 Commit](#fact-commits.packs)");
    expect(rendered("zh")).toContain("[42 个会话](#fact-volume.sessions)");
    expect(rendered("hi")).toContain("[42 सत्र](#fact-volume.sessions)");
  });

  const SECOND_NOUN: [string, Lang, string, RegExp][] = [
    [
      "another noun",
      "en",
      "Overall {{fact:volume.sessions}} users waited.",
      /"users" follows \{\{fact:volume\.sessions\}\}, which renders its own noun \("42 sessions"\)/,
    ],
    ["its own noun again", "en", "Overall {{fact:volume.sessions}} sessions were recorded.", /"sessions" follows .*renders its own noun/],
    ["a noun that no count counts", "en", "We found {{fact:changes.regressions}} crashes.", /"crashes" follows .*renders its own noun \("1 regression"\)/],
    ["German", "de", "Insgesamt warteten {{fact:volume.sessions}} Nutzer.", /"Nutzer" follows .*renders its own noun \("42 Sitzungen"\)/],
    ["Chinese", "zh", "共有 {{fact:volume.sessions}}用户等待。", /"用户" follows .*renders its own noun/],
    ["Hindi", "hi", "कुल {{fact:volume.sessions}} उपयोगकर्ता रुके।", /"उपयोगकर्ता" follows .*renders its own noun/],
  ];
  for (const [form, lang, text, says] of SECOND_NOUN) {
    it(`refuses a second noun after a count (${form}) in the council and the publisher`, () => {
      const verdict = judge(withParagraph(text), lang);
      expect(verdict.council.join("\n")).toMatch(says);
      expect(verdict.publisher.join("\n")).toMatch(says);
    });
  }

  it("two counts with their nouns are not read as one number; the offline writer writes no noun the count renders", () => {
    const e = offline();
    const bench = e.sections[2].markdown;
    expect(bench).toContain("- Data: {{fact:volume.bench_rows}}, {{fact:volume.events}} in {{fact:volume.sessions}}");
    expect(JSON.stringify(e)).not.toMatch(/\{\{fact:(?:volume\.sessions|commits\.hearts|changes\.regressions)\}\} (?:sessions|commits|regressions?)\b/);
  });
});

describe("the offline writer tells its events with claims", () => {
  it("its episode holds the claims and passes both checks in every language, in one call each", () => {
    const e = offline();
    const text = JSON.stringify(e);
    for (const claim of ["{{claim:event.2}}", "{{claim:event.2.users}}", "{{claim:correlation}}"]) expect(text).toContain(claim);
    for (const lang of ["en", "de", "zh", "hi"] as const) {
      const verdict = judge(e, lang);
      expect(verdict.council, lang).toEqual([]);
      expect(verdict.publisher, lang).toEqual([]);
    }
  });

  it("the LLM is offered the claims first, rendered, and told to prefer them", () => {
    const prompt = factsPrompt(facts, "chimera");
    const payload = JSON.parse(prompt.slice(prompt.indexOf("\n\n{"))) as Record<string, unknown>;
    expect(Object.keys(payload)[0]).toBe("claims");
    expect(payload.claims).toContainEqual({
      ref: "{{claim:event.1}}",
      renders_as:
        "p95 latency of quantization Qwen 1.5 7B int8 (wikitext-2, cuda) rose from 100.2 ms to 141.5 ms, a change of +41.2% (interval +35.1% to +47.9%; 9 runs before, 12 runs after; q <\u00a00.001).",
    });
    expect(systemPrompt("chimera", { maxLength: 80 })).toMatch(/CLAIMS FIRST\..*\{\{claim:event\.1\}\}/);
  });
});

// ---------------------------------------------------------------- drifts and spread changes

const shapes = shapesFacts();
const offlineShapes = () => compose(writeOffline(shapes, { series: "chimera", titleRules: { maxLength: 80 } }), shapes);
/** The offline episode of the shapes fixture with `text` as a paragraph of its own at the end of "Why it matters". */
const withShapes = (text: string): EpisodeContent => {
  const e = offlineShapes();
  return { ...e, sections: e.sections.map((s, i) => (i === 1 ? { ...s, markdown: `${s.markdown}\n\n${text}` } : s)) };
};
const SHAPE_CLAIMS = "{{claim:event.3}}\n\n{{claim:event.4}}\n\n- {{claim:event.5}}\n- {{claim:event.6}}";
/** A linked commit as the markdown shows it. */
const LINKED = (sha: string) => `\\[\`${sha.slice(0, 7)}\`\\]\\(https://github\\.com/acme/banterhearts/commit/${sha}\\)`;

/** What each language's drift and spread sentences say, decided by code: direction, place (or none), nouns, intervals. */
const SHAPE_SAYS: Record<Lang, RegExp[]> = {
  en: [
    new RegExp(
      `^p95 latency of \`quantization llama-3\\.1-8b int8 \\(wikitext-2, cuda\\)\` has been creeping up by \\[\\+0\\.49% per run\\]\\(#fact-event\\.3\\.drift\\.slope_pct_per_run\\) \\(interval \\[\\+0\\.38% per run\\]\\(#fact-event\\.3\\.drift\\.ci_low\\) to \\[\\+0\\.61% per run\\]\\(#fact-event\\.3\\.drift\\.ci_high\\); q \\[<\u00a00\\.001\\]\\(#fact-event\\.3\\.q_value\\)\\) since commit ${LINKED(DRIFT)} \`kernel: fuse attention\`, a change of \\[\\+28\\.8%\\]\\(#fact-event\\.3\\.change_pct\\) over \\[60 runs\\]\\(#fact-event\\.3\\.runs_drifting\\) \\(interval \\[\\+22\\.4%\\]\\(#fact-event\\.3\\.ci_low_pct\\) to \\[\\+36\\.0%\\]\\(#fact-event\\.3\\.ci_high_pct\\)\\)\\.$`,
      "m",
    ),
    new RegExp(
      `^p95 latency of \`quantization Qwen 1\\.5 7B int8 \\(wikitext-2, cuda\\)\` has been noisier since commit ${LINKED(SPREAD)} \`runtime: new allocator\`: its run-to-run noise is \\[2\\.76×\\]\\(#fact-event\\.4\\.spread\\.ratio\\) what it was before \\(interval \\[1\\.72×\\]\\(#fact-event\\.4\\.spread\\.ci_low\\) to \\[4\\.43×\\]\\(#fact-event\\.4\\.spread\\.ci_high\\); \\[62 runs\\]\\(#fact-event\\.4\\.runs_before\\) before, \\[38 runs\\]\\(#fact-event\\.4\\.runs_after\\) after; q \\[<\u00a00\\.001\\]\\(#fact-event\\.4\\.q_value\\)\\), so single runs of it say less than they did\\.$`,
      "m",
    ),
    /^- Mean latency of `quantization Qwen 1\.5 7B int8 \(wikitext-2, cuda\)` has been creeping down by \[-0\.21% per run\]\(#fact-event\.5\.drift\.slope_pct_per_run\) .* since at least \[Aug 1, 2026\]\(#fact-event\.5\.date\), the first run the detector looked at \(it began before and is not blamed on any commit\), a change of \[-20\.8%\]/m,
    new RegExp(
      `^- Throughput of \`throughput llama-3\\.1-8b int8 \\(wikitext-2, cuda\\)\` has been steadier since a commit between ${LINKED(RANGE_FROM)} and ${LINKED(RANGE_B)} \\(\\[2 code commits\\]\\(#fact-event\\.6\\.candidates\\); a change in spread is not bisected\\): its run-to-run noise is \\[0\\.62×\\]`,
      "m",
    ),
  ],
  de: [
    new RegExp(
      `^Die p95-Latenz von \`quantization llama-3\\.1-8b int8 \\(wikitext-2, cuda\\)\` steigt seit Commit ${LINKED(DRIFT)} \`kernel: fuse attention\` schleichend um \\[\\+0,49\\s%\\spro Lauf\\]`,
      "m",
    ),
    /insgesamt \[\+28,8\s%\]\(#fact-event\.3\.change_pct\) über \[60 Läufe\]\(#fact-event\.3\.runs_drifting\)/,
    new RegExp(
      `streut seit Commit ${LINKED(SPREAD)} \`runtime: new allocator\` stärker: das Rauschen von Lauf zu Lauf ist \\[2,76-fach\\]\\(#fact-event\\.4\\.spread\\.ratio\\) so groß wie davor`,
    ),
    /\[62 Läufe\]\(#fact-event\.4\.runs_before\) davor, \[38 Läufe\]\(#fact-event\.4\.runs_after\) danach/,
    /^- Die mittlere Latenz von .* sinkt seit mindestens \[1\. Aug\. 2026\]\(#fact-event\.5\.date\) \(dem ersten Lauf, den der Detektor betrachtet hat; der Rückgang begann davor und wird nicht auf einen Commit zurückgeführt\) schleichend um \[-0,21\s%\spro Lauf\]/m,
    /\(\[2 Code-Commits\]\(#fact-event\.6\.candidates\); eine Änderung der Streuung wird nicht per Bisektion eingegrenzt\) weniger: das Rauschen/,
  ],
  zh: [
    new RegExp(
      `^\`quantization llama-3\\.1-8b int8 \\(wikitext-2, cuda\\)\` 的 p95 延迟自提交 ${LINKED(DRIFT)} \`kernel: fuse attention\` 以来持续上升，\\[每次运行\\+0\\.49%\\]`,
      "m",
    ),
    /，在 \[60 次运行\]\(#fact-event\.3\.runs_drifting\)中累计变化 \[\+28\.8%\]/,
    /以来波动变大：运行间的噪声是之前的 \[2\.76倍\]\(#fact-event\.4\.spread\.ratio\)（区间 \[1\.72倍\]\(#fact-event\.4\.spread\.ci_low\) 至 \[4\.43倍\]/,
    /的 平均延迟至少自 \[2026年8月1日\]\(#fact-event\.5\.date\)（检测器查看的最早运行；它在此之前就已开始，不归因于任何提交）以来持续下降，\[每次运行-0\.21%\]/,
    /之间的某个提交（\[2 个代码提交\]\(#fact-event\.6\.candidates\)；离散度变化不做 bisect）以来波动变小/,
  ],
  hi: [
    new RegExp(
      `^\`quantization llama-3\\.1-8b int8 \\(wikitext-2, cuda\\)\` की p95 विलंबता कमिट ${LINKED(DRIFT)} \`kernel: fuse attention\` से \\[\\+0\\.49% प्रति रन\\]\\(#fact-event\\.3\\.drift\\.slope_pct_per_run\\) की दर से लगातार बढ़ी है`,
      "m",
    ),
    /, \[60 रन\]\(#fact-event\.3\.runs_drifting\) में कुल \[\+28\.8%\]/,
    /की p95 विलंबता कमिट .* से अधिक अस्थिर रही है: रन-दर-रन शोर पहले का \[2\.76 गुना\]\(#fact-event\.4\.spread\.ratio\) है/,
    /की औसत विलंबता \[1 अग॰ 2026\]\(#fact-event\.5\.date\) से \(डिटेक्टर द्वारा देखा गया सबसे शुरुआती रन; यह उससे पहले शुरू हुआ और किसी कमिट पर आरोपित नहीं है\) \[-0\.21% प्रति रन\]\(#fact-event\.5\.drift\.slope_pct_per_run\) की दर से लगातार घटी है/,
    /का थ्रूपुट .* किसी कमिट से \(\[2 कोड कमिट\]\(#fact-event\.6\.candidates\); स्प्रेड बदलाव को bisect नहीं किया जाता\) कम अस्थिर रहा है/,
  ],
};

describe("drift and spread claims: a sentence for each shape, in the page's language", () => {
  it("the facts offer a claim for each drift and spread change (none for their users, who are not asked)", () => {
    const offered = availableClaims(shapes);
    for (const n of [3, 4, 5, 6]) {
      expect(offered).toContain(`event.${n}`);
      expect(offered).not.toContain(`event.${n}.users`);
    }
  });

  for (const lang of ["en", "de", "zh", "hi"] as const) {
    it(`render in ${lang} and pass the council's and the publisher's checks`, () => {
      const verdict = judge({ ...withShapes(SHAPE_CLAIMS), summary: "{{claim:event.4}}" }, lang, shapes);
      expect(verdict.council).toEqual([]);
      expect(verdict.publisher).toEqual([]);
      const why = verdict.rendered.sections[1].markdown;
      for (const says of SHAPE_SAYS[lang]) expect(why).toMatch(says);
      // In plain text (the summary): no code, no emphasis, no commit subject; the same sentence.
      expect(verdict.rendered.summary).not.toMatch(/[`*[\]]/);
      expect(verdict.rendered.summary).not.toContain("runtime: new allocator");
      expect(verdict.rendered.summary).toContain(
        {
          en: "has been noisier since commit e9d8c7b: its run-to-run noise is 2.76× what it was before",
          de: "streut seit Commit e9d8c7b stärker: das Rauschen von Lauf zu Lauf ist 2,76-fach so groß wie davor",
          zh: "自提交 e9d8c7b 以来波动变大：运行间的噪声是之前的 2.76倍",
          hi: "कमिट e9d8c7b से अधिक अस्थिर रही है: रन-दर-रन शोर पहले का 2.76 गुना है",
        }[lang],
      );
      expect(verdict.file).toMatch(/id: "event\.3\.drift\.slope_pct_per_run"/);
      expect(verdict.file).toMatch(/id: "event\.6\.spread\.ci_high"/);
    });
  }

  it("the offline writer tells its drifts and spread changes with their claims, in full and in a line, and its episode passes in every language", () => {
    const e = offlineShapes();
    const changed = e.sections[0].markdown;
    // In full (three series each): the header, then the claim.
    expect(changed).toContain("**A creeping regression** ({{fact:event.3.date}}): {{claim:event.3}}");
    expect(changed).toContain("**Flakier runs, a regression** ({{fact:event.4.date}}): {{claim:event.4}}");
    // In a line (one series each): the claim, then what it is; the drift that began before the runs looked at has no date of its own.
    expect(changed).toContain("- {{claim:event.5}} A drift, improvement.");
    expect(changed).toContain("- {{claim:event.6}} A change in spread ({{fact:event.6.date}}), improvement.");
    // One home for each sentence: the writer writes none of its own for them.
    expect(changed).not.toMatch(/creeping (?:up|down)|run-to-run noise|not blamed on any commit/);
    expect(JSON.stringify(e)).not.toContain(LOOKBACK_START.slice(0, 7));
    for (const lang of ["en", "de", "zh", "hi"] as const) {
      const verdict = judge(e, lang, shapes);
      expect(verdict.council, lang).toEqual([]);
      expect(verdict.publisher, lang).toEqual([]);
      const rendered = verdict.rendered.sections[0].markdown;
      expect(rendered, lang).toMatch(
        { en: /creeping up by \[\+0\.49% per run\]/, de: /steigt seit Commit .* schleichend um/, zh: /以来持续上升，\[每次运行\+0\.49%\]/, hi: /लगातार बढ़ी है/ }[
          lang
        ],
      );
      expect(rendered, lang).toMatch(
        { en: /has been steadier since a commit between/, de: /weniger: das Rauschen/, zh: /以来波动变小/, hi: /कम अस्थिर रहा है/ }[lang],
      );
    }
  });

  /** A direction or judgement word of the writer's next to a claim is judged against the claim's change like any other. */
  const DISAGREES: [string, Lang, string, RegExp][] = [
    [
      "a fall for a drift up",
      "en",
      "It fell: {{claim:event.3}}",
      /"fell" says down, but \{\{fact:event\.3\.drift\.slope_pct_per_run\}\} rose \(\+0\.49% per run\)/,
    ],
    ["a fall for a drift up, in German", "de", "Sie fiel: {{claim:event.3}}", /"fiel" says down, but \{\{fact:event\.3\.drift\.slope_pct_per_run\}\} rose/],
    ["a fall for a drift up, in Chinese", "zh", "它下降了：{{claim:event.3}}", /"下降" says down, but \{\{fact:event\.3\.drift\.slope_pct_per_run\}\} rose/],
    ["a fall for a drift up, in Hindi", "hi", "यह घटी: {{claim:event.3}}", /"घटी" says down, but \{\{fact:event\.3\.drift\.slope_pct_per_run\}\} rose/],
    ["a rise for a drift down", "en", "It rose: {{claim:event.5}}", /"rose" says up, but \{\{fact:event\.5\.drift\.slope_pct_per_run\}\} fell/],
    ["good news for flakier runs", "en", "Good news: {{claim:event.4}}", /"Good" says better, but \{\{fact:event\.4\.spread\.ratio\}\} is a regression/],
    ["steadier for noisier runs", "en", "Steadier now: {{claim:event.4}}", /"Steadier" says down, but \{\{fact:event\.4\.spread\.ratio\}\} rose/],
    ["steadier for noisier runs, in German", "de", "Ruhiger jetzt: {{claim:event.4}}", /"Ruhiger" says down, but \{\{fact:event\.4\.spread\.ratio\}\} rose/],
    ["steadier for noisier runs, in Chinese", "zh", "现在更稳定：{{claim:event.4}}", /"更稳定" says down, but \{\{fact:event\.4\.spread\.ratio\}\} rose/],
  ];
  for (const [form, lang, text, says] of DISAGREES) {
    it(`refuses a direction word that disagrees with a drift or spread claim (${form}) in the council and the publisher`, () => {
      const verdict = judge(withShapes(text), lang, shapes);
      expect(verdict.council.join("\n")).toMatch(says);
      expect(verdict.publisher.join("\n")).toMatch(says);
    });
  }

  it("accepts a direction word that agrees with it", () => {
    const verdict = judge(withShapes("It rose: {{claim:event.3}} It fell: {{claim:event.5}}"), "en", shapes);
    expect(verdict.council).toEqual([]);
    expect(verdict.publisher).toEqual([]);
  });
});

// ---------------------------------------------------------------- translations

const C = (sha: string) => `{{commit:${sha.slice(0, 12)}}}`;
const S = (sha: string) => `{{subject:${sha.slice(0, 12)}}}`;
const LEAD1 = "`quantization Qwen 1.5 7B int8 (wikitext-2, cuda)`";

/** The offline episode's English, fragment by fragment, and an honest translation of each into de, zh and hi. */
const FRAGMENTS: { en: string; de: string; zh: string; hi: string }[] = [
  {
    en: `Chimera: throughput improvement of {{fact:event.2.median_change_pct}} at ${C(BUMP)}`,
    de: `Chimera: Durchsatz-Verbesserung um {{fact:event.2.median_change_pct}} bei ${C(BUMP)}`,
    zh: `Chimera：吞吐量改进 {{fact:event.2.median_change_pct}}，位于 ${C(BUMP)}`,
    hi: `Chimera: थ्रूपुट में {{fact:event.2.median_change_pct}} का सुधार, ${C(BUMP)} पर`,
  },
  {
    en: "{{fact:changes.regressions}} and {{fact:changes.improvements}} in the benchmarks, each tied to its commit; users felt each of the biggest in the overlay.",
    de: "{{fact:changes.regressions}} und {{fact:changes.improvements}} in den Benchmarks, jede an ihren Commit gebunden; die Nutzer haben jede der größten im Overlay gespürt.",
    zh: "基准测试中有 {{fact:changes.regressions}} 和 {{fact:changes.improvements}}，每项都对应其提交；用户在 overlay 中感受到了其中最大的各项变化。",
    hi: "बेंचमार्क में {{fact:changes.regressions}} और {{fact:changes.improvements}}, हर बदलाव अपने कमिट से जुड़ा; उपयोगकर्ताओं ने overlay में सबसे बड़े हर बदलाव को महसूस किया।",
  },
  {
    en: "Between {{fact:window.from}} and {{fact:window.to}}, Banterhearts recorded {{fact:commits.hearts}} and Banterpacks {{fact:commits.packs}}.",
    de: "Zwischen {{fact:window.from}} und {{fact:window.to}} verzeichnete Banterhearts {{fact:commits.hearts}} und Banterpacks {{fact:commits.packs}}.",
    zh: "在 {{fact:window.from}} 至 {{fact:window.to}} 期间，Banterhearts 记录了 {{fact:commits.hearts}}，Banterpacks 记录了 {{fact:commits.packs}}。",
    hi: "{{fact:window.from}} और {{fact:window.to}} के बीच Banterhearts ने {{fact:commits.hearts}} और Banterpacks ने {{fact:commits.packs}} दर्ज किए।",
  },
  {
    en: "New since the last episode — change-point detection over {{fact:detect.series_tested}} (a multiscale scan with a calibrated p-value per series, Benjamini–Hochberg across series, at least {{fact:detect.min_runs}} each side) found {{fact:changes.regressions}} and {{fact:changes.improvements}}, each tied to the code commits between the runs where they changed:",
    de: "Neu seit der letzten Folge — die Change-Point-Erkennung über {{fact:detect.series_tested}} (ein Multiskalen-Scan mit kalibriertem p-Wert je Serie, Benjamini–Hochberg über die Serien, mindestens {{fact:detect.min_runs}} je Seite) fand {{fact:changes.regressions}} und {{fact:changes.improvements}}, jede an die Code-Commits zwischen den Läufen gebunden, bei denen sie sich änderten:",
    zh: "自上期以来的新内容——对 {{fact:detect.series_tested}} 的变点检测（多尺度扫描，每个序列有校准的 p 值，跨序列 Benjamini–Hochberg，每侧至少 {{fact:detect.min_runs}}）发现了 {{fact:changes.regressions}} 和 {{fact:changes.improvements}}，每项都对应其变化所在运行之间的代码提交：",
    hi: "पिछले एपिसोड के बाद से नया — चेंज-पॉइंट पहचान ने {{fact:detect.series_tested}} पर (हर श्रृंखला के लिए कैलिब्रेटेड p-मान वाला मल्टीस्केल स्कैन, श्रृंखलाओं में Benjamini–Hochberg, हर ओर न्यूनतम {{fact:detect.min_runs}}) {{fact:changes.regressions}} और {{fact:changes.improvements}} पाए, हर बदलाव उन रनों के बीच के कोड कमिट से जुड़ा जहाँ वह हुआ:",
  },
  {
    en: `**Improvement at commit ${C(BUMP)} ${S(BUMP)} (bisected from {{fact:event.2.candidates}} in {{fact:event.2.bisect.steps}}, {{fact:event.2.bisect.extra_runs}})** ({{fact:event.2.date}}): {{claim:event.2}} At this place {{fact:event.2.series}} changed, {{fact:event.2.series_same}} of them in the same direction.`,
    de: `**Verbesserung bei Commit ${C(BUMP)} ${S(BUMP)} (per Bisektion eingegrenzt aus {{fact:event.2.candidates}} in {{fact:event.2.bisect.steps}}, {{fact:event.2.bisect.extra_runs}})** ({{fact:event.2.date}}): {{claim:event.2}} An dieser Stelle änderten sich {{fact:event.2.series}}, {{fact:event.2.series_same}} davon in dieselbe Richtung.`,
    zh: `**改进，位于提交 ${C(BUMP)} ${S(BUMP)}（通过 bisect 从 {{fact:event.2.candidates}} 中定位，用了 {{fact:event.2.bisect.steps}}、{{fact:event.2.bisect.extra_runs}}）**（{{fact:event.2.date}}）：{{claim:event.2}} 在此处有 {{fact:event.2.series}} 发生变化，其中 {{fact:event.2.series_same}} 方向相同。`,
    hi: `**कमिट ${C(BUMP)} ${S(BUMP)} पर सुधार ({{fact:event.2.candidates}} में से {{fact:event.2.bisect.steps}} और {{fact:event.2.bisect.extra_runs}} में bisect किया गया)** ({{fact:event.2.date}}): {{claim:event.2}} इस जगह {{fact:event.2.series}} बदलीं, उनमें से {{fact:event.2.series_same}} उसी दिशा में।`,
  },
  {
    en: "Smaller changes, each in few series:",
    de: "Kleinere Änderungen, jede in wenigen Serien:",
    zh: "较小的变化，每项只在少数序列中：",
    hi: "छोटे बदलाव, हर बदलाव कुछ ही श्रृंखलाओं में:",
  },
  {
    en: `- commit ${C(HEARTS)} ${S(HEARTS)} ({{fact:event.1.date}}): p95 latency of ${LEAD1} {{fact:event.1.change_pct}} (interval {{fact:event.1.ci_low_pct}} to {{fact:event.1.ci_high_pct}}), regression, still open`,
    de: `- Commit ${C(HEARTS)} ${S(HEARTS)} ({{fact:event.1.date}}): p95-Latenz von ${LEAD1} {{fact:event.1.change_pct}} (Intervall {{fact:event.1.ci_low_pct}} bis {{fact:event.1.ci_high_pct}}), eine Regression, noch offen`,
    zh: `- 提交 ${C(HEARTS)} ${S(HEARTS)}（{{fact:event.1.date}}）：${LEAD1} 的 p95 延迟 {{fact:event.1.change_pct}}（区间 {{fact:event.1.ci_low_pct}} 至 {{fact:event.1.ci_high_pct}}），回归，仍未解决`,
    hi: `- कमिट ${C(HEARTS)} ${S(HEARTS)} ({{fact:event.1.date}}): ${LEAD1} की p95 विलंबता {{fact:event.1.change_pct}} (अंतराल {{fact:event.1.ci_low_pct}} से {{fact:event.1.ci_high_pct}}), रिग्रेशन, अभी भी खुला`,
  },
  {
    en: "For each change, the Banterpacks overlay in the hours after it against the same hours a week before, beyond the usual week-over-week change of the days before (a placebo test; q-values across every change and user metric). The hours after are counted from the commit time plus the configured deploy lag: Muse has no deploy record of Banterhearts.",
    de: "Für jede Änderung: das Banterpacks-Overlay in den Stunden danach gegen dieselben Stunden eine Woche zuvor, über die übliche Veränderung von Woche zu Woche der Tage davor hinaus (ein Placebo-Test; q-Werte über jede Änderung und Nutzermetrik). Die Stunden danach zählen ab der Commit-Zeit plus der konfigurierten Deploy-Verzögerung: Muse hat keinen Deploy-Eintrag von Banterhearts.",
    zh: "对每个变化，比较其后数小时内的 Banterpacks overlay 与上周的相同时段，并超出此前数天通常的周环比变化（安慰剂检验；q 值覆盖每个变化和用户指标）。之后的小时数从提交时间加上配置的部署延迟算起：Muse 没有 Banterhearts 的部署记录。",
    hi: "हर बदलाव के लिए, उसके बाद के घंटों में Banterpacks overlay की तुलना पिछले हफ़्ते के उन्हीं घंटों से, पहले के दिनों के सामान्य साप्ताहिक बदलाव से परे (प्लेसीबो परीक्षण; हर बदलाव और उपयोगकर्ता मेट्रिक पर q-मान)। बाद के घंटे कमिट के समय और कॉन्फ़िगर किए गए डिप्लॉय विलंब से गिने जाते हैं: Muse के पास Banterhearts का कोई डिप्लॉय रिकॉर्ड नहीं है।",
  },
  {
    en: "In the background, {{claim:correlation}}",
    de: "Im Hintergrund: {{claim:correlation}}",
    zh: "背景中：{{claim:correlation}}",
    hi: "पृष्ठभूमि में: {{claim:correlation}}",
  },
  {
    en: "The confidence score is {{fact:confidence}}, limited by volume.",
    de: "Der Konfidenzwert ist {{fact:confidence}}, begrenzt durch das Datenvolumen.",
    zh: "置信度为 {{fact:confidence}}，受限于数据量。",
    hi: "विश्वास स्कोर {{fact:confidence}} है, डेटा की मात्रा से सीमित।",
  },
  {
    en: "- Mean daily p95 latency (Banterhearts): ",
    de: "- Mittlere tägliche p95-Latenz (Banterhearts): ",
    zh: "- 每日 p95 延迟均值（Banterhearts）：",
    hi: "- दैनिक p95 विलंबता का औसत (Banterhearts): ",
  },
  { en: "- Mean daily throughput: ", de: "- Mittlerer täglicher Durchsatz: ", zh: "- 每日吞吐量均值：", hi: "- दैनिक थ्रूपुट का औसत: " },
  { en: "- Mean cost per 1k tokens: ", de: "- Mittlere Kosten je 1k tokens: ", zh: "- 每 1k tokens 的平均成本：", hi: "- प्रति 1k tokens औसत लागत: " },
  {
    en: "- Mean user-facing latency (Banterpacks): ",
    de: "- Mittlere Latenz für die Nutzer (Banterpacks): ",
    zh: "- 用户侧平均延迟（Banterpacks）：",
    hi: "- उपयोगकर्ताओं को दिखी औसत विलंबता (Banterpacks): ",
  },
  { en: "- Error rate: ", de: "- Fehlerrate: ", zh: "- 错误率：", hi: "- त्रुटि दर: " },
  { en: "- Abandoned queries: ", de: "- Abgebrochene Anfragen: ", zh: "- 放弃的查询：", hi: "- छोड़ी गई क्वेरी: " },
  {
    en: "- Data: {{fact:volume.bench_rows}}, {{fact:volume.events}} in {{fact:volume.sessions}}",
    de: "- Daten: {{fact:volume.bench_rows}}, {{fact:volume.events}} in {{fact:volume.sessions}}",
    zh: "- 数据：{{fact:volume.bench_rows}}、{{fact:volume.events}}，来自 {{fact:volume.sessions}}",
    hi: "- डेटा: {{fact:volume.bench_rows}}, {{fact:volume.events}}, {{fact:volume.sessions}} में",
  },
  { en: "- Models covered: ", de: "- Abgedeckte Modelle: ", zh: "- 覆盖的模型：", hi: "- शामिल मॉडल: " },
  {
    en: `- Open regression in ${LEAD1}: look at ${C(HEARTS)}, then rerun that benchmark to confirm the fix.`,
    de: `- Offene Regression in ${LEAD1}: ${C(HEARTS)} ansehen, dann diesen Benchmark erneut laufen lassen, um die Behebung zu bestätigen.`,
    zh: `- ${LEAD1} 中的未解决回归：查看 ${C(HEARTS)}，然后重新运行该基准以确认修复。`,
    hi: `- ${LEAD1} में खुला रिग्रेशन: ${C(HEARTS)} देखें, फिर सुधार की पुष्टि के लिए वह बेंचमार्क दोबारा चलाएँ।`,
  },
  {
    en: "- Raise the data volume: run the benchmark suite and overlay sessions more often.",
    de: "- Das Datenvolumen erhöhen: die Benchmark-Suite und Overlay-Sitzungen öfter laufen lassen.",
    zh: "- 提高数据量：更频繁地运行基准套件和 overlay 会话。",
    hi: "- डेटा की मात्रा बढ़ाएँ: बेंचमार्क सूट और overlay सत्र अधिक बार चलाएँ।",
  },
  {
    en: "Every number above is computed from ClickHouse (`bench_runs`, `session_stats`, `upstream_commits`, `bench_events`) and listed with its query or method in the front-matter `claims`; each links to its evidence below.",
    de: "Jede Zahl oben wird aus ClickHouse berechnet (`bench_runs`, `session_stats`, `upstream_commits`, `bench_events`) und mit ihrer Abfrage oder Methode im Front-Matter `claims` aufgeführt; jede verlinkt auf ihren Beleg unten.",
    zh: "上面的每个数字都由 ClickHouse（`bench_runs`、`session_stats`、`upstream_commits`、`bench_events`）计算，并连同其查询或方法列在 front-matter `claims` 中；每个都链接到下方的证据。",
    hi: "ऊपर की हर संख्या ClickHouse (`bench_runs`, `session_stats`, `upstream_commits`, `bench_events`) से गणना की गई है और front-matter `claims` में अपनी क्वेरी या विधि के साथ सूचीबद्ध है; हर संख्या नीचे अपने प्रमाण से जुड़ी है।",
  },
  { en: "Council run: ", de: "Council-Lauf: ", zh: "理事会运行：", hi: "काउंसिल रन: " },
];
const HEADINGS: Record<Exclude<Lang, "en">, string[]> = {
  de: ["Was sich geändert hat", "Warum es wichtig ist", "Benchmarks (Zusammenfassung)", "Nächste Schritte", "Links & Artefakte"],
  zh: ["发生了什么变化", "为什么重要", "基准（摘要）", "下一步", "链接与资料"],
  hi: ["क्या बदला", "यह क्यों मायने रखता है", "बेंचमार्क (सारांश)", "अगले कदम", "लिंक और आर्टिफ़ैक्ट"],
};

/** The original translated fragment by fragment; a fragment that is not in the original fails the test (the writer changed). */
function honestTranslation(original: EpisodeContent, lang: Exclude<Lang, "en">): EpisodeContent {
  const all = [original.title, original.summary, ...original.sections.map((s) => s.markdown)].join("\n");
  for (const f of FRAGMENTS) expect(all, `the offline episode no longer has: ${f.en}`).toContain(f.en);
  const tr = (text: string) => FRAGMENTS.reduce((t, f) => t.split(f.en).join(f[lang]), text);
  return {
    title: tr(original.title),
    summary: tr(original.summary),
    sections: original.sections.map((s, i) => ({ heading: HEADINGS[lang][i], markdown: tr(s.markdown) })),
  };
}

describe("translations keep their references sentence by sentence", () => {
  const original = offline();
  const check = (o: EpisodeContent, t: EpisodeContent, lang: Lang) => verifyTranslation(o, t, facts, lang, rules, LINKS, { runId: RUN });

  for (const lang of ["de", "zh", "hi"] as const) {
    it(`an honest ${lang} translation of the offline writer's episode passes, and its file passes the publisher`, () => {
      const translated = honestTranslation(original, lang);
      expect(translated.sections[0].markdown).not.toContain("Between");
      expect(check(original, translated, lang)).toEqual([]);
      const verdict = judge(translated, lang);
      expect(verdict.council).toEqual([]);
      expect(verdict.publisher).toEqual([]);
    });
  }

  /** The original with one more paragraph in "What changed", and a translation with its own version of it. */
  const pair = (en: string, translated: string): [EpisodeContent, EpisodeContent] => {
    const add = (e: EpisodeContent, text: string) => ({
      ...e,
      sections: e.sections.map((s, i) => (i === 0 ? { ...s, markdown: `${s.markdown}\n\n${text}` } : s)),
    });
    return [add(original, en), add(original, translated)];
  };

  it("refuses a German translation that swaps before and after, naming the sentence", () => {
    const [o, t] = pair(
      "p95 latency rose from {{fact:event.1.before}} to {{fact:event.1.after}}. The series is `x`.",
      "Die p95-Latenz fiel von {{fact:event.1.after}} auf {{fact:event.1.before}}. Die Serie ist `x`.",
    );
    expect(check(o, o, "de")).toEqual([]);
    const problems = check(o, t, "de").join("\n");
    expect(problems).toMatch(
      /section 1 \("What changed"\), paragraph 6, sentence 1 \("Die p95-Latenz fiel von \{\{fact:event\.1\.after\}\} auf \{\{fact:event\.1\.before\}\}\."\): it has \{\{fact:event\.1\.after\}\}, \{\{fact:event\.1\.before\}\}, but the original's sentence \("p95 latency rose from/,
    );
  });

  it("refuses a Chinese translation that reorders two references inside a sentence, naming the sentence", () => {
    const [o, t] = pair(
      "The window had {{fact:volume.sessions}} and {{fact:volume.events}}. That is all.",
      "窗口内有 {{fact:volume.events}}，来自 {{fact:volume.sessions}}。就这些。",
    );
    expect(check(o, o, "zh")).toEqual([]);
    const problems = check(o, t, "zh").join("\n");
    expect(problems).toMatch(
      /paragraph 6, sentence 1 \("窗口内有 \{\{fact:volume\.events\}\}，来自 \{\{fact:volume\.sessions\}\}。"\): it has \{\{fact:volume\.events\}\}, \{\{fact:volume\.sessions\}\}/,
    );
  });

  it("refuses a translation that moves a reference into the next sentence, though the order is kept", () => {
    const [o, t] = pair(
      "p95 latency rose from {{fact:event.1.before}} to {{fact:event.1.after}}. The median change was {{fact:event.1.median_change_pct}}.",
      "Die p95-Latenz stieg von {{fact:event.1.before}}. Auf {{fact:event.1.after}} lag die mediane Änderung bei {{fact:event.1.median_change_pct}}.",
    );
    const problems = check(o, t, "de").join("\n");
    expect(problems).not.toMatch(/another order/);
    expect(problems).toMatch(
      /paragraph 6, sentence 1 \("Die p95-Latenz stieg von \{\{fact:event\.1\.before\}\}\."\): it has \{\{fact:event\.1\.before\}\}, but the original's sentence/,
    );
    expect(problems).toMatch(/paragraph 6, sentence 2 .* it has \{\{fact:event\.1\.after\}\}, \{\{fact:event\.1\.median_change_pct\}\}/);
  });

  it("refuses a reference moved into another paragraph", () => {
    const [o, t] = pair("The window had {{fact:volume.sessions}}.\n\nNothing else.", "Das Fenster hatte Sitzungen.\n\nSonst nichts: {{fact:volume.sessions}}.");
    expect(check(o, t, "de").join("\n")).toMatch(
      /paragraph 6 .*it has no reference, but the original's .* has \{\{fact:volume\.sessions\}\}|paragraph 6, sentence 1/,
    );
  });

  it("where a paragraph's sentences are cut differently, its references keep their order", () => {
    const [o, t] = pair(
      "p95 latency rose from {{fact:event.1.before}} to {{fact:event.1.after}}. It is still open.",
      "Die p95-Latenz stieg von {{fact:event.1.before}} auf {{fact:event.1.after}} und ist noch offen.",
    );
    expect(check(o, t, "de")).toEqual([]);
  });

  it("a claim survives translation like any reference: dropped or moved, it is refused", () => {
    const translated = honestTranslation(original, "de");
    const dropped = {
      ...translated,
      sections: translated.sections.map((s) => ({ ...s, markdown: s.markdown.replace("{{claim:event.2.users}}", "die Nutzer haben es gespürt.") })),
    };
    expect(check(original, dropped, "de").join("\n")).toMatch(/\{\{claim:event\.2\.users\}\} appears 0 time\(s\)/);
  });
});

/** The claims in each language, as the report shows them (printed for the record). */
it("prints the claims in every language", () => {
  for (const lang of ["en", "de", "zh", "hi"] as const) {
    const r = renderAndCheck({ title: "", summary: "{{claim:event.1}} {{claim:event.2.users}}", sections: [] }, facts, { lang, links: LINKS, runId: RUN });
    console.log(`${lang}: ${r.content.summary}`);
  }
  expect(PACKS).toBeTruthy();
});
