import type { EpisodeFrontMatter } from "../episode/file";
import { formatFractionPct, formatNumber, formatUsd } from "./format";
import type { Lang } from "./i18n";

/** The metrics table of an episode page: its front-matter `metrics`, labelled in the page's language. */

type MetricKey =
  | "latency_p95_ms"
  | "tokens_per_sec"
  | "cost_per_1k"
  | "user_latency_ms"
  | "error_rate"
  | "abandonment_rate"
  | "correlation"
  | "confidence"
  | "regressions"
  | "improvements"
  | "days"
  | "bench_rows"
  | "events"
  | "sessions";

const LABELS: Record<Lang, Record<MetricKey, string>> = {
  en: {
    latency_p95_ms: "Mean daily p95 latency (Banterhearts)",
    tokens_per_sec: "Mean daily throughput (Banterhearts)",
    cost_per_1k: "Mean cost per 1k tokens",
    user_latency_ms: "Mean user-facing latency (Banterpacks)",
    error_rate: "Error rate",
    abandonment_rate: "Query abandonment rate",
    correlation: "Pearson r, p95 latency vs user latency",
    confidence: "Confidence score",
    regressions: "Regressions found",
    improvements: "Improvements found",
    days: "Days with data from both sources",
    bench_rows: "Benchmark rows (model-level)",
    events: "UI events",
    sessions: "Sessions",
  },
  de: {
    latency_p95_ms: "Mittlere tägliche p95-Latenz (Banterhearts)",
    tokens_per_sec: "Mittlerer täglicher Durchsatz (Banterhearts)",
    cost_per_1k: "Mittlere Kosten pro 1k Tokens",
    user_latency_ms: "Mittlere Latenz für Nutzer (Banterpacks)",
    error_rate: "Fehlerrate",
    abandonment_rate: "Abbruchrate der Anfragen",
    correlation: "Pearson r, p95-Latenz vs. Nutzerlatenz",
    confidence: "Konfidenzwert",
    regressions: "Gefundene Regressionen",
    improvements: "Gefundene Verbesserungen",
    days: "Tage mit Daten aus beiden Quellen",
    bench_rows: "Benchmark-Zeilen (Modellebene)",
    events: "UI-Ereignisse",
    sessions: "Sitzungen",
  },
  zh: {
    latency_p95_ms: "每日 p95 延迟均值（Banterhearts）",
    tokens_per_sec: "每日吞吐量均值（Banterhearts）",
    cost_per_1k: "每 1k token 平均成本",
    user_latency_ms: "用户感知延迟均值（Banterpacks）",
    error_rate: "错误率",
    abandonment_rate: "查询放弃率",
    correlation: "Pearson r：p95 延迟与用户延迟",
    confidence: "置信度",
    regressions: "发现的性能退化",
    improvements: "发现的性能改进",
    days: "两个数据源均有数据的天数",
    bench_rows: "基准测试行数（模型级）",
    events: "UI 事件",
    sessions: "会话",
  },
  hi: {
    latency_p95_ms: "औसत दैनिक p95 लेटेंसी (Banterhearts)",
    tokens_per_sec: "औसत दैनिक थ्रूपुट (Banterhearts)",
    cost_per_1k: "प्रति 1k टोकन औसत लागत",
    user_latency_ms: "औसत उपयोगकर्ता लेटेंसी (Banterpacks)",
    error_rate: "त्रुटि दर",
    abandonment_rate: "क्वेरी छोड़ने की दर",
    correlation: "Pearson r, p95 लेटेंसी बनाम उपयोगकर्ता लेटेंसी",
    confidence: "विश्वास स्कोर",
    regressions: "मिले रिग्रेशन",
    improvements: "मिले सुधार",
    days: "दोनों स्रोतों के डेटा वाले दिन",
    bench_rows: "बेंचमार्क पंक्तियाँ (मॉडल स्तर)",
    events: "UI इवेंट",
    sessions: "सत्र",
  },
};

export interface MetricRow {
  key: MetricKey;
  label: string;
  value: string;
}

export function metricRows(metrics: EpisodeFrontMatter["metrics"], lang: Lang): MetricRow[] {
  const l = LABELS[lang];
  const ms = (v: number | null) => (v === null ? "–" : `${formatNumber(v, 1)} ms`);
  const rows: [MetricKey, string][] = [
    ["latency_p95_ms", ms(metrics.latency_p95_ms)],
    ["tokens_per_sec", metrics.tokens_per_sec === null ? "–" : `${formatNumber(metrics.tokens_per_sec, 1)} tokens/s`],
    ["cost_per_1k", formatUsd(metrics.cost_per_1k)],
    ["user_latency_ms", ms(metrics.user_latency_ms)],
    ["error_rate", formatFractionPct(metrics.error_rate)],
    ["abandonment_rate", formatFractionPct(metrics.abandonment_rate, 1)],
    ["correlation", formatNumber(metrics.correlation, 2)],
    ["confidence", `${formatNumber(metrics.confidence.value, 2)} (${metrics.confidence.limiting})`],
    ["regressions", formatNumber(metrics.regressions, 0)],
    ["improvements", formatNumber(metrics.improvements, 0)],
    ["days", `${formatNumber(metrics.joined_days, 0)} / ${formatNumber(metrics.days, 0)}`],
    ["bench_rows", formatNumber(metrics.bench_rows, 0)],
    ["events", formatNumber(metrics.events, 0)],
    ["sessions", formatNumber(metrics.sessions, 0)],
  ];
  return rows.map(([key, value]) => ({ key, label: l[key], value }));
}

export const SERIES_NAMES: Record<string, string> = { chimera: "Chimera", banterpacks: "Banterpacks" };
export const seriesName = (series: string) => SERIES_NAMES[series] ?? series;
