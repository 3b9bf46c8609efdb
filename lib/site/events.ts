import type { ChangeEvent } from "@/lib/analysis/facts";
import { formatFact, type Lang } from "@/lib/episode/fact";
import type { EpisodeFrontMatter } from "@/lib/episode/file";
import type { ChangeEventStrings } from "./i18n";

/**
 * The change-point events of an episode as the site shows them: the events
 * table and the markers on the latency charts. Server-side; numbers go
 * through formatFact, so the page's locale formats them (German 18,3 %).
 */

/** An episode's events (`metrics.change_events`; old episodes have none: `metrics.changes` instead). */
export function episodeEvents(metrics: EpisodeFrontMatter["metrics"]): ChangeEvent[] {
  return metrics.change_events ?? [];
}

export const shortSha = (sha: string) => sha.slice(0, 7);

/** Interval ends stored as ±1e308 (ClickHouse has no infinity) or ±Infinity are unbounded. */
const UNBOUNDED = 1e300;

/** A signed percentage, one decimal, in the page's locale. */
export function formatPct(value: number, lang: Lang): string {
  if (!Number.isFinite(value) || Math.abs(value) >= UNBOUNDED) return value > 0 ? "+∞" : "−∞";
  return formatFact({ value, unit: "percent", decimals: 1, signed: true }, lang);
}

/** A 95 % interval of signed percentages: `[+4.1 %, +30.2 %]`. */
export function formatPctInterval(interval: readonly [number, number] | null | undefined, lang: Lang): string {
  if (!interval) return "–";
  return `[${formatPct(interval[0], lang)}, ${formatPct(interval[1], lang)}]`;
}

/** An event's size in its shape's own terms, as the status page and the API's readers see it. */
export interface ShapedSize {
  shape: "step" | "drift" | "spread";
  change_pct: number;
  ci_low_pct: number;
  ci_high_pct: number;
  slope_pct_per_run: number | null;
  slope_ci_low: number | null;
  slope_ci_high: number | null;
  spread_ratio: number | null;
  spread_ci_low: number | null;
  spread_ci_high: number | null;
}

/**
 * A change's size and its 95 % interval in its shape's terms: a step's signed percentage (`+18.3%`, `[+12.3%, +24.5%]`),
 * a drift's slope per run (`+0.41% per run`), a spread change's noise ratio (`2.04×`, `[1.62×, 2.57×]`).
 */
export function formatShapedSize(e: ShapedSize, lang: Lang): { size: string; interval: string } {
  const bounded = (v: number | null): v is number => v !== null && Number.isFinite(v) && Math.abs(v) < UNBOUNDED;
  if (e.shape === "drift" && bounded(e.slope_pct_per_run)) {
    const slope = (v: number) => formatFact({ value: v, unit: "pct_per_run", decimals: 2, signed: true }, lang);
    const interval = bounded(e.slope_ci_low) && bounded(e.slope_ci_high) ? `[${slope(e.slope_ci_low)}, ${slope(e.slope_ci_high)}]` : "–";
    return { size: slope(e.slope_pct_per_run), interval };
  }
  if (e.shape === "spread" && bounded(e.spread_ratio)) {
    const ratio = (v: number) => formatFact({ value: v, unit: "times", decimals: 2 }, lang);
    const interval = bounded(e.spread_ci_low) && bounded(e.spread_ci_high) ? `[${ratio(e.spread_ci_low)}, ${ratio(e.spread_ci_high)}]` : "–";
    return { size: ratio(e.spread_ratio), interval };
  }
  return { size: formatPct(e.change_pct, lang), interval: formatPctInterval([e.ci_low_pct, e.ci_high_pct], lang) };
}

/** An episode event's size and interval in its shape's terms (formatShapedSize): a step's %, a drift's slope per run, a spread change's ratio. */
export function formatEventSize(e: ChangeEvent, lang: Lang): { size: string; interval: string } {
  return formatShapedSize(
    {
      shape: e.shape,
      change_pct: e.lead.change_pct,
      ci_low_pct: e.lead.ci_pct[0],
      ci_high_pct: e.lead.ci_pct[1],
      slope_pct_per_run: e.drift?.slope_pct_per_run ?? null,
      slope_ci_low: e.drift?.ci_pct_per_run[0] ?? null,
      slope_ci_high: e.drift?.ci_pct_per_run[1] ?? null,
      spread_ratio: e.spread?.ratio ?? null,
      spread_ci_low: e.spread?.ci_ratio[0] ?? null,
      spread_ci_high: e.spread?.ci_ratio[1] ?? null,
    },
    lang,
  );
}

/** A q- or p-value: "< 0.001" below the floor, two significant digits above it (formatFact). */
export function formatQ(value: number | null | undefined, lang: Lang): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return formatFact({ value, unit: "p_value", decimals: 2 }, lang);
}

/** Did users feel it: yes / no / not measurable (no users' side, or not measurable). */
export function usersFelt(event: ChangeEvent, t: ChangeEventStrings): { text: string; state: "yes" | "no" | "unmeasurable" } {
  if (!event.users || !event.users.measurable) return { text: t.notMeasurable, state: "unmeasurable" };
  return event.users.felt ? { text: t.yes, state: "yes" } : { text: t.no, state: "no" };
}

/** A marker on a line chart: an event at its commit's time. */
export interface ChartMarker {
  /** ISO timestamp of the commit. */
  ts: string;
  /** Short label drawn on the chart (the short sha). */
  label: string;
  kind: "regression" | "improvement";
  /** The marker as a sentence (the chart's description and the list under it). */
  text: string;
}

/** The markers of an episode's events, in commit order. */
export function eventMarkers(events: ChangeEvent[], lang: Lang, t: ChangeEventStrings): ChartMarker[] {
  return [...events]
    .filter((e) => Number.isFinite(Date.parse(e.commit_ts)))
    .sort((a, b) => Date.parse(a.commit_ts) - Date.parse(b.commit_ts))
    .map((e) => {
      const sha = shortSha(e.commit_sha);
      const date = formatFact({ value: Date.parse(e.commit_ts), unit: "date", decimals: 0 }, lang);
      const kind = e.kind === "regression" ? t.regression : t.improvement;
      return { ts: e.commit_ts, label: sha, kind: e.kind, text: t.marker(kind, sha, date, `${e.lead.label} ${formatPct(e.lead.change_pct, lang)}`) };
    });
}
