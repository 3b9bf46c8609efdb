/**
 * The site's languages and its interface strings. Client-safe (no Node
 * imports): the episode browser and the theme toggle receive their strings as
 * props from server components, but the types live here.
 *
 * Episode prose is translated by the translate agent; these are only the
 * labels around it.
 */
import { LANGS } from "../episode/langs";

/** The site speaks every episode language (one list: lib/episode/langs.ts). */
export const SITE_LANGS = LANGS;
export type Lang = (typeof SITE_LANGS)[number];
export const DEFAULT_LANG: Lang = "en";

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && (SITE_LANGS as readonly string[]).includes(value);
}

/** Each language named in itself (the language switch). */
export const LANG_NAMES: Record<Lang, string> = { en: "English", de: "Deutsch", zh: "中文", hi: "हिन्दी" };

/** BCP 47 tags for dates and Open Graph locales. */
export const LANG_LOCALES: Record<Lang, string> = { en: "en-US", de: "de-DE", zh: "zh-CN", hi: "hi-IN" };
export const OG_LOCALES: Record<Lang, string> = { en: "en_US", de: "de_DE", zh: "zh_CN", hi: "hi_IN" };

export interface UiStrings {
  siteTitle: string;
  tagline: string;
  skipToContent: string;
  mainNav: string;
  languageNav: string;
  languageLabel: string;
  episodes: string;
  series: string;
  allSeries: string;
  tags: string;
  allTags: string;
  status: string;
  rss: string;
  theme: string;
  themeSystem: string;
  themeLight: string;
  themeDark: string;
  search: string;
  searchPlaceholder: string;
  filterSeries: string;
  filterTag: string;
  sort: string;
  sortNewest: string;
  sortOldest: string;
  sortConfidence: string;
  results: (n: number) => string;
  noEpisodes: string;
  noResults: string;
  pagination: string;
  page: (n: number, of: number) => string;
  previousPage: string;
  nextPage: string;
  episode: (n: number) => string;
  published: string;
  readEpisode: string;
  tableOfContents: string;
  metrics: string;
  metric: string;
  value: string;
  evidence: string;
  evidenceIntro: string;
  claims: string;
  claimsIntro: string;
  claim: string;
  source: string;
  unit: string;
  changes: string;
  /** The change-point events of an episode (table, chart markers). */
  changeEvents: ChangeEventStrings;
  seriesNav: string;
  previousEpisode: string;
  nextEpisode: string;
  sampleData: string;
  /** May carry inline Markdown (`code`, **strong**): rendered by components/InlineMarkdown.tsx. */
  sampleDataNotice: string;
  untranslatedNotice: (language: string) => string;
  originalLanguage: string;
  translatedFrom: string;
  dataTable: string;
  window: string;
  writer: string;
  models: string;
  commits: string;
  notFoundTitle: string;
  notFoundText: string;
  backHome: string;
  seriesDescriptions: Record<string, string>;
  tagged: (tag: string) => string;
  footer: string;
}

export interface ChangeEventStrings {
  caption: string;
  commit: string;
  kind: string;
  regression: string;
  improvement: string;
  /** An event's shape (docs/change-points.md), beside its kind: a step, a drift (told per run), a change in spread (noise after / before). */
  shapes: Record<"step" | "drift" | "spread", string>;
  series: string;
  change: string;
  interval: string;
  qValue: string;
  usersFelt: string;
  userLatency: string;
  status: string;
  yes: string;
  no: string;
  notMeasurable: string;
  open: string;
  fixed: string;
  kept: string;
  /** "fixed by 1a2b3c4" */
  fixedBy: (sha: string) => string;
  /** Series beyond the lead one. */
  moreSeries: (n: number) => string;
  /** A chart marker's accessible text. */
  marker: (kind: string, sha: string, date: string, change: string) => string;
  /** The markers' list under a chart. */
  markersLabel: string;
  /** An event's own chart (components/charts/EventChart.tsx). */
  chart: EventChartStrings;
}

export interface EventChartStrings {
  /** The chart's title: the event's lead series. */
  title: (label: string) => string;
  /** The description's first sentence. */
  summary: (runs: number, nightly: number, bisection: number, commits: number) => string;
  /** A segment's mean and its 95 % interval (`interval` formatted as [a, b]). */
  before: (mean: string, interval: string, n: number) => string;
  after: (mean: string, interval: string, n: number) => string;
  /** Bisected to one commit. */
  blamed: (sha: string, subject: string) => string;
  /** Still bisecting: after `from`, at or before `to`. */
  range: (from: string, to: string) => string;
  nightly: string;
  bisection: string;
  run: string;
  value: string;
  xLabel: string;
  /** The list of marked commits under the chart. */
  notesLabel: string;
}

const CHANGE_EVENTS_EN: ChangeEventStrings = {
  caption: "What changed, by commit",
  commit: "Commit",
  kind: "Kind",
  regression: "regression",
  improvement: "improvement",
  shapes: { step: "step", drift: "drift (per run)", spread: "spread (noise ×)" },
  series: "Series (lead)",
  change: "Change",
  interval: "95 % interval",
  qValue: "q-value",
  usersFelt: "Users felt it",
  userLatency: "User latency change",
  status: "Status",
  yes: "yes",
  no: "no",
  notMeasurable: "not measurable",
  open: "open",
  fixed: "fixed",
  kept: "kept",
  fixedBy: (sha) => `fixed by ${sha}`,
  moreSeries: (n) => (n === 1 ? "+1 more series" : `+${n} more series`),
  marker: (kind, sha, date, change) => `${kind} at commit ${sha} (${date}): ${change}`,
  markersLabel: "Commits marked on the chart",
  chart: {
    title: (label) => `${label}: run by run around the change`,
    summary: (runs, nightly, bisection, commits) =>
      `Chart of ${runs} benchmark runs (${nightly} nightly, ${bisection} bisection) at ${commits} commits, in commit order: nightly runs are circles, bisection runs triangles.`,
    before: (mean, interval, n) => `Before the change: mean ${mean}, 95 % interval ${interval}, ${n} runs.`,
    after: (mean, interval, n) => `After the change: mean ${mean}, 95 % interval ${interval}, ${n} runs.`,
    blamed: (sha, subject) => (subject ? `Blamed commit ${sha} (“${subject}”)` : `Blamed commit ${sha}`),
    range: (from, to) => `Still bisecting: the change is after ${from}, at or before ${to}`,
    nightly: "nightly run",
    bisection: "bisection run",
    run: "Run",
    value: "Value",
    xLabel: "commits, oldest to newest",
    notesLabel: "Commits marked on the chart",
  },
};

const CHANGE_EVENTS_DE: ChangeEventStrings = {
  caption: "Was sich geändert hat, nach Commit",
  commit: "Commit",
  kind: "Art",
  regression: "Verschlechterung",
  improvement: "Verbesserung",
  shapes: { step: "Stufe", drift: "Drift (pro Lauf)", spread: "Streuung (Rauschen ×)" },
  series: "Reihe (führend)",
  change: "Änderung",
  interval: "95-%-Intervall",
  qValue: "q-Wert",
  usersFelt: "Für Nutzer spürbar",
  userLatency: "Änderung der Nutzerlatenz",
  status: "Status",
  yes: "ja",
  no: "nein",
  notMeasurable: "nicht messbar",
  open: "offen",
  fixed: "behoben",
  kept: "bleibt",
  fixedBy: (sha) => `behoben durch ${sha}`,
  moreSeries: (n) => (n === 1 ? "+1 weitere Reihe" : `+${n} weitere Reihen`),
  marker: (kind, sha, date, change) => `${kind} bei Commit ${sha} (${date}): ${change}`,
  markersLabel: "Im Diagramm markierte Commits",
  chart: {
    title: (label) => `${label}: Lauf für Lauf um die Änderung`,
    summary: (runs, nightly, bisection, commits) =>
      `Diagramm von ${runs} Benchmark-Läufen (${nightly} nächtliche, ${bisection} Bisektionsläufe) an ${commits} Commits, in Commit-Reihenfolge: nächtliche Läufe als Kreise, Bisektionsläufe als Dreiecke.`,
    before: (mean, interval, n) => `Vor der Änderung: Mittelwert ${mean}, 95-%-Intervall ${interval}, ${n} Läufe.`,
    after: (mean, interval, n) => `Nach der Änderung: Mittelwert ${mean}, 95-%-Intervall ${interval}, ${n} Läufe.`,
    blamed: (sha, subject) => (subject ? `Verursachender Commit ${sha} („${subject}“)` : `Verursachender Commit ${sha}`),
    range: (from, to) => `Bisektion läuft noch: Die Änderung liegt nach ${from}, spätestens bei ${to}`,
    nightly: "nächtlicher Lauf",
    bisection: "Bisektionslauf",
    run: "Lauf",
    value: "Wert",
    xLabel: "Commits, älteste zuerst",
    notesLabel: "Im Diagramm markierte Commits",
  },
};

const CHANGE_EVENTS_ZH: ChangeEventStrings = {
  caption: "按提交列出的变化",
  commit: "提交",
  kind: "类型",
  regression: "退化",
  improvement: "改进",
  shapes: { step: "阶跃", drift: "漂移（每次运行）", spread: "离散度（噪声 ×）" },
  series: "序列（主要）",
  change: "变化",
  interval: "95% 区间",
  qValue: "q 值",
  usersFelt: "用户是否感知",
  userLatency: "用户延迟变化",
  status: "状态",
  yes: "是",
  no: "否",
  notMeasurable: "无法测量",
  open: "未解决",
  fixed: "已修复",
  kept: "保持",
  fixedBy: (sha) => `由 ${sha} 修复`,
  moreSeries: (n) => `另有 ${n} 个序列`,
  marker: (kind, sha, date, change) => `提交 ${sha}（${date}）处的${kind}：${change}`,
  markersLabel: "图中标记的提交",
  chart: {
    title: (label) => `${label}：变化前后的逐次运行`,
    summary: (runs, nightly, bisection, commits) =>
      `${commits} 个提交上 ${runs} 次基准测试运行的图表（${nightly} 次每夜运行，${bisection} 次二分运行），按提交顺序排列：每夜运行为圆点，二分运行为三角形。`,
    before: (mean, interval, n) => `变化前：均值 ${mean}，95% 区间 ${interval}，${n} 次运行。`,
    after: (mean, interval, n) => `变化后：均值 ${mean}，95% 区间 ${interval}，${n} 次运行。`,
    blamed: (sha, subject) => (subject ? `导致变化的提交 ${sha}（“${subject}”）` : `导致变化的提交 ${sha}`),
    range: (from, to) => `仍在二分查找：变化发生在 ${from} 之后，${to} 或之前`,
    nightly: "每夜运行",
    bisection: "二分运行",
    run: "运行",
    value: "数值",
    xLabel: "提交，从旧到新",
    notesLabel: "图中标记的提交",
  },
};

const CHANGE_EVENTS_HI: ChangeEventStrings = {
  caption: "क्या बदला, कमिट के अनुसार",
  commit: "कमिट",
  kind: "प्रकार",
  regression: "गिरावट",
  improvement: "सुधार",
  shapes: { step: "स्टेप", drift: "ड्रिफ़्ट (प्रति रन)", spread: "स्प्रेड (शोर ×)" },
  series: "सीरीज़ (मुख्य)",
  change: "बदलाव",
  interval: "95 % अंतराल",
  qValue: "q-मान",
  usersFelt: "उपयोगकर्ताओं ने महसूस किया",
  userLatency: "उपयोगकर्ता लेटेंसी में बदलाव",
  status: "स्थिति",
  yes: "हाँ",
  no: "नहीं",
  notMeasurable: "मापने योग्य नहीं",
  open: "खुला",
  fixed: "ठीक किया गया",
  kept: "बना रहा",
  fixedBy: (sha) => `${sha} द्वारा ठीक किया गया`,
  moreSeries: (n) => `+${n} और सीरीज़`,
  marker: (kind, sha, date, change) => `कमिट ${sha} (${date}) पर ${kind}: ${change}`,
  markersLabel: "चार्ट पर चिह्नित कमिट",
  chart: {
    title: (label) => `${label}: बदलाव के आसपास हर रन`,
    summary: (runs, nightly, bisection, commits) =>
      `${commits} कमिट पर ${runs} बेंचमार्क रन का चार्ट (${nightly} रात्रिकालीन, ${bisection} बाइसेक्शन), कमिट क्रम में: रात्रिकालीन रन वृत्त हैं, बाइसेक्शन रन त्रिभुज।`,
    before: (mean, interval, n) => `बदलाव से पहले: औसत ${mean}, 95 % अंतराल ${interval}, ${n} रन।`,
    after: (mean, interval, n) => `बदलाव के बाद: औसत ${mean}, 95 % अंतराल ${interval}, ${n} रन।`,
    blamed: (sha, subject) => (subject ? `ज़िम्मेदार कमिट ${sha} (“${subject}”)` : `ज़िम्मेदार कमिट ${sha}`),
    range: (from, to) => `बाइसेक्शन जारी: बदलाव ${from} के बाद और ${to} तक कहीं है`,
    nightly: "रात्रिकालीन रन",
    bisection: "बाइसेक्शन रन",
    run: "रन",
    value: "मान",
    xLabel: "कमिट, पुराने से नए",
    notesLabel: "चार्ट पर चिह्नित कमिट",
  },
};

const en: UiStrings = {
  siteTitle: "Banterblogs",
  tagline: "Engineering stories written from Banterhearts benchmarks and Banterpacks telemetry; every number traceable to its data.",
  skipToContent: "Skip to content",
  mainNav: "Main",
  languageNav: "Language",
  languageLabel: "Language:",
  episodes: "Episodes",
  series: "Series",
  allSeries: "All series",
  tags: "Tags",
  allTags: "All tags",
  status: "Status",
  rss: "RSS",
  theme: "Theme",
  themeSystem: "system",
  themeLight: "light",
  themeDark: "dark",
  search: "Search episodes",
  searchPlaceholder: "Title, summary, model, tag…",
  filterSeries: "Series",
  filterTag: "Tag",
  sort: "Sort",
  sortNewest: "Newest first",
  sortOldest: "Oldest first",
  sortConfidence: "Highest confidence",
  results: (n) => (n === 1 ? "1 episode" : `${n} episodes`),
  noEpisodes: "No episodes have been published yet.",
  noResults: "No episodes match these filters.",
  pagination: "Pages",
  page: (n, of) => `Page ${n} of ${of}`,
  previousPage: "Previous page",
  nextPage: "Next page",
  episode: (n) => `Episode ${n}`,
  published: "Published",
  readEpisode: "Read the episode",
  tableOfContents: "Contents",
  metrics: "Metrics",
  metric: "Metric",
  value: "Value",
  evidence: "Evidence",
  evidenceIntro: "The daily data this episode is about, from its own front-matter. Each chart has a data table.",
  claims: "Claims and sources",
  claimsIntro: "Every number the text states, with the query and rows it came from.",
  claim: "Claim",
  source: "Source",
  unit: "Unit",
  changes: "Significant changes",
  changeEvents: CHANGE_EVENTS_EN,
  seriesNav: "More in this series",
  previousEpisode: "Previous episode",
  nextEpisode: "Next episode",
  sampleData: "Sample data",
  sampleDataNotice: "This episode was written from sample data generated by `muse seed`: the numbers are simulated, not real measurements.",
  untranslatedNotice: (language) => `This episode has not been translated into ${language} yet. You are reading the English original.`,
  originalLanguage: "English original",
  translatedFrom: "Translated from the English original",
  dataTable: "Data table",
  window: "Data window",
  writer: "Writer",
  models: "Models",
  commits: "Commits",
  notFoundTitle: "Page not found",
  notFoundText: "There is no page at this address.",
  backHome: "Back to the episodes",
  seriesDescriptions: {
    chimera: "The performance story of Banterhearts: benchmark latency, throughput and cost, and how they reach users.",
    banterpacks: "The user-experience story of the Banterpacks overlay: user-facing latency, errors and abandonment.",
  },
  tagged: (tag) => `Episodes tagged “${tag}”`,
  footer: "Every number is computed from ClickHouse rows and listed with its source.",
};

const de: UiStrings = {
  siteTitle: "Banterblogs",
  tagline: "Technische Geschichten aus Banterhearts-Benchmarks und Banterpacks-Telemetrie; jede Zahl lässt sich auf ihre Daten zurückführen.",
  skipToContent: "Zum Inhalt springen",
  mainNav: "Hauptnavigation",
  languageNav: "Sprache",
  languageLabel: "Sprache:",
  episodes: "Folgen",
  series: "Serien",
  allSeries: "Alle Serien",
  tags: "Schlagwörter",
  allTags: "Alle Schlagwörter",
  status: "Status",
  rss: "RSS",
  theme: "Farbschema",
  themeSystem: "System",
  themeLight: "hell",
  themeDark: "dunkel",
  search: "Folgen durchsuchen",
  searchPlaceholder: "Titel, Zusammenfassung, Modell, Schlagwort…",
  filterSeries: "Serie",
  filterTag: "Schlagwort",
  sort: "Sortierung",
  sortNewest: "Neueste zuerst",
  sortOldest: "Älteste zuerst",
  sortConfidence: "Höchste Konfidenz",
  results: (n) => (n === 1 ? "1 Folge" : `${n} Folgen`),
  noEpisodes: "Es wurden noch keine Folgen veröffentlicht.",
  noResults: "Keine Folge passt zu diesen Filtern.",
  pagination: "Seiten",
  page: (n, of) => `Seite ${n} von ${of}`,
  previousPage: "Vorherige Seite",
  nextPage: "Nächste Seite",
  episode: (n) => `Folge ${n}`,
  published: "Veröffentlicht",
  readEpisode: "Folge lesen",
  tableOfContents: "Inhalt",
  metrics: "Kennzahlen",
  metric: "Kennzahl",
  value: "Wert",
  evidence: "Belege",
  evidenceIntro: "Die Tagesdaten, um die es in dieser Folge geht, aus ihrem eigenen Front-Matter. Zu jedem Diagramm gibt es eine Datentabelle.",
  claims: "Aussagen und Quellen",
  claimsIntro: "Jede Zahl im Text, mit der Abfrage und den Zeilen, aus denen sie stammt.",
  claim: "Aussage",
  source: "Quelle",
  unit: "Einheit",
  changes: "Signifikante Änderungen",
  changeEvents: CHANGE_EVENTS_DE,
  seriesNav: "Mehr aus dieser Serie",
  previousEpisode: "Vorherige Folge",
  nextEpisode: "Nächste Folge",
  sampleData: "Beispieldaten",
  sampleDataNotice: "Diese Folge wurde aus Beispieldaten von `muse seed` geschrieben: Die Zahlen sind simuliert, keine echten Messungen.",
  untranslatedNotice: (language) => `Diese Folge ist noch nicht auf ${language} übersetzt. Sie lesen das englische Original.`,
  originalLanguage: "Englisches Original",
  translatedFrom: "Übersetzt aus dem englischen Original",
  dataTable: "Datentabelle",
  window: "Datenzeitraum",
  writer: "Verfasser",
  models: "Modelle",
  commits: "Commits",
  notFoundTitle: "Seite nicht gefunden",
  notFoundText: "Unter dieser Adresse gibt es keine Seite.",
  backHome: "Zurück zu den Folgen",
  seriesDescriptions: {
    chimera: "Die Performance-Geschichte von Banterhearts: Latenz, Durchsatz und Kosten der Benchmarks und wie sie bei den Nutzern ankommen.",
    banterpacks: "Die Nutzererlebnis-Geschichte des Banterpacks-Overlays: Latenz für Nutzer, Fehler und Abbrüche.",
  },
  tagged: (tag) => `Folgen mit dem Schlagwort „${tag}“`,
  footer: "Jede Zahl wird aus ClickHouse-Zeilen berechnet und mit ihrer Quelle aufgeführt.",
};

const zh: UiStrings = {
  siteTitle: "Banterblogs",
  tagline: "根据 Banterhearts 基准测试和 Banterpacks 遥测数据撰写的工程故事；每个数字都可追溯到其数据。",
  skipToContent: "跳到正文",
  mainNav: "主导航",
  languageNav: "语言",
  languageLabel: "语言：",
  episodes: "文章",
  series: "系列",
  allSeries: "全部系列",
  tags: "标签",
  allTags: "全部标签",
  status: "状态",
  rss: "RSS",
  theme: "主题",
  themeSystem: "跟随系统",
  themeLight: "浅色",
  themeDark: "深色",
  search: "搜索文章",
  searchPlaceholder: "标题、摘要、模型、标签…",
  filterSeries: "系列",
  filterTag: "标签",
  sort: "排序",
  sortNewest: "最新优先",
  sortOldest: "最早优先",
  sortConfidence: "置信度最高",
  results: (n) => `${n} 篇文章`,
  noEpisodes: "尚未发布任何文章。",
  noResults: "没有符合这些筛选条件的文章。",
  pagination: "分页",
  page: (n, of) => `第 ${n} 页，共 ${of} 页`,
  previousPage: "上一页",
  nextPage: "下一页",
  episode: (n) => `第 ${n} 期`,
  published: "发布于",
  readEpisode: "阅读文章",
  tableOfContents: "目录",
  metrics: "指标",
  metric: "指标",
  value: "数值",
  evidence: "证据",
  evidenceIntro: "本期所讨论的每日数据，取自其自身的 front-matter。每个图表都附有数据表。",
  claims: "论断与来源",
  claimsIntro: "正文中出现的每个数字，以及其来源查询和数据行。",
  claim: "论断",
  source: "来源",
  unit: "单位",
  changes: "显著变化",
  changeEvents: CHANGE_EVENTS_ZH,
  seriesNav: "本系列更多文章",
  previousEpisode: "上一期",
  nextEpisode: "下一期",
  sampleData: "示例数据",
  sampleDataNotice: "本期根据 `muse seed` 生成的示例数据撰写：数字为模拟值，并非真实测量。",
  untranslatedNotice: (language) => `本期尚未翻译为${language}。您正在阅读英文原文。`,
  originalLanguage: "英文原文",
  translatedFrom: "译自英文原文",
  dataTable: "数据表",
  window: "数据时间窗",
  writer: "撰写者",
  models: "模型",
  commits: "提交",
  notFoundTitle: "页面未找到",
  notFoundText: "此地址没有页面。",
  backHome: "返回文章列表",
  seriesDescriptions: {
    chimera: "Banterhearts 的性能故事：基准测试的延迟、吞吐量和成本，以及它们如何影响用户。",
    banterpacks: "Banterpacks 浮层的用户体验故事：用户感知的延迟、错误和放弃率。",
  },
  tagged: (tag) => `标签为“${tag}”的文章`,
  footer: "每个数字都由 ClickHouse 数据行计算得出，并列出其来源。",
};

const hi: UiStrings = {
  siteTitle: "Banterblogs",
  tagline: "Banterhearts बेंचमार्क और Banterpacks टेलीमेट्री से लिखी गई इंजीनियरिंग कहानियाँ; हर संख्या अपने डेटा तक खोजी जा सकती है।",
  skipToContent: "मुख्य सामग्री पर जाएँ",
  mainNav: "मुख्य नेविगेशन",
  languageNav: "भाषा",
  languageLabel: "भाषा:",
  episodes: "एपिसोड",
  series: "सीरीज़",
  allSeries: "सभी सीरीज़",
  tags: "टैग",
  allTags: "सभी टैग",
  status: "स्थिति",
  rss: "RSS",
  theme: "थीम",
  themeSystem: "सिस्टम",
  themeLight: "हल्की",
  themeDark: "गहरी",
  search: "एपिसोड खोजें",
  searchPlaceholder: "शीर्षक, सारांश, मॉडल, टैग…",
  filterSeries: "सीरीज़",
  filterTag: "टैग",
  sort: "क्रम",
  sortNewest: "नए पहले",
  sortOldest: "पुराने पहले",
  sortConfidence: "सबसे अधिक विश्वास",
  results: (n) => `${n} एपिसोड`,
  noEpisodes: "अभी तक कोई एपिसोड प्रकाशित नहीं हुआ है।",
  noResults: "इन फ़िल्टरों से कोई एपिसोड मेल नहीं खाता।",
  pagination: "पृष्ठ",
  page: (n, of) => `पृष्ठ ${n} / ${of}`,
  previousPage: "पिछला पृष्ठ",
  nextPage: "अगला पृष्ठ",
  episode: (n) => `एपिसोड ${n}`,
  published: "प्रकाशित",
  readEpisode: "एपिसोड पढ़ें",
  tableOfContents: "विषय-सूची",
  metrics: "मेट्रिक्स",
  metric: "मेट्रिक",
  value: "मान",
  evidence: "साक्ष्य",
  evidenceIntro: "इस एपिसोड का दैनिक डेटा, इसके अपने front-matter से। हर चार्ट के साथ एक डेटा तालिका है।",
  claims: "दावे और स्रोत",
  claimsIntro: "पाठ में दी गई हर संख्या, उस क्वेरी और पंक्तियों के साथ जिनसे वह आई।",
  claim: "दावा",
  source: "स्रोत",
  unit: "इकाई",
  changes: "महत्वपूर्ण बदलाव",
  changeEvents: CHANGE_EVENTS_HI,
  seriesNav: "इस सीरीज़ में और",
  previousEpisode: "पिछला एपिसोड",
  nextEpisode: "अगला एपिसोड",
  sampleData: "नमूना डेटा",
  sampleDataNotice: "यह एपिसोड `muse seed` से बने नमूना डेटा से लिखा गया है: संख्याएँ सिम्युलेटेड हैं, वास्तविक माप नहीं।",
  untranslatedNotice: (language) => `इस एपिसोड का ${language} में अनुवाद अभी नहीं हुआ है। आप अंग्रेज़ी मूल पढ़ रहे हैं।`,
  originalLanguage: "अंग्रेज़ी मूल",
  translatedFrom: "अंग्रेज़ी मूल से अनूदित",
  dataTable: "डेटा तालिका",
  window: "डेटा अवधि",
  writer: "लेखक",
  models: "मॉडल",
  commits: "कमिट",
  notFoundTitle: "पृष्ठ नहीं मिला",
  notFoundText: "इस पते पर कोई पृष्ठ नहीं है।",
  backHome: "एपिसोड सूची पर लौटें",
  seriesDescriptions: {
    chimera: "Banterhearts की परफ़ॉर्मेंस कहानी: बेंचमार्क लेटेंसी, थ्रूपुट और लागत, और वे उपयोगकर्ताओं तक कैसे पहुँचते हैं।",
    banterpacks: "Banterpacks ओवरले के उपयोगकर्ता अनुभव की कहानी: उपयोगकर्ता लेटेंसी, त्रुटियाँ और अधूरे सत्र।",
  },
  tagged: (tag) => `“${tag}” टैग वाले एपिसोड`,
  footer: "हर संख्या ClickHouse पंक्तियों से गणना की जाती है और अपने स्रोत के साथ सूचीबद्ध है।",
};

const STRINGS: Record<Lang, UiStrings> = { en, de, zh, hi };

export function uiStrings(lang: Lang): UiStrings {
  return STRINGS[lang];
}

/** The language's name as the given UI language calls it (for the fallback notice). */
const NAMES_IN: Record<Lang, Record<Lang, string>> = {
  en: { en: "English", de: "German", zh: "Chinese", hi: "Hindi" },
  de: { en: "Englisch", de: "Deutsch", zh: "Chinesisch", hi: "Hindi" },
  zh: { en: "英文", de: "德文", zh: "中文", hi: "印地文" },
  hi: { en: "अंग्रेज़ी", de: "जर्मन", zh: "चीनी", hi: "हिन्दी" },
};

export function languageName(lang: Lang, inLang: Lang = lang): string {
  return NAMES_IN[inLang][lang];
}

/** The latency–accuracy chart of a model (components/charts/TradeoffChart.tsx; docs/quality.md). */
export interface TradeoffChartStrings {
  /** Title: the model's configuration label. */
  title: (label: string) => string;
  /** The description's first sentence. */
  summary: (methods: number, baseline: string) => string;
  /** One method's point in the description: "int4: 310 ms, 70.1 points, 98.8 % of the baseline (gate 99 %)". */
  point: (method: string, latency: string, accuracy: string, ratio: string | null, gate: string | null, below: boolean) => string;
  /** A gate line: gate × the baseline's accuracy. */
  gateLine: (gate: string, accuracy: string) => string;
  /** An arrow: the method's move at a told event. */
  move: (method: string, n: number, from: string, to: string) => string;
  xLabel: string;
  yLabel: string;
  method: string;
  latency: string;
  accuracy: string;
  ratio: string;
  gate: string;
  belowGate: string;
  baseline: string;
  notesLabel: string;
}

export const TRADEOFF_CHART: Record<Lang, TradeoffChartStrings> = {
  en: {
    title: (label) => `${label}: p95 latency against accuracy, per method`,
    summary: (methods, baseline) =>
      `Scatter plot of ${methods} quantization methods and the ${baseline} baseline: p95 latency (lower is faster) against accuracy (higher is better), latest segment means.`,
    point: (method, latency, accuracy, ratio, gate, below) =>
      `${method}: ${latency}, ${accuracy}${ratio ? `, ${ratio} of the baseline's accuracy` : ""}${gate ? ` (gate ${gate}${below ? ", below it" : ""})` : ""}.`,
    gateLine: (gate, accuracy) => `Accuracy gate ${gate} of the baseline: ${accuracy} points`,
    move: (method, n, from, to) => `Change ${n}: ${method} moved from ${from} to ${to}`,
    xLabel: "p95 latency (ms)",
    yLabel: "accuracy (points)",
    method: "Method",
    latency: "p95 latency",
    accuracy: "Accuracy",
    ratio: "Share of baseline",
    gate: "Gate",
    belowGate: "below the gate",
    baseline: "baseline",
    notesLabel: "Gate and changes marked on the chart",
  },
  de: {
    title: (label) => `${label}: p95-Latenz gegen Genauigkeit, je Methode`,
    summary: (methods, baseline) =>
      `Streudiagramm von ${methods} Quantisierungsmethoden und der ${baseline}-Basislinie: p95-Latenz (niedriger ist schneller) gegen Genauigkeit (höher ist besser), Mittelwerte des letzten Segments.`,
    point: (method, latency, accuracy, ratio, gate, below) =>
      `${method}: ${latency}, ${accuracy}${ratio ? `, ${ratio} der Genauigkeit der Basislinie` : ""}${gate ? ` (Schwelle ${gate}${below ? ", darunter" : ""})` : ""}.`,
    gateLine: (gate, accuracy) => `Genauigkeitsschwelle ${gate} der Basislinie: ${accuracy} Punkte`,
    move: (method, n, from, to) => `Änderung ${n}: ${method} von ${from} nach ${to}`,
    xLabel: "p95-Latenz (ms)",
    yLabel: "Genauigkeit (Punkte)",
    method: "Methode",
    latency: "p95-Latenz",
    accuracy: "Genauigkeit",
    ratio: "Anteil der Basislinie",
    gate: "Schwelle",
    belowGate: "unter der Schwelle",
    baseline: "Basislinie",
    notesLabel: "Im Diagramm markierte Schwelle und Änderungen",
  },
  zh: {
    title: (label) => `${label}：各方法的 p95 延迟与准确率`,
    summary: (methods, baseline) => `${methods} 种量化方法与 ${baseline} 基线的散点图：p95 延迟（越低越快）对比准确率（越高越好），取最新分段均值。`,
    point: (method, latency, accuracy, ratio, gate, below) =>
      `${method}：${latency}，${accuracy}${ratio ? `，为基线准确率的 ${ratio}` : ""}${gate ? `（门槛 ${gate}${below ? "，低于门槛" : ""}）` : ""}。`,
    gateLine: (gate, accuracy) => `准确率门槛为基线的 ${gate}：${accuracy} 分`,
    move: (method, n, from, to) => `变化 ${n}：${method} 从 ${from} 变为 ${to}`,
    xLabel: "p95 延迟（ms）",
    yLabel: "准确率（分）",
    method: "方法",
    latency: "p95 延迟",
    accuracy: "准确率",
    ratio: "占基线比例",
    gate: "门槛",
    belowGate: "低于门槛",
    baseline: "基线",
    notesLabel: "图中标出的门槛与变化",
  },
  hi: {
    title: (label) => `${label}: हर विधि की p95 लेटेंसी बनाम सटीकता`,
    summary: (methods, baseline) =>
      `${methods} क्वांटाइज़ेशन विधियों और ${baseline} बेसलाइन का स्कैटर प्लॉट: p95 लेटेंसी (कम यानी तेज़) बनाम सटीकता (अधिक यानी बेहतर), नवीनतम खंड के औसत।`,
    point: (method, latency, accuracy, ratio, gate, below) =>
      `${method}: ${latency}, ${accuracy}${ratio ? `, बेसलाइन की सटीकता का ${ratio}` : ""}${gate ? ` (सीमा ${gate}${below ? ", उससे नीचे" : ""})` : ""}।`,
    gateLine: (gate, accuracy) => `सटीकता सीमा, बेसलाइन का ${gate}: ${accuracy} अंक`,
    move: (method, n, from, to) => `बदलाव ${n}: ${method} ${from} से ${to} पर गया`,
    xLabel: "p95 लेटेंसी (ms)",
    yLabel: "सटीकता (अंक)",
    method: "विधि",
    latency: "p95 लेटेंसी",
    accuracy: "सटीकता",
    ratio: "बेसलाइन का हिस्सा",
    gate: "सीमा",
    belowGate: "सीमा से नीचे",
    baseline: "बेसलाइन",
    notesLabel: "चार्ट पर चिह्नित सीमा और बदलाव",
  },
};
