import { matchKey } from "./normalise";

/**
 * The small lexicons of the neighbourhood check (neighbourhood.ts): what may
 * not stand next to a reference, in every language an episode is written in
 * (en, de, zh, hi). They are applied whatever the file's language: a writer
 * can mix languages, and a German file that keeps an English word means what
 * the English word means. Latin and Devanagari entries are matched as whole
 * words by `matchKey`; Han entries as substrings (Chinese has no spaces).
 */

const keys = (words: string[]) => new Set(words.map(matchKey));

/** Units, scales, currencies and percent words: a reference renders its own unit, so none of these may follow one. */
export const UNIT_WORDS = keys([
  // en
  "percent",
  "percents",
  "per",
  "pct",
  "percentage",
  "percentages",
  "pp",
  "points",
  "point",
  "bps",
  "basis",
  "ms",
  "msec",
  "millisecond",
  "milliseconds",
  "s",
  "sec",
  "secs",
  "second",
  "seconds",
  "min",
  "mins",
  "minute",
  "minutes",
  "h",
  "hr",
  "hrs",
  "hour",
  "hours",
  "day",
  "days",
  "week",
  "weeks",
  "month",
  "months",
  "year",
  "years",
  "x",
  "times",
  "fold",
  "k",
  "m",
  "b",
  "bn",
  "mn",
  "g",
  "kb",
  "mb",
  "gb",
  "tb",
  "kib",
  "mib",
  "gib",
  "tib",
  "thousand",
  "thousands",
  "million",
  "millions",
  "billion",
  "billions",
  "trillion",
  "lakh",
  "lakhs",
  "crore",
  "crores",
  "dozen",
  "hundred",
  "hundreds",
  "usd",
  "dollar",
  "dollars",
  "cent",
  "cents",
  "eur",
  "euro",
  "euros",
  "tokens",
  "token",
  "rps",
  "qps",
  // de
  "prozent",
  "prozentpunkt",
  "prozentpunkte",
  "prozentpunkten",
  "punkte",
  "mal",
  "fach",
  "fache",
  "millisekunde",
  "millisekunden",
  "sekunde",
  "sekunden",
  "minute",
  "minuten",
  "stunde",
  "stunden",
  "tag",
  "tage",
  "tagen",
  "woche",
  "wochen",
  "monat",
  "monate",
  "monaten",
  "jahr",
  "jahre",
  "jahren",
  "tausend",
  "mio",
  "mrd",
  "millionen",
  "milliarde",
  "milliarden",
  // hi
  "प्रतिशत",
  "फ़ीसदी",
  "फीसद",
  "गुना",
  "गुनी",
  "गुने",
  "मिलीसेकंड",
  "सेकंड",
  "मिनट",
  "घंटा",
  "घंटे",
  "दिन",
  "सप्ताह",
  "हफ़्ते",
  "हफ़्ता",
  "महीने",
  "महीना",
  "साल",
  "वर्ष",
  "हज़ार",
  "लाख",
  "करोड़",
  "अरब",
  "डॉलर",
  "रुपये",
]);
/** Han units, matched at the start of the text after a reference: 个百分点, 倍, 成, 万, 毫秒 … */
export const UNIT_HAN = [
  "个百分点",
  "百分点",
  "百分比",
  "倍",
  "成",
  "毫秒",
  "秒",
  "分钟",
  "小时",
  "天",
  "周",
  "星期",
  "个月",
  "月",
  "年",
  "万",
  "亿",
  "千",
  "百",
  "十",
  "萬",
  "億",
  "美元",
  "元",
];
/** Unit and scale symbols: percent signs of every script, currency, multiplication, per. */
export const UNIT_SIGN = /^[%％٪‰‱°$€£¥₹￥＄¢×✕⨯/]/u;
/** Words for the time units a "days" fact may be followed by: its own noun. */
export const DAY_WORDS = keys(["day", "days", "tag", "tage", "tagen", "दिन"]);
export const DAY_HAN = ["天"];

/** What a count counts, by fact id: the nouns that may follow it (any language). */
const COUNT_NOUNS: { ids: RegExp; nouns: string[]; han: string[] }[] = [
  { ids: /^(?:commits\.\w+|event\.\d+\.candidates)$/, nouns: ["commit", "commits"], han: ["提交", "次提交"] },
  { ids: /^changes\.(?:regressions|open_regressions)$/, nouns: ["regression", "regressions", "regressionen", "रिग्रेशन"], han: ["回归", "退化"] },
  { ids: /^changes\.improvements$/, nouns: ["improvement", "improvements", "verbesserung", "verbesserungen", "सुधार"], han: ["改进", "改善"] },
  {
    ids: /^(?:detect\.series_tested|event\.\d+\.series(?:_same)?|event\.\d+\.median\.series)$/,
    nouns: ["series", "benchmark", "serie", "serien", "reihe", "reihen", "श्रृंखला", "श्रृंखलाएँ", "सीरीज़"],
    han: ["序列", "系列", "基准"],
  },
  {
    ids: /^(?:detect\.min_runs|event\.\d+\.runs_\w+|event\.\d+\.bisect\.extra_runs)$/,
    nouns: ["run", "runs", "lauf", "läufe", "läufen", "रन"],
    han: ["运行", "次运行"],
  },
  { ids: /^event\.\d+\.bisect\.(?:steps|step_now|steps_total)$/, nouns: ["step", "steps", "schritt", "schritte", "schritten", "चरण"], han: ["步"] },
  { ids: /^changes\.events_found$/, nouns: ["event", "events", "change", "changes", "ereignis", "ereignisse", "änderungen", "बदलाव"], han: ["事件", "变化"] },
  { ids: /^volume\.sessions$/, nouns: ["session", "sessions", "sitzung", "sitzungen", "सत्र", "सेशन"], han: ["会话", "个会话"] },
  { ids: /^volume\.events$/, nouns: ["event", "events", "ui", "ereignis", "ereignisse", "ereignissen", "घटना", "घटनाएँ", "इवेंट"], han: ["事件", "个事件"] },
  { ids: /^volume\.bench_rows$/, nouns: ["row", "rows", "benchmark", "zeile", "zeilen", "पंक्ति", "पंक्तियाँ"], han: ["行", "条"] },
];
/** Every noun a count could be taken to count, including ones no fact counts (users, requests): each must be its fact's own. */
export const NOUNS = keys([
  ...COUNT_NOUNS.flatMap((c) => c.nouns),
  "user",
  "users",
  "request",
  "requests",
  "query",
  "queries",
  "error",
  "errors",
  "failure",
  "failures",
  "crash",
  "crashes",
  "model",
  "models",
  "test",
  "tests",
  "people",
  "customers",
  "nutzer",
  "nutzern",
  "benutzer",
  "anfragen",
  "fehler",
  "modelle",
  "उपयोगकर्ता",
  "यूज़र",
  "अनुरोध",
]);
export const NOUNS_HAN = [...COUNT_NOUNS.flatMap((c) => c.han), "用户", "请求", "错误", "模型", "人"];
/** The nouns a count fact may be followed by. */
export function countNounsOf(id: string): { nouns: Set<string>; han: string[] } | undefined {
  const entry = COUNT_NOUNS.find((c) => c.ids.test(id));
  return entry ? { nouns: keys(entry.nouns), han: entry.han } : undefined;
}
/** The count facts a noun stands for, for negated counts ("no regressions"): the noun's total is their sum. */
const NEGATABLE: [string[], string[]][] = [
  [["regression", "regressions", "regressionen"], ["changes.regressions"]],
  [["improvement", "improvements", "verbesserung", "verbesserungen"], ["changes.improvements"]],
  [
    ["change", "changes", "änderung", "änderungen"],
    ["changes.regressions", "changes.improvements"],
  ],
  [
    ["commit", "commits"],
    ["commits.hearts", "commits.packs"],
  ],
  [["session", "sessions", "sitzung", "sitzungen"], ["volume.sessions"]],
];
export function factsCountingNoun(noun: string): string[] | undefined {
  const k = matchKey(noun);
  return NEGATABLE.find(([nouns]) => keys(nouns).has(k))?.[1];
}
/** Words that state a count of nothing before a noun. */
export const NEGATIONS = keys(["no", "zero", "kein", "keine", "keinen", "keiner", "keinem"]);
export const NEGATIONS_HAN = ["没有", "无", "零"];

/** Words that give a figure a sign: before a reference they flip or qualify it. */
export const SIGN_WORDS = keys(["minus", "plus", "negative", "negativ", "माइनस", "प्लस", "ऋण"]);
export const SIGN_HAN = ["负", "正"];
/** Currency and multiplication before a figure. */
export const UNIT_BEFORE = keys(["usd", "us", "eur", "x", "rs", "inr"]);
export const UNIT_BEFORE_HAN = ["百分之", "千分之", "约"];

/** Direction and judgement words, by what they claim. */
export type Claim = "up" | "down" | "better" | "worse";
const DIRECTION: Record<Claim, string[]> = {
  up: [
    // A spread fact's direction is its noise ratio's: noisier is up, steadier down. (Hindi says it with अधिक/कम
    // before one adjective, which a single word cannot capture.)
    "noisier",
    "flakier",
    "unruhiger",
    "verrauschter",
    "rose",
    "rise",
    "rises",
    "rising",
    "risen",
    "increased",
    "increase",
    "increases",
    "increasing",
    "grew",
    "grow",
    "grows",
    "growing",
    "grown",
    "climbed",
    "climbs",
    "jumped",
    "jumps",
    "spiked",
    "surged",
    "soared",
    "higher",
    "stieg",
    "steigt",
    "gestiegen",
    "anstieg",
    "erhöht",
    "erhöhte",
    "höher",
    "wuchs",
    "gewachsen",
    "zugenommen",
    "बढ़ा",
    "बढ़ी",
    "बढ़े",
    "बढ़कर",
    "बढ़ोतरी",
    "वृद्धि",
  ],
  down: [
    "steadier",
    "calmer",
    "quieter",
    "ruhiger",
    "stabiler",
    "gleichmäßiger",
    "fell",
    "fall",
    "falls",
    "falling",
    "fallen",
    "dropped",
    "drop",
    "drops",
    "dropping",
    "decreased",
    "decrease",
    "decreases",
    "declined",
    "declines",
    "shrank",
    "shrunk",
    "sank",
    "plunged",
    "dipped",
    "lower",
    "reduced",
    "fiel",
    "fällt",
    "gefallen",
    "sank",
    "sinkt",
    "gesunken",
    "rückgang",
    "gesenkt",
    "verringert",
    "verringerte",
    "niedriger",
    "abgenommen",
    "घटा",
    "घटी",
    "घटे",
    "घटकर",
    "गिरा",
    "गिरी",
    "गिरावट",
    "कम",
    "कमी",
  ],
  better: [
    "good",
    "great",
    "improved",
    "improve",
    "improves",
    "improvement",
    "better",
    "faster",
    "speedup",
    "gut",
    "gute",
    "guten",
    "verbessert",
    "verbesserte",
    "verbesserung",
    "besser",
    "schneller",
    "बेहतर",
    "सुधरा",
    "सुधरी",
    "तेज़",
  ],
  worse: [
    "bad",
    "regressed",
    "regression",
    "worse",
    "slower",
    "degraded",
    "degradation",
    "slowdown",
    "schlecht",
    "schlechter",
    "verschlechtert",
    "verschlechterte",
    "verschlechterung",
    "langsamer",
    "regression",
    "खराब",
    "ख़राब",
    "धीमा",
    "धीमी",
    "बिगड़ा",
  ],
};
const DIRECTION_HAN: Record<Claim, string[]> = {
  up: ["上升", "增加", "提高", "升高", "增长", "上涨", "升至", "波动变大", "更不稳定"],
  down: ["下降", "减少", "降低", "降至", "下跌", "回落", "缩短", "波动变小", "更稳定", "更平稳"],
  better: ["改善", "改进", "更快", "好消息", "变快", "优化"],
  worse: ["退化", "变慢", "更慢", "恶化", "变差", "回归"],
};
const DIRECTION_KEYS = Object.fromEntries(Object.entries(DIRECTION).map(([claim, words]) => [claim, keys(words)])) as Record<Claim, Set<string>>;
/** Multi-word claims ("down to", "went up"), matched on the text's words. */
const DIRECTION_PHRASES: [RegExp, Claim][] = [
  [/\b(?:went|is|was|are|were) up\b|\bup by\b/, "up"],
  [/\b(?:went|is|was|are|were) down\b|\bdown (?:to|by)\b/, "down"],
];

export interface DirectionWord {
  word: string;
  claim: Claim;
  index: number;
}

/** The direction and judgement words of a piece of text, with their positions. */
export function directionWordsIn(text: string): DirectionWord[] {
  const found: DirectionWord[] = [];
  for (const m of text.matchAll(/[\p{L}\p{M}]+/gu)) {
    const k = matchKey(m[0]);
    for (const claim of Object.keys(DIRECTION_KEYS) as Claim[]) if (DIRECTION_KEYS[claim].has(k)) found.push({ word: m[0], claim, index: m.index });
  }
  const lower = matchKey(text);
  for (const [pattern, claim] of DIRECTION_PHRASES)
    for (const m of lower.matchAll(new RegExp(pattern.source, "g"))) found.push({ word: m[0], claim, index: m.index });
  for (const claim of Object.keys(DIRECTION_HAN) as Claim[])
    for (const w of DIRECTION_HAN[claim]) for (let i = text.indexOf(w); i >= 0; i = text.indexOf(w, i + 1)) found.push({ word: w, claim, index: i });
  return found.sort((a, b) => a.index - b.index);
}

/** Correlation words: polarity and strength. */
export const POLARITY: Record<"positive" | "negative", string[]> = {
  positive: ["positive", "positiv", "positiven", "positiver", "सकारात्मक", "正相关"],
  negative: ["negative", "negativ", "negativen", "negativer", "नकारात्मक", "负相关", "inverse"],
};
export const STRENGTH: Record<"strong" | "moderate" | "weak", string[]> = {
  strong: ["strong", "stark", "starke", "starken", "starker", "मजबूत", "मज़बूत", "强相关", "高度相关"],
  moderate: ["moderate", "mäßig", "mäßige", "mäßigen", "mittlere", "mittleren", "मध्यम", "中等"],
  weak: ["weak", "schwach", "schwache", "schwachen", "कमजोर", "कमज़ोर", "弱相关"],
};

/** Words that tie a figure to a commit's before or after: the window's means are neither. */
export const EVENT_TIME_WORDS = keys(["after", "before", "since", "fix", "fixed", "fixes", "nach", "vor", "seit", "behoben", "बाद", "पहले"]);
export const EVENT_TIME_HAN = ["修复", "之后", "之前", "以后", "以前"];

/** A p-value's own label before it: "p =", "q =", "p-value", "p-Wert", "p值". */
export const P_LABEL = /(?:^|[^\p{L}])([pq])(?:\s*[-‐]?\s*(?:value|wert|值|मान))?\s*[=:<>≤≥]?\s*$/iu;
/** What may not follow a p-value: a share or count of something. */
export const NOT_AFTER_P_VALUE = keys(["of", "der", "des", "von", "का", "की", "के", "में"]);
