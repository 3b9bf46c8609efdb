import type { Lang } from "./langs";

/**
 * What a count counts, rendered with it: "42 sessions", "42 Sitzungen", "42 个会话", "42 सत्र". A count fact carries
 * its noun (`Fact.noun`, set by code from its id when the facts are computed: `withCountNoun`), and `formatFact`
 * renders the two together, so a writer never chooses what a count counts; the neighbourhood check refuses any further
 * noun after it (neighbourhood.ts). Facts stored before nouns (no `noun`) render bare, as the templates written for
 * them expect.
 */

export const COUNT_NOUNS = [
  "sessions",
  "ui_events",
  "bench_rows",
  "commits",
  "code_commits",
  "regressions",
  "improvements",
  "events",
  "benchmark_series",
  "series",
  "runs",
  "extra_runs",
  "steps",
] as const;
export type CountNoun = (typeof COUNT_NOUNS)[number];

/** Singular and plural per language (Chinese nouns take their measure word and have no plural). */
const FORMS: Record<CountNoun, Record<Lang, readonly [string, string]>> = {
  sessions: { en: ["session", "sessions"], de: ["Sitzung", "Sitzungen"], zh: ["个会话", "个会话"], hi: ["सत्र", "सत्र"] },
  ui_events: { en: ["UI event", "UI events"], de: ["UI-Ereignis", "UI-Ereignisse"], zh: ["个界面事件", "个界面事件"], hi: ["UI इवेंट", "UI इवेंट"] },
  bench_rows: {
    en: ["benchmark row", "benchmark rows"],
    de: ["Benchmark-Zeile", "Benchmark-Zeilen"],
    zh: ["条基准记录", "条基准记录"],
    hi: ["बेंचमार्क पंक्ति", "बेंचमार्क पंक्तियाँ"],
  },
  commits: { en: ["commit", "commits"], de: ["Commit", "Commits"], zh: ["次提交", "次提交"], hi: ["कमिट", "कमिट"] },
  code_commits: { en: ["code commit", "code commits"], de: ["Code-Commit", "Code-Commits"], zh: ["个代码提交", "个代码提交"], hi: ["कोड कमिट", "कोड कमिट"] },
  regressions: { en: ["regression", "regressions"], de: ["Regression", "Regressionen"], zh: ["个回归", "个回归"], hi: ["रिग्रेशन", "रिग्रेशन"] },
  improvements: { en: ["improvement", "improvements"], de: ["Verbesserung", "Verbesserungen"], zh: ["项改进", "项改进"], hi: ["सुधार", "सुधार"] },
  events: { en: ["event", "events"], de: ["Ereignis", "Ereignisse"], zh: ["个事件", "个事件"], hi: ["घटना", "घटनाएँ"] },
  benchmark_series: {
    en: ["benchmark series", "benchmark series"],
    de: ["Benchmark-Serie", "Benchmark-Serien"],
    zh: ["个基准序列", "个基准序列"],
    hi: ["बेंचमार्क श्रृंखला", "बेंचमार्क श्रृंखलाएँ"],
  },
  series: { en: ["series", "series"], de: ["Serie", "Serien"], zh: ["个序列", "个序列"], hi: ["श्रृंखला", "श्रृंखलाएँ"] },
  runs: { en: ["run", "runs"], de: ["Lauf", "Läufe"], zh: ["次运行", "次运行"], hi: ["रन", "रन"] },
  extra_runs: {
    en: ["extra run", "extra runs"],
    de: ["zusätzlicher Lauf", "zusätzliche Läufe"],
    zh: ["次额外运行", "次额外运行"],
    hi: ["अतिरिक्त रन", "अतिरिक्त रन"],
  },
  steps: { en: ["step", "steps"], de: ["Schritt", "Schritte"], zh: ["步", "步"], hi: ["चरण", "चरण"] },
};

/** Which noun a count fact carries, by its id. A count with no noun here (a position, "step 3") renders bare. */
const BY_ID: [RegExp, CountNoun][] = [
  [/^volume\.sessions$/, "sessions"],
  [/^volume\.events$/, "ui_events"],
  [/^volume\.bench_rows$/, "bench_rows"],
  [/^commits\.(?:hearts|packs)$/, "commits"],
  [/^event\.\d+\.candidates$/, "code_commits"],
  [/^changes\.(?:regressions|open_regressions)$/, "regressions"],
  [/^changes\.improvements$/, "improvements"],
  [/^changes\.events_found$/, "events"],
  [/^detect\.series_tested$/, "benchmark_series"],
  [/^event\.\d+\.(?:series|series_same|median\.series)$/, "series"],
  [/^(?:detect\.min_runs|event\.\d+\.runs_(?:before|after|drifting))$/, "runs"],
  [/^event\.\d+\.bisect\.extra_runs$/, "extra_runs"],
  [/^event\.\d+\.bisect\.(?:steps|steps_total)$/, "steps"],
];

/** The noun a count fact with this id carries, if any. */
export function countNounOf(id: string): CountNoun | undefined {
  return BY_ID.find(([pattern]) => pattern.test(id))?.[1];
}

/** A count fact with its noun set from its id (facts of other units, and counts without one, unchanged). */
export function withCountNoun<F extends { id: string; unit: string; noun?: CountNoun }>(f: F): F {
  if (f.unit !== "count" || f.noun) return f;
  const noun = countNounOf(f.id);
  return noun ? { ...f, noun } : f;
}

/** The noun as it follows a count of `value` in `lang`: singular for exactly one (en, de), else plural. */
export function nounText(noun: CountNoun, lang: Lang, value: number): string {
  const [one, many] = FORMS[noun][lang];
  return Math.abs(value) === 1 ? one : many;
}

/** Every form of every noun, per language: the words a rendered count may end with (lexicon.ts). */
export function allNounForms(): { latin: string[]; han: string[] } {
  const latin = new Set<string>();
  const han = new Set<string>();
  for (const forms of Object.values(FORMS))
    for (const [lang, pair] of Object.entries(forms)) for (const form of pair) for (const word of form.split(/[\s-]+/)) (lang === "zh" ? han : latin).add(word);
  return { latin: [...latin], han: [...han] };
}
