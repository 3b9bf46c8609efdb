import type { EpisodeFrontMatter } from "@/lib/episode/file";
import { episodeEvents, eventMarkers } from "@/lib/site/events";
import { formatFractionPct, formatNumber } from "@/lib/site/format";
import { TRADEOFF_CHART, uiStrings, type Lang } from "@/lib/site/i18n";
import { EventChart } from "./charts/EventChart";
import { LineChart } from "./charts/LineChart";
import { ScatterChart } from "./charts/ScatterChart";
import { TradeoffChart } from "./charts/TradeoffChart";

/**
 * The Evidence charts of an episode, drawn from its own front-matter (`daily`
 * and `metrics`): what the story is about, day by day. Server-rendered SVG;
 * no client JavaScript.
 */

interface EvidenceText {
  latencyTitle: string;
  latencyDesc: (days: number, mean: string) => string;
  userTitle: string;
  userDesc: (days: number, mean: string) => string;
  errorTitle: string;
  errorDesc: (mean: string) => string;
  scatterTitle: (r: string) => string;
  scatterDesc: (n: number, r: string) => string;
  p95: string;
  userLatency: string;
  errorRate: string;
  day: string;
  noData: string;
}

const TEXT: Record<Lang, EvidenceText> = {
  en: {
    latencyTitle: "Banterhearts p95 latency per day",
    latencyDesc: (d, m) => `Line chart of the daily p95 benchmark latency over ${d} days; the window mean is ${m}.`,
    userTitle: "Banterpacks user-facing latency per day",
    userDesc: (d, m) => `Line chart of the daily mean latency users saw in the overlay over ${d} days; the window mean is ${m}.`,
    errorTitle: "Banterpacks error rate per day",
    errorDesc: (m) => `Line chart of the daily share of overlay events that were errors; the window mean is ${m}.`,
    scatterTitle: (r) => `p95 latency vs user latency, one point per day (r = ${r})`,
    scatterDesc: (n, r) =>
      `Scatter plot of ${n} days: Banterhearts p95 latency against Banterpacks user latency, with the least-squares line. Pearson r = ${r}.`,
    p95: "p95 latency (ms)",
    userLatency: "user latency (ms)",
    errorRate: "error rate",
    day: "Day",
    noData: "The front-matter has no daily data to chart.",
  },
  de: {
    latencyTitle: "Banterhearts-p95-Latenz pro Tag",
    latencyDesc: (d, m) => `Liniendiagramm der täglichen p95-Benchmark-Latenz über ${d} Tage; der Mittelwert des Zeitraums ist ${m}.`,
    userTitle: "Banterpacks-Latenz für Nutzer pro Tag",
    userDesc: (d, m) => `Liniendiagramm der mittleren Latenz, die Nutzer im Overlay sahen, über ${d} Tage; der Mittelwert ist ${m}.`,
    errorTitle: "Banterpacks-Fehlerrate pro Tag",
    errorDesc: (m) => `Liniendiagramm des täglichen Anteils fehlerhafter Overlay-Ereignisse; der Mittelwert ist ${m}.`,
    scatterTitle: (r) => `p95-Latenz vs. Nutzerlatenz, ein Punkt pro Tag (r = ${r})`,
    scatterDesc: (n, r) => `Streudiagramm über ${n} Tage: Banterhearts-p95-Latenz gegen Banterpacks-Nutzerlatenz, mit Regressionsgerade. Pearson r = ${r}.`,
    p95: "p95-Latenz (ms)",
    userLatency: "Nutzerlatenz (ms)",
    errorRate: "Fehlerrate",
    day: "Tag",
    noData: "Das Front-Matter enthält keine Tagesdaten für Diagramme.",
  },
  zh: {
    latencyTitle: "Banterhearts 每日 p95 延迟",
    latencyDesc: (d, m) => `${d} 天内每日 p95 基准测试延迟的折线图；时间窗均值为 ${m}。`,
    userTitle: "Banterpacks 每日用户感知延迟",
    userDesc: (d, m) => `${d} 天内用户在浮层中感受到的每日平均延迟的折线图；均值为 ${m}。`,
    errorTitle: "Banterpacks 每日错误率",
    errorDesc: (m) => `浮层事件中每日错误占比的折线图；均值为 ${m}。`,
    scatterTitle: (r) => `p95 延迟与用户延迟，每天一个点（r = ${r}）`,
    scatterDesc: (n, r) => `${n} 天的散点图：Banterhearts p95 延迟对比 Banterpacks 用户延迟，并附最小二乘拟合线。Pearson r = ${r}。`,
    p95: "p95 延迟（ms）",
    userLatency: "用户延迟（ms）",
    errorRate: "错误率",
    day: "日期",
    noData: "front-matter 中没有可绘制的每日数据。",
  },
  hi: {
    latencyTitle: "Banterhearts की प्रतिदिन p95 लेटेंसी",
    latencyDesc: (d, m) => `${d} दिनों की दैनिक p95 बेंचमार्क लेटेंसी का लाइन चार्ट; अवधि का औसत ${m} है।`,
    userTitle: "Banterpacks की प्रतिदिन उपयोगकर्ता लेटेंसी",
    userDesc: (d, m) => `${d} दिनों में ओवरले में उपयोगकर्ताओं द्वारा देखी गई औसत दैनिक लेटेंसी का लाइन चार्ट; औसत ${m} है।`,
    errorTitle: "Banterpacks की प्रतिदिन त्रुटि दर",
    errorDesc: (m) => `ओवरले इवेंट में त्रुटियों के दैनिक हिस्से का लाइन चार्ट; औसत ${m} है।`,
    scatterTitle: (r) => `p95 लेटेंसी बनाम उपयोगकर्ता लेटेंसी, प्रति दिन एक बिंदु (r = ${r})`,
    scatterDesc: (n, r) => `${n} दिनों का स्कैटर प्लॉट: Banterhearts p95 लेटेंसी बनाम Banterpacks उपयोगकर्ता लेटेंसी, न्यूनतम-वर्ग रेखा के साथ। Pearson r = ${r}।`,
    p95: "p95 लेटेंसी (ms)",
    userLatency: "उपयोगकर्ता लेटेंसी (ms)",
    errorRate: "त्रुटि दर",
    day: "दिन",
    noData: "front-matter में चार्ट के लिए कोई दैनिक डेटा नहीं है।",
  },
};

const ms = (v: number) => `${formatNumber(v, 1)} ms`;
const msAxis = (v: number) => formatNumber(v, 0);
const pct = (v: number) => formatFractionPct(v, 2);
const pctAxis = (v: number) => formatFractionPct(v, 1);

export function Evidence({ frontMatter, lang, tableLabel }: { frontMatter: EpisodeFrontMatter; lang: Lang; tableLabel: string }) {
  const t = TEXT[lang];
  const daily = frontMatter.daily;
  const eventCharts = <EventCharts frontMatter={frontMatter} lang={lang} tableLabel={tableLabel} />;
  const quality = frontMatter.metrics.quality ?? [];
  // Latency against accuracy per model, only in episodes whose facts have it (older ones render as before).
  const tradeoffCharts =
    quality.length > 0
      ? quality.map((model, i) => (
          <TradeoffChart key={model.label} id={`ev-tradeoff-${i + 1}`} model={model} t={TRADEOFF_CHART[lang]} tableLabel={tableLabel} />
        ))
      : null;
  if (daily.length === 0)
    return episodeEvents(frontMatter.metrics).some((e) => e.chart) || tradeoffCharts ? (
      <>
        <p className="muted">{t.noData}</p>
        <div className="evidence">
          {eventCharts}
          {tradeoffCharts}
        </div>
      </>
    ) : (
      <p className="muted">{t.noData}</p>
    );
  const days = daily.map((d) => d.day);
  const m = frontMatter.metrics;
  const r = m.correlation === null ? "–" : formatNumber(m.correlation, 2);
  const points = daily
    .filter((d) => d.latency_p95_ms !== null && d.user_latency_ms !== null)
    .map((d) => ({ label: d.day, x: d.latency_p95_ms!, y: d.user_latency_ms! }));
  const hasUser = daily.some((d) => d.user_latency_ms !== null);
  const hasErrors = daily.some((d) => d.error_rate !== null);
  const hasP95 = daily.some((d) => d.latency_p95_ms !== null);
  // The episode's events at their commits, on the latency charts (each chart keeps those within its days).
  const eventStrings = uiStrings(lang).changeEvents;
  const markers = eventMarkers(episodeEvents(m), lang, eventStrings);
  const marked = { markers, markersLabel: eventStrings.markersLabel };
  return (
    <div className="evidence">
      {hasP95 ? (
        <LineChart
          id="ev-p95"
          title={t.latencyTitle}
          description={t.latencyDesc(days.length, m.latency_p95_ms === null ? "–" : ms(m.latency_p95_ms))}
          days={days}
          series={[{ label: t.p95, values: daily.map((d) => d.latency_p95_ms) }]}
          yLabel={t.p95}
          format={ms}
          formatTick={msAxis}
          tableLabel={tableLabel}
          dayLabel={t.day}
          {...marked}
        />
      ) : null}
      {hasUser ? (
        <LineChart
          id="ev-user"
          title={t.userTitle}
          description={t.userDesc(days.length, m.user_latency_ms === null ? "–" : ms(m.user_latency_ms))}
          days={days}
          series={[{ label: t.userLatency, values: daily.map((d) => d.user_latency_ms), className: "series-2" }]}
          yLabel={t.userLatency}
          format={ms}
          formatTick={msAxis}
          tableLabel={tableLabel}
          dayLabel={t.day}
          {...marked}
        />
      ) : null}
      {hasErrors ? (
        <LineChart
          id="ev-errors"
          title={t.errorTitle}
          description={t.errorDesc(pct(m.error_rate ?? 0))}
          days={days}
          series={[{ label: t.errorRate, values: daily.map((d) => d.error_rate), className: "series-3" }]}
          yLabel={t.errorRate}
          format={pct}
          formatTick={pctAxis}
          tableLabel={tableLabel}
          dayLabel={t.day}
          zero
        />
      ) : null}
      {points.length >= 2 ? (
        <ScatterChart
          id="ev-scatter"
          title={t.scatterTitle(r)}
          description={t.scatterDesc(points.length, r)}
          points={points}
          xLabel={t.p95}
          yLabel={t.userLatency}
          formatX={ms}
          formatY={ms}
          formatTickX={msAxis}
          formatTickY={msAxis}
          tableLabel={tableLabel}
          pointLabel={t.day}
        />
      ) : null}
      {eventCharts}
      {tradeoffCharts}
    </div>
  );
}

/** Each event's own chart (when its front-matter has one), titled with its lead series, in the events' order. */
function EventCharts({ frontMatter, lang, tableLabel }: { frontMatter: EpisodeFrontMatter; lang: Lang; tableLabel: string }) {
  const s = uiStrings(lang).changeEvents;
  const charts = episodeEvents(frontMatter.metrics).map((e) =>
    e.chart ? (
      <EventChart
        key={e.n}
        id={`ev-event-${e.n}`}
        chart={e.chart}
        label={e.lead.label}
        kind={e.kind}
        t={s.chart}
        fixedBy={s.fixedBy}
        tableLabel={tableLabel}
        commitLabel={s.commit}
        kindLabel={s.kind}
      />
    ) : null,
  );
  return <>{charts}</>;
}
