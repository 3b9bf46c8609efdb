import type { ChangeEvent, Facts } from "../analysis/facts";
import type { Fact, Lang } from "./fact";
import { countNounOf, nounText } from "./nouns";
import { codeSpan } from "./references";

/**
 * CLAIMS: whole sentences, written by code. A writer who refers to a fact
 * (`{{fact:event.1.change_pct}}`) still chooses the words around it; a writer
 * who writes `{{claim:event.1}}` chooses nothing but where the sentence
 * stands. The claim is resolved from the same computed facts, in the page's
 * language, as a template of fact references in code-written words —
 * "p95 latency of `llama-3.1-8b int4` rose from {{fact:event.1.before}} to
 * {{fact:event.1.after}}, a change of {{fact:event.1.change_pct}} (interval
 * … to …; … before, … after; q = …)." — so its numbers go through the one
 * formatter and every check (residual, neighbourhood) reads it like any other
 * sentence. Claims a template may hold:
 *
 * - `{{claim:event.<n>}}`: the event's change — what moved, which way, from
 *   what to what, by how much, its interval, runs and q-value; one sentence
 *   function per event shape (EVENT_SENTENCES: a step, a median across
 *   series, a drift by its slope per run since its commit — or since at least
 *   the first run looked at, blaming none —, a spread change by its noise
 *   after / before; a new shape adds its own);
 * - `{{claim:event.<n>.users}}`: whether users felt it, with the user-side
 *   change, its interval and q-value, and the error rate;
 * - `{{claim:correlation}}`: the hearts↔users correlation with its strength
 *   and sign in words decided from r and its interval.
 *
 * A claim renders as a complete sentence (its closing mark included),
 * capitalised where it starts one. Translations keep `{{claim:…}}` as they
 * keep every reference (lib/translate/verify.ts) and it renders in their
 * language.
 */

export const CLAIM_PATTERN = /\{\{\s*claim\s*:\s*([^{}\s]+?)\s*\}\}/g;

export interface ClaimOptions {
  lang: Lang;
  /** markdown: identifiers in code, emphasis; plain: text only (title, summary). */
  mode: "markdown" | "plain";
  /** What "strong" means for the correlation (MUSE_CHIMERA_MIN_CORRELATION). */
  strongCorrelation?: number;
}

/** What a claim's sentence function may use: fact references and code-written words in one language. */
interface Writer {
  lang: Lang;
  has: (...ids: string[]) => boolean;
  fact: (id: string) => Fact | undefined;
  /** `{{fact:<id>}}`. */
  ref: (id: string) => string;
  /** A count with its noun: the reference, and the noun in words when the fact does not render its own. */
  count: (id: string) => string;
  /** An identifier: a code span in markdown, as it is in plain text. */
  code: (text: string) => string;
  strong: (text: string) => string;
  /** markdown (a section) or plain text (title, summary): a commit's subject is said in markdown only. */
  markdown: boolean;
  strongCorrelation: number;
}

const END: Record<Lang, string> = { en: ".", de: ".", zh: "。", hi: "।" };

// ---------------------------------------------------------------- metrics

interface MetricWords {
  /** English, as a subject. */
  en: string;
  /** German with its article (nominative), and bare. */
  de: [string, string];
  zh: string;
  /** Hindi, and whether it is feminine (the verb agrees). */
  hi: [string, boolean];
}

const METRICS: Record<string, MetricWords> = {
  latency_p95_ms: { en: "p95 latency", de: ["die p95-Latenz", "p95-Latenz"], zh: "p95 延迟", hi: ["p95 विलंबता", true] },
  latency_mean_ms: { en: "mean latency", de: ["die mittlere Latenz", "mittlere Latenz"], zh: "平均延迟", hi: ["औसत विलंबता", true] },
  tokens_per_sec: { en: "throughput", de: ["der Durchsatz", "Durchsatz"], zh: "吞吐量", hi: ["थ्रूपुट", false] },
  memory_peak_mb: { en: "peak memory", de: ["der Spitzenspeicher", "Spitzenspeicher"], zh: "峰值内存", hi: ["पीक मेमोरी", true] },
  latency_p99_ms: { en: "p99 latency", de: ["die p99-Latenz", "p99-Latenz"], zh: "p99 延迟", hi: ["p99 विलंबता", true] },
  accuracy: { en: "accuracy", de: ["die Genauigkeit", "Genauigkeit"], zh: "准确率", hi: ["सटीकता", true] },
  loss: { en: "loss", de: ["der Loss", "Loss"], zh: "损失", hi: ["लॉस", false] },
};

/** Hindi "of" before a metric: it agrees with the metric's gender (की विलंबता, का थ्रूपुट). */
const hiOf = (m: MetricWords) => (m.hi[1] ? "की" : "का");

/** A metric's words; one without a name is shown as its identifier, in code. */
function metricWords(metric: string, w: Writer): MetricWords {
  const known = METRICS[metric];
  if (known) return known;
  const c = w.code(metric);
  return { en: c, de: [`die Metrik ${c}`, `Metrik ${c}`], zh: c, hi: [`मेट्रिक ${c}`, true] };
}

// ---------------------------------------------------------------- events

type EventSentence = (e: ChangeEvent, w: Writer) => string | undefined;

/** "(a; b; c)" of the parts that exist, in each language's brackets. */
function aside(parts: (string | false | undefined)[], lang: Lang, separator = lang === "zh" ? "；" : "; "): string {
  const present = parts.filter((p): p is string => Boolean(p));
  if (present.length === 0) return "";
  return lang === "zh" ? `（${present.join(separator)}）` : ` (${present.join(separator)})`;
}

/** The interval of two facts, lower end first, in words. */
function interval(w: Writer, low: string, high: string, label = true): string | undefined {
  if (!w.has(low, high)) return undefined;
  const [lo, hi] = [w.ref(low), w.ref(high)];
  switch (w.lang) {
    case "de":
      return `${label ? "Intervall " : ""}${lo} bis ${hi}`;
    case "zh":
      return `${label ? "区间 " : ""}${lo} 至 ${hi}`;
    case "hi":
      return `${label ? "अंतराल " : ""}${lo} से ${hi}`;
    default:
      return `${label ? "interval " : ""}${lo} to ${hi}`;
  }
}

/** The runs on each side of the change. */
function runs(w: Writer, k: string): string | undefined {
  if (!w.has(`${k}.runs_before`, `${k}.runs_after`)) return undefined;
  const [b, a] = [w.count(`${k}.runs_before`), w.count(`${k}.runs_after`)];
  switch (w.lang) {
    case "de":
      return `${b} davor, ${a} danach`;
    case "zh":
      return `之前 ${b}，之后 ${a}`;
    case "hi":
      return `पहले ${b}, बाद में ${a}`;
    default:
      return `${b} before, ${a} after`;
  }
}

const qValue = (w: Writer, id: string) => (w.has(id) ? `q = ${w.ref(id)}` : undefined);

/**
 * The lead series' move: "rose from A to B, a change of C", per language, with what follows it in brackets. Hindi's
 * verb agrees with the subject: the metric's gender, or `feminine` when the subject is a series (श्रृंखला).
 */
function leadMove(e: ChangeEvent, w: Writer, subject: string, details: (string | undefined)[], feminine?: boolean): string | undefined {
  const k = `event.${e.n}`;
  if (!w.has(`${k}.before`, `${k}.after`, `${k}.change_pct`)) return undefined;
  const up = e.lead.change_pct > 0;
  const [before, after, change] = [w.ref(`${k}.before`), w.ref(`${k}.after`), w.ref(`${k}.change_pct`)];
  const rest = aside(details, w.lang);
  const m = metricWords(e.lead.metric, w);
  switch (w.lang) {
    case "de":
      return `${subject} ${up ? "stieg" : "fiel"} von ${before} auf ${after}, eine Änderung um ${change}${rest}`;
    case "zh":
      return `${subject}从 ${before} ${up ? "上升" : "下降"}到 ${after}，变化 ${change}${rest}`;
    case "hi":
      return `${subject} ${before} से ${up ? "बढ़कर" : "घटकर"} ${after} ${(feminine ?? m.hi[1]) ? "हो गई" : "हो गया"}, ${change} का बदलाव${rest}`;
    default:
      return `${subject} ${up ? "rose" : "fell"} from ${before} to ${after}, a change of ${change}${rest}`;
  }
}

/** A step in one series (or an event told by its lead series): the lead's move with its interval, runs and q-value. */
const stepSentence: EventSentence = (e, w) => {
  const k = `event.${e.n}`;
  const m = metricWords(e.lead.metric, w);
  const label = w.code(e.lead.label);
  const subject = { en: `${m.en} of ${label}`, de: `${m.de[0]} von ${label}`, zh: `${label} 的 ${m.zh}`, hi: `${label} ${hiOf(m)} ${m.hi[0]}` }[w.lang];
  return leadMove(e, w, subject, [interval(w, `${k}.ci_low_pct`, `${k}.ci_high_pct`), runs(w, k), qValue(w, `${k}.q_value`)]);
};

/** An event across several series: the median change with its interval, then its largest series' move. */
const medianSentence: EventSentence = (e, w) => {
  const k = `event.${e.n}`;
  if (!w.has(`${k}.median_change_pct`, `${k}.median.series`)) return stepSentence(e, w);
  const m = metricWords(e.lead.metric, w);
  const label = w.code(e.lead.label);
  const [series, median] = [w.count(`${k}.median.series`), w.ref(`${k}.median_change_pct`)];
  const ci = aside([interval(w, `${k}.median.ci_low_pct`, `${k}.median.ci_high_pct`)], w.lang);
  const details = [runs(w, k), qValue(w, `${k}.q_value`)];
  switch (w.lang) {
    case "de": {
      const lead = leadMove(e, w, `die größte davon, ${label},`, details);
      return lead && `in den ${series} (${m.de[1]}), die sich mit ihm bewegten, lag die mediane Änderung bei ${median}${ci}; ${lead}`;
    }
    case "zh": {
      const lead = leadMove(e, w, `其中最大的 ${label} `, details);
      return lead && `在随之变化的 ${series}（${m.zh}）中，变化中位数为 ${median}${ci}；${lead}`;
    }
    case "hi": {
      const lead = leadMove(e, w, `उनमें सबसे बड़ी, ${label},`, details, true);
      return lead && `इसके साथ बदली ${series} (${m.hi[0]}) में माध्यिका बदलाव ${median} रहा${ci}; ${lead}`;
    }
    default: {
      const lead = leadMove(e, w, `the largest of them, ${label},`, details);
      return lead && `across the ${series} of ${m.en} that moved with it, the median change was ${median}${ci}; ${lead}`;
    }
  }
};

// ---------------------------------------------------------------- drifts and spread changes

/** `{{commit:<sha>}}` (twelve characters, as the writers write it). */
const commitRef = (sha: string) => `{{commit:${sha.slice(0, 12)}}}`;

/**
 * Since when a drift or a spread change holds, per language: since its commit (with its subject, in markdown), since a
 * commit of its range (not bisected), since the runs of the same code — or, a drift that began before the first run
 * the detector looked at, since at least that run's date, blaming no commit. Undefined when the facts cannot say it.
 */
function since(e: ChangeEvent, w: Writer): string | undefined {
  const k = `event.${e.n}`;
  const drift = e.shape === "drift";
  if (e.attribution === "window") {
    if (!w.has(`${k}.date`)) return undefined;
    const date = w.ref(`${k}.date`);
    // What began before, in German by its direction ("Anstieg" / "Rückgang", as the neighbourhood check reads them).
    const began = drift ? (e.lead.change_pct > 0 ? "der Anstieg" : "der Rückgang") : "die Änderung";
    return {
      en: `since at least ${date}, the first run the detector looked at (it began before and is not blamed on any commit)`,
      de: `seit mindestens ${date} (dem ersten Lauf, den der Detektor betrachtet hat; ${began} begann davor und wird nicht auf einen Commit zurückgeführt)`,
      zh: `至少自 ${date}（检测器查看的最早运行；它在此之前就已开始，不归因于任何提交）以来`,
      hi: `${date} से (डिटेक्टर द्वारा देखा गया सबसे शुरुआती रन; यह उससे पहले शुरू हुआ और किसी कमिट पर आरोपित नहीं है)`,
    }[w.lang];
  }
  if (e.attribution === "exact") {
    const c = `${commitRef(e.commit_sha)}${w.markdown && e.subject ? ` {{subject:${e.commit_sha.slice(0, 12)}}}` : ""}`;
    return { en: `since commit ${c}`, de: `seit Commit ${c}`, zh: `自提交 ${c} 以来`, hi: `कमिट ${c} से` }[w.lang];
  }
  const [from, to] = [e.range_from_sha && commitRef(e.range_from_sha), commitRef(e.candidates.at(-1) ?? e.commit_sha)];
  if (e.attribution === "no_code") {
    return {
      en: `since the runs ${from ? `between ${from} and ${to}` : `up to ${to}`}, which measured the same code`,
      de: `seit den Läufen ${from ? `zwischen ${from} und ${to}` : `bis ${to}`}, die denselben Code gemessen haben`,
      zh: `自${from ? ` ${from} 与 ${to} 之间` : ` ${to} 及之前`}的运行（测量的是同一份代码）以来`,
      hi: `${from ? `${from} और ${to} के बीच` : `${to} तक`} के रनों से (जिन्होंने वही कोड मापा)`,
    }[w.lang];
  }
  // A range: drifts and spread changes are never bisected (docs/change-points.md).
  const count = w.has(`${k}.candidates`) ? w.count(`${k}.candidates`) : undefined;
  const note = {
    en: `a ${drift ? "drift" : "change in spread"} is not bisected`,
    de: `${drift ? "eine Drift" : "eine Änderung der Streuung"} wird nicht per Bisektion eingegrenzt`,
    zh: `${drift ? "漂移" : "离散度变化"}不做 bisect`,
    hi: `${drift ? "ड्रिफ्ट" : "स्प्रेड बदलाव"} को bisect नहीं किया जाता`,
  }[w.lang];
  const why = aside([count, note], w.lang);
  return {
    en: `since a commit ${from ? `between ${from} and ${to}` : `up to ${to}`}${why}`,
    de: `seit einem Commit ${from ? `zwischen ${from} und ${to}` : `bis ${to}`}${why}`,
    zh: `自${from ? ` ${from} 与 ${to} 之间` : ` ${to} 及之前`}的某个提交${why}以来`,
    hi: `${from ? `${from} और ${to} के बीच` : `${to} तक`} किसी कमिट से${why}`,
  }[w.lang];
}

/**
 * A drift: the lead series creeping up or down by its slope per run (interval, q-value) since its place, and the
 * change over the runs it drifted (interval). The direction is the lead's change (as the neighbourhood check judges
 * it: the slope goes the way of the change over the stretch).
 */
const driftSentence: EventSentence = (e, w) => {
  const k = `event.${e.n}`;
  if (!w.has(`${k}.drift.slope_pct_per_run`, `${k}.drift.ci_low`, `${k}.drift.ci_high`)) return undefined;
  const from = since(e, w);
  if (from === undefined) return undefined;
  const up = e.lead.change_pct > 0;
  const m = metricWords(e.lead.metric, w);
  const label = w.code(e.lead.label);
  const slope = w.ref(`${k}.drift.slope_pct_per_run`);
  const details = aside([interval(w, `${k}.drift.ci_low`, `${k}.drift.ci_high`), qValue(w, `${k}.q_value`)], w.lang);
  const total = w.has(`${k}.change_pct`, `${k}.runs_drifting`)
    ? { change: w.ref(`${k}.change_pct`), runs: w.count(`${k}.runs_drifting`), ci: aside([interval(w, `${k}.ci_low_pct`, `${k}.ci_high_pct`)], w.lang) }
    : undefined;
  switch (w.lang) {
    case "de":
      return `${m.de[0]} von ${label} ${up ? "steigt" : "sinkt"} ${from} schleichend um ${slope}${details}${total ? `, insgesamt ${total.change} über ${total.runs}${total.ci}` : ""}`;
    case "zh":
      return `${label} 的 ${m.zh}${from}持续${up ? "上升" : "下降"}，${slope}${details}${total ? `，在 ${total.runs}中累计变化 ${total.change}${total.ci}` : ""}`;
    case "hi": {
      const verb = m.hi[1] ? (up ? "बढ़ी" : "घटी") : up ? "बढ़ा" : "घटा";
      return `${label} ${hiOf(m)} ${m.hi[0]} ${from} ${slope} की दर से लगातार ${verb} है${details}${total ? `, ${total.runs} में कुल ${total.change}${total.ci}` : ""}`;
    }
    default:
      // "a change of" keeps the change apart from the commit before it (a sha and a figure with no words between read as one).
      return `${m.en} of ${label} has been creeping ${up ? "up" : "down"} by ${slope}${details} ${from}${total ? `, a change of ${total.change} over ${total.runs}${total.ci}` : ""}`;
  }
};

/**
 * A change in spread: the lead series noisier or steadier since its place, its run-to-run noise as a multiple of what
 * it was before (interval; runs on each side; q-value), and for more noise what that means for a single run.
 */
const spreadSentence: EventSentence = (e, w) => {
  const k = `event.${e.n}`;
  if (!w.has(`${k}.spread.ratio`, `${k}.spread.ci_low`, `${k}.spread.ci_high`)) return undefined;
  const from = since(e, w);
  if (from === undefined) return undefined;
  // More noise is a rise of the ratio above one: the lead's change is (ratio − 1) in percent.
  const noisier = e.lead.change_pct > 0;
  const m = metricWords(e.lead.metric, w);
  const label = w.code(e.lead.label);
  const ratio = w.ref(`${k}.spread.ratio`);
  const details = aside([interval(w, `${k}.spread.ci_low`, `${k}.spread.ci_high`), runs(w, k), qValue(w, `${k}.q_value`)], w.lang);
  switch (w.lang) {
    case "de":
      return `${m.de[0]} von ${label} streut ${from} ${noisier ? "stärker" : "weniger"}: das Rauschen von Lauf zu Lauf ist ${ratio} so groß wie davor${details}${noisier ? ", einzelne Läufe sagen also weniger aus als zuvor" : ""}`;
    case "zh":
      return `${label} 的 ${m.zh}${from}波动${noisier ? "变大" : "变小"}：运行间的噪声是之前的 ${ratio}${details}${noisier ? "，因此单次运行能说明的不如以前" : ""}`;
    case "hi":
      return `${label} ${hiOf(m)} ${m.hi[0]} ${from} ${noisier ? "अधिक" : "कम"} अस्थिर ${m.hi[1] ? "रही" : "रहा"} है: रन-दर-रन शोर पहले का ${ratio} है${details}${noisier ? ", इसलिए अलग-अलग रन अब पहले जितना नहीं बताते" : ""}`;
    default:
      return `${m.en} of ${label} has been ${noisier ? "noisier" : "steadier"} ${from}: its run-to-run noise is ${ratio} what it was before${details}${noisier ? ", so single runs of it say less than they did" : ""}`;
  }
};

/**
 * The sentence of each event shape: a step told by its lead series or by the median across its series, a drift by its
 * slope per run, a spread change by its noise ratio. A new shape adds its function here and its case to `shapeOf`; an
 * event of a shape without a sentence has no `{{claim:event.<n>}}`.
 */
const EVENT_SENTENCES: Record<string, EventSentence> = {
  step: stepSentence,
  median: medianSentence,
  drift: driftSentence,
  spread: spreadSentence,
};

/** The event's shape as its sentence tells it: a drift, a spread change, or a step told by its lead series or by the median across its series. */
function shapeOf(e: ChangeEvent, w: Writer): string {
  const shape = e.shape ?? "step";
  if (shape !== "step") return shape;
  return e.median_series > 1 && w.has(`event.${e.n}.median.ci_low_pct`) ? "median" : "step";
}

/** Whether users felt the event: the verdict, the user-side change with its interval and q-value, the error rate. */
function usersSentence(e: ChangeEvent, w: Writer): string {
  const k = `event.${e.n}.users`;
  const u = e.users;
  if (!u || !u.measurable || !w.has(`${k}.latency_change_pct`, `${k}.latency_before_ms`, `${k}.latency_after_ms`)) {
    return {
      en: "not enough Banterpacks hours around the commit, or a week before it, to tell whether users felt it",
      de: "zu wenige Banterpacks-Stunden um den Commit und eine Woche davor, um zu sagen, ob die Nutzer es gespürt haben",
      zh: "提交前后以及上周同期的 Banterpacks 小时数不足，无法判断用户是否感受到",
      hi: "कमिट के आसपास और पिछले हफ़्ते के Banterpacks घंटे पर्याप्त नहीं हैं, यह बताने के लिए कि उपयोगकर्ताओं ने इसे महसूस किया या नहीं",
    }[w.lang];
  }
  const verdicts: Record<Lang, [string, string, string]> = {
    en: [
      "users felt it",
      "user latency moved the other way from what the benchmark change predicts (not something users felt from it)",
      "users did not measurably feel it",
    ],
    de: [
      "die Nutzer haben es gespürt",
      "die Nutzerlatenz bewegte sich entgegen dem, was die Benchmark-Änderung erwarten ließ (nichts, was die Nutzer davon spürten)",
      "die Nutzer haben es nicht messbar gespürt",
    ],
    zh: ["用户感受到了", "用户延迟的变化方向与基准变化的预期相反（并非用户因此感受到的）", "用户没有可测量地感受到"],
    hi: [
      "उपयोगकर्ताओं ने इसे महसूस किया",
      "उपयोगकर्ता विलंबता बेंचमार्क बदलाव के अनुमान की उलटी दिशा में गई (उपयोगकर्ताओं ने इसे इस कारण महसूस नहीं किया)",
      "उपयोगकर्ताओं ने इसे मापने योग्य रूप से महसूस नहीं किया",
    ],
  };
  const [felt, otherWay, notFelt] = verdicts[w.lang];
  const verdict = u.felt ? w.strong(felt) : u.other_way ? otherWay : notFelt;
  const [before, after, change] = [w.ref(`${k}.latency_before_ms`), w.ref(`${k}.latency_after_ms`), w.ref(`${k}.latency_change_pct`)];
  const usual = w.has(`${k}.usual_change_pct`, `${k}.placebo_days`)
    ? {
        en: `; beyond the usual week-over-week change of ${w.ref(`${k}.usual_change_pct`)} on the ${w.ref(`${k}.placebo_days`)} days before the commit`,
        de: `; über die übliche Änderung von Woche zu Woche um ${w.ref(`${k}.usual_change_pct`)} an den ${w.ref(`${k}.placebo_days`)} Tagen vor dem Commit hinaus`,
        zh: `，超出提交前 ${w.ref(`${k}.placebo_days`)} 天里通常的周环比变化 ${w.ref(`${k}.usual_change_pct`)}`,
        hi: `; कमिट से पहले के ${w.ref(`${k}.placebo_days`)} दिनों में सामान्य साप्ताहिक बदलाव ${w.ref(`${k}.usual_change_pct`)} से परे`,
      }[w.lang]
    : "";
  const q = w.has(`${k}.q_value`) ? `q = ${w.ref(`${k}.q_value`)}` : w.has(`${k}.p_value`) ? `p = ${w.ref(`${k}.p_value`)}` : undefined;
  const hours = w.has(`${k}.hours`)
    ? {
        en: `over ${w.ref(`${k}.hours`)} each side`,
        de: `über ${w.ref(`${k}.hours`)} je Seite`,
        zh: `每侧 ${w.ref(`${k}.hours`)}`,
        hi: `हर ओर ${w.ref(`${k}.hours`)}`,
      }[w.lang]
    : undefined;
  const rest = aside([interval(w, `${k}.ci_low_pct`, `${k}.ci_high_pct`), q, hours], w.lang, w.lang === "zh" ? "，" : ", ");
  const errors = w.has(`${k}.error_before_pct`, `${k}.error_after_pct`)
    ? {
        en: `; the error rate went from ${w.ref(`${k}.error_before_pct`)} to ${w.ref(`${k}.error_after_pct`)}`,
        de: `; die Fehlerrate veränderte sich von ${w.ref(`${k}.error_before_pct`)} auf ${w.ref(`${k}.error_after_pct`)}`,
        zh: `；错误率从 ${w.ref(`${k}.error_before_pct`)} 变为 ${w.ref(`${k}.error_after_pct`)}`,
        hi: `; त्रुटि दर ${w.ref(`${k}.error_before_pct`)} से ${w.ref(`${k}.error_after_pct`)} हुई`,
      }[w.lang]
    : "";
  switch (w.lang) {
    case "de":
      return `${verdict}: die mittlere Wartezeit auf eine Antwort veränderte sich von ${before} in denselben Stunden eine Woche zuvor auf ${after}${usual}, eine Änderung um ${change}${rest}${errors}`;
    case "zh":
      return `${verdict}：用户等待回答的平均时间从上周相同时段的 ${before} 变为 ${after}${usual}，变化 ${change}${rest}${errors}`;
    case "hi":
      return `${verdict}: उत्तर की औसत प्रतीक्षा पिछले हफ़्ते के उन्हीं घंटों में ${before} थी और बाद में ${after} हुई${usual}, ${change} का बदलाव${rest}${errors}`;
    default:
      return `${verdict}: the mean wait for an answer went from ${before} in the same hours a week before to ${after}${usual}, a change of ${change}${rest}${errors}`;
  }
}

// ---------------------------------------------------------------- correlation

/** "strong" only when the whole interval clears the bar, "moderate" from |r| ≥ 0.4, else "weak" (as the neighbourhood check judges). */
function correlationStrength(r: number, w: Writer): "strong" | "moderate" | "weak" {
  const low = w.fact("correlation.ci_low")?.value;
  const high = w.fact("correlation.ci_high")?.value;
  const near = r >= 0 ? low : high === undefined ? undefined : -high;
  if (near !== undefined && near >= w.strongCorrelation) return "strong";
  return Math.abs(r) >= 0.4 ? "moderate" : "weak";
}

function correlationSentence(facts: Facts, w: Writer): string | undefined {
  const r = facts.correlation ?? w.fact("correlation.latency_user")?.value;
  if (r === undefined || r === null || !w.has("correlation.latency_user", "correlation.days")) return undefined;
  const strength = correlationStrength(r, w);
  const negative = r < 0;
  const [days, coefficient] = [w.ref("correlation.days"), w.ref("correlation.latency_user")];
  const ci = aside([interval(w, "correlation.ci_low", "correlation.ci_high")], w.lang);
  switch (w.lang) {
    case "de": {
      const s = { strong: "starken", moderate: "mäßigen", weak: "schwachen" }[strength];
      return `über ${days} Tage bewegten sich die tägliche p95-Latenz und die Latenz, die die Nutzer sahen, mit einer ${s} ${negative ? "negativen" : "positiven"} Korrelation, r = ${coefficient}${ci}`;
    }
    case "zh": {
      const s = { strong: "强", moderate: "中等", weak: "弱" }[strength];
      return `在 ${days} 天里，每日 p95 延迟与用户看到的延迟呈${s}${negative ? "负相关" : "正相关"}，r = ${coefficient}${ci}`;
    }
    case "hi": {
      const s = { strong: "मज़बूत", moderate: "मध्यम", weak: "कमज़ोर" }[strength];
      return `${days} दिनों में दैनिक p95 विलंबता और उपयोगकर्ताओं को दिखी विलंबता के बीच ${s} ${negative ? "नकारात्मक" : "सकारात्मक"} सहसंबंध रहा, r = ${coefficient}${ci}`;
    }
    default:
      return `over ${days} days daily p95 latency and the latency users saw moved with a ${strength} ${negative ? "negative" : "positive"} correlation, r = ${coefficient}${ci}`;
  }
}

// ---------------------------------------------------------------- resolving

function writer(facts: Facts, options: ClaimOptions): Writer {
  const byId = new Map(facts.facts.map((f) => [f.id, f]));
  const markdown = options.mode === "markdown";
  return {
    lang: options.lang,
    has: (...ids) => ids.every((id) => byId.has(id)),
    fact: (id) => byId.get(id),
    ref: (id) => `{{fact:${id}}}`,
    count: (id) => {
      const f = byId.get(id);
      // A fact stored before nouns renders bare: its noun in words, from the same table the formatter uses.
      const noun = f && f.unit === "count" && !f.noun ? countNounOf(id) : undefined;
      return noun ? `{{fact:${id}}} ${nounText(noun, options.lang, f!.value)}` : `{{fact:${id}}}`;
    },
    code: (text) => (markdown ? codeSpan(text) : text),
    strong: (text) => (markdown ? `**${text}**` : text),
    markdown,
    strongCorrelation: options.strongCorrelation ?? 0.5,
  };
}

/** The claim's sentence as a template (fact references in code-written words), closing mark included; undefined when the facts cannot state it. */
export function claimTemplate(id: string, facts: Facts, options: ClaimOptions): string | undefined {
  const w = writer(facts, options);
  let sentence: string | undefined;
  const m = /^event\.(\d+)(?:\.(users))?$/.exec(id);
  if (m) {
    const e = facts.events.find((x) => x.n === Number(m[1]));
    if (!e) return undefined;
    const shape = shapeOf(e, w);
    // Users are asked about steps (a moment to compare around); another shape states its own users' sentence, if any.
    if (m[2] === "users") sentence = shape === "step" || shape === "median" ? usersSentence(e, w) : undefined;
    else sentence = EVENT_SENTENCES[shape]?.(e, w);
  } else if (id === "correlation") sentence = correlationSentence(facts, w);
  return sentence === undefined ? undefined : `${sentence}${END[options.lang]}`;
}

/** The claims the facts can state, by id, in the order a story tells them. */
export function availableClaims(facts: Facts, options: Omit<ClaimOptions, "mode"> = { lang: "en" }): string[] {
  const ids = [...facts.events.flatMap((e) => [`event.${e.n}`, `event.${e.n}.users`]), "correlation"];
  return ids.filter((id) => claimTemplate(id, facts, { ...options, mode: "plain" }) !== undefined);
}

/** Upper-cases a sentence's first letter when it opens with a word (never an identifier such as "p95"); English and German. */
function capitalise(sentence: string): string {
  return sentence.replace(
    /^([*_]*)(\p{Ll})(\p{L}*)(?=[\s,:;])/u,
    (whole, markup: string, first: string, rest: string) => `${markup}${first.toUpperCase()}${rest}`,
  );
}

/** Text before a reference that leaves it at the start of a sentence: nothing (past list markers and emphasis), or a sentence's end. */
const SENTENCE_START = /(?:^|[.!?。！？।]\s*|\n\s*(?:[-*+]\s+|#+\s+|>\s*)?)[*_]*$/u;

/**
 * Replaces every `{{claim:<id>}}` of a template by its sentence in `lang`
 * (a template of fact references); a claim that names nothing the facts can
 * state is a problem, and leaves nothing behind.
 */
export function expandClaims(
  template: string,
  facts: Facts,
  options: ClaimOptions & { where: string },
): { text: string; claims: string[]; problems: string[] } {
  const problems: string[] = [];
  const claims: string[] = [];
  let text = "";
  let last = 0;
  for (const m of template.matchAll(CLAIM_PATTERN)) {
    text += template.slice(last, m.index);
    last = m.index + m[0].length;
    const id = m[1];
    const sentence = claimTemplate(id, facts, options);
    if (sentence === undefined) {
      const offered = availableClaims(facts, options);
      problems.push(`${options.where}: ${m[0]} names no claim the facts can state (claims: ${offered.map((c) => `{{claim:${c}}}`).join(", ") || "none"})`);
      continue;
    }
    claims.push(id);
    // Judged on the text so far: a claim right after another starts a sentence too.
    const starts = (options.lang === "en" || options.lang === "de") && SENTENCE_START.test(text);
    text += starts ? capitalise(sentence) : sentence;
  }
  text += template.slice(last);
  return { text, claims, problems };
}
