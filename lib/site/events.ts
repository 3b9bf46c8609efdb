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
