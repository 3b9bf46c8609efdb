import { AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleLinear } from "@visx/scale";
import type { EventChart as EventChartData, EventChartPoint } from "@/lib/site/event-chart";
import { shortSha } from "@/lib/site/events";
import { formatNumber } from "@/lib/site/format";
import type { EventChartStrings } from "@/lib/site/i18n";
import { AxisLabel, axisProps, ChartFrame, MARGIN, paddedDomain, WIDTH } from "./ChartFrame";

/**
 * One event's own chart (lib/site/event-chart.ts): its lead series run by run
 * in commit order around the change. Nightly runs are filled circles,
 * bisection runs triangles (shape, not colour alone; the legend inside the
 * SVG draws the same symbols); the segment means before and after are lines
 * over their 95 % interval bands; the blamed commit is a dashed line (while
 * still bisecting, the range is shaded between two dashed lines) and the fix
 * another. Server-rendered SVG without hooks (lib/site/static-markup.ts).
 */

export interface EventChartProps {
  id: string;
  chart: EventChartData;
  /** The title's series label (default: the chart's own label). */
  label?: string;
  /** The event's direction: the blamed marker's colour. */
  kind?: "regression" | "improvement";
  t: EventChartStrings;
  /** "fixed by 1a2b3c4" (lib/site/i18n.ts changeEvents.fixedBy). */
  fixedBy: (sha: string) => string;
  tableLabel: string;
  /** The column "Commit" and "Kind" of the data table. */
  commitLabel: string;
  kindLabel: string;
}

/** Taller than the other charts: a legend row above the plot. */
export const EVENT_CHART_HEIGHT = 300;
const TOP = 40;
/** Half the width a commit's runs take along x (lib/site/event-chart.ts spreads them over at most 0.6). */
const HALF = 0.35;

/** `2026-11-10T18:00:00.000Z` → `2026-11-10 18:00` (UTC), or the text as given. */
export function formatRunTs(ts: string): string {
  const t = Date.parse(ts);
  if (!Number.isFinite(t)) return ts;
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

/** The triangle of a bisection run, centred on (cx, cy). */
export function trianglePath(cx: number, cy: number, r = 5): string {
  const h = r * 0.8;
  return `M${cx},${cy - r}L${cx + r},${cy + h}L${cx - r},${cy + h}Z`;
}

function RunSymbol({ kind, cx, cy }: { kind: EventChartPoint["kind"]; cx: number; cy: number }) {
  return kind === "nightly" ? (
    <circle className="point-nightly" cx={cx} cy={cy} r={3.5} fill="currentColor" />
  ) : (
    <path className="point-bisection" d={trianglePath(cx, cy)} fill="currentColor" />
  );
}

const KIND_CLASS: Record<EventChartPoint["kind"], string> = { nightly: "series-1", bisection: "series-2" };

export function EventChart({ id, chart, label = chart.label, kind = "regression", t, fixedBy, tableLabel, commitLabel, kindLabel }: EventChartProps) {
  const height = EVENT_CHART_HEIGHT;
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = height - TOP - MARGIN.bottom;
  const unit = chart.unit ? ` ${chart.unit}` : "";
  const value = (v: number) => `${formatNumber(v, 2)}${unit}`;
  const interval = (ci: readonly [number, number]) => `[${value(ci[0])}, ${value(ci[1])}]`;
  const { blamed, fix, points, segments } = chart;

  // x: the commits' positions, with room for a commit's spread runs at either end.
  const xs = [...points.map((p) => p.x), ...chart.commits.map((c) => c.x), ...segments.flatMap((s) => [s.from_x, s.to_x]), blamed.x, blamed.range_from_x];
  const x = scaleLinear<number>({ domain: [Math.min(...xs) - HALF - 0.15, Math.max(...xs) + HALF + 0.15], range: [0, innerW] });
  const [x0, x1] = x.domain();
  const inside = (v: number) => v >= x0 && v <= x1;
  const y = scaleLinear<number>({
    domain: paddedDomain([...points.map((p) => p.value), ...segments.flatMap((s) => [s.ci[0], s.ci[1], s.mean])]),
    range: [innerH, 0],
    nice: true,
  });
  const clamp = (v: number) => Math.min(innerW, Math.max(0, v));

  const subject = chart.commits.find((c) => c.sha === blamed.sha)?.subject ?? "";
  const blamedText = blamed.bisected ? t.blamed(shortSha(blamed.sha), subject) : t.range(shortSha(blamed.range_from_sha), shortSha(blamed.sha));
  const fixText = fix ? fixedBy(shortSha(fix.sha)) : null;
  const nightly = points.filter((p) => p.kind === "nightly").length;
  const [before, after] = segments;
  const description = [
    t.summary(points.length, nightly, points.length - nightly, new Set(points.map((p) => p.commit_sha)).size),
    before ? t.before(value(before.mean), interval(before.ci), before.n) : "",
    after ? t.after(value(after.mean), interval(after.ci), after.n) : "",
    `${blamedText}.`,
    fixText ? `${fixText}.` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const notes = {
    label: t.notesLabel,
    items: [{ text: blamedText, className: `marker-${kind}` }, ...(fixText ? [{ text: fixText, className: "marker-improvement" }] : [])],
  };
  const kindText = (k: EventChartPoint["kind"]) => (k === "nightly" ? t.nightly : t.bisection);
  const table = {
    caption: t.title(label),
    columns: [t.run, commitLabel, kindLabel, t.value],
    rows: points.map((p) => [formatRunTs(p.run_ts), shortSha(p.commit_sha), kindText(p.kind), value(p.value)]),
  };

  // Marker labels at the top of the plot, flipped left near the right edge.
  const labelAt = (at: number, row: number, text: string) => {
    const right = at + 3 + text.length * 7 > innerW;
    return (
      <text
        x={right ? at - 3 : at + 3}
        y={11 + row * 13}
        textAnchor={right ? "end" : "start"}
        fill="currentColor"
        fontSize={11}
        fontFamily="ui-monospace, monospace"
      >
        {text}
      </text>
    );
  };
  const bx = clamp(x(blamed.x));
  const rx = clamp(x(blamed.range_from_x));
  const legendGap = Math.max(110, 30 + t.nightly.length * 8.5);

  return (
    <ChartFrame id={id} title={t.title(label)} description={description} table={table} tableLabel={tableLabel} notes={notes} height={height}>
      <g className="event-legend" transform={`translate(${MARGIN.left}, 16)`}>
        <g className={`legend-nightly ${KIND_CLASS.nightly}`}>
          <RunSymbol kind="nightly" cx={6} cy={-4} />
          <text x={16} y={0} fill="currentColor" fontSize={12}>
            {t.nightly}
          </text>
        </g>
        <g className={`legend-bisection ${KIND_CLASS.bisection}`} transform={`translate(${legendGap}, 0)`}>
          <RunSymbol kind="bisection" cx={6} cy={-4} />
          <text x={16} y={0} fill="currentColor" fontSize={12}>
            {t.bisection}
          </text>
        </g>
      </g>
      <Group left={MARGIN.left} top={TOP}>
        {segments.map((s, i) => {
          const left = clamp(x(s.from_x - HALF));
          const right = clamp(x(s.to_x + HALF));
          const top = y(Math.max(s.ci[0], s.ci[1]));
          const bottom = y(Math.min(s.ci[0], s.ci[1]));
          return (
            <g key={i} className={`chart-band segment-${i === 0 ? "before" : i === 1 ? "after" : i + 1}`}>
              <title>{i === 0 ? t.before(value(s.mean), interval(s.ci), s.n) : t.after(value(s.mean), interval(s.ci), s.n)}</title>
              <rect x={left} y={top} width={Math.max(1, right - left)} height={Math.max(1, bottom - top)} fill="currentColor" fillOpacity={0.18} />
              <line x1={left} x2={right} y1={y(s.mean)} y2={y(s.mean)} stroke="currentColor" strokeWidth={1.5} />
            </g>
          );
        })}
        <AxisLeft scale={y} numTicks={5} tickFormat={(v) => formatNumber(Number(v), 1)} {...axisProps} />
        <AxisLabel orientation="left" range={y.range()} offset={44}>
          {chart.unit ? `${t.value} (${chart.unit})` : t.value}
        </AxisLabel>
        <g className="commit-axis" transform={`translate(0, ${innerH})`}>
          <line x1={0} x2={innerW} y1={0} y2={0} stroke="currentColor" />
          {chart.commits
            .filter((c) => inside(c.x))
            .map((c) => (
              <line key={c.sha} x1={x(c.x)} x2={x(c.x)} y1={0} y2={6} stroke="currentColor">
                <title>{`${shortSha(c.sha)} ${c.subject}`}</title>
              </line>
            ))}
        </g>
        <AxisLabel orientation="bottom" range={x.range()} offset={0} top={innerH}>
          {t.xLabel}
        </AxisLabel>
        <g className={`chart-marker marker-${kind}`} data-commit={shortSha(blamed.sha)} data-role={blamed.bisected ? "blamed" : "range"}>
          <title>{blamedText}</title>
          {blamed.bisected ? null : (
            <>
              <rect x={Math.min(rx, bx)} y={0} width={Math.abs(bx - rx)} height={innerH} fill="currentColor" fillOpacity={0.08} />
              <line x1={rx} x2={rx} y1={0} y2={innerH} stroke="currentColor" strokeWidth={1.5} strokeDasharray="4 3" />
            </>
          )}
          <line x1={bx} x2={bx} y1={0} y2={innerH} stroke="currentColor" strokeWidth={1.5} strokeDasharray="4 3" />
          {labelAt(bx, 0, blamed.bisected ? shortSha(blamed.sha) : `${shortSha(blamed.range_from_sha)}…${shortSha(blamed.sha)}`)}
        </g>
        {fix && inside(fix.x) ? (
          <g className="chart-marker marker-improvement" data-commit={shortSha(fix.sha)} data-role="fix">
            <title>{fixText}</title>
            <line x1={x(fix.x)} x2={x(fix.x)} y1={0} y2={innerH} stroke="currentColor" strokeWidth={1.5} strokeDasharray="2 3" />
            {labelAt(x(fix.x), 1, shortSha(fix.sha))}
          </g>
        ) : null}
        {points.map((p, i) => (
          <g key={i} className={`chart-point ${KIND_CLASS[p.kind]}`}>
            <title>{`${formatRunTs(p.run_ts)} · ${shortSha(p.commit_sha)} · ${kindText(p.kind)}: ${value(p.value)}`}</title>
            <RunSymbol kind={p.kind} cx={x(p.x)} cy={y(p.value)} />
          </g>
        ))}
      </Group>
    </ChartFrame>
  );
}
