import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleLinear, scalePoint } from "@visx/scale";
import { LinePath } from "@visx/shape";
import type { ChartMarker } from "@/lib/site/events";
import { shortDay } from "@/lib/site/format";
import { AxisLabel, axisProps, ChartFrame, HEIGHT, MARGIN, paddedDomain, WIDTH } from "./ChartFrame";

export interface LineSeries {
  label: string;
  values: (number | null)[];
  /** CSS class giving the series its colour (series-1, series-2). */
  className?: string;
}

export interface LineChartProps {
  id: string;
  title: string;
  description: string;
  days: string[];
  series: LineSeries[];
  yLabel: string;
  /** Values in the data table and point titles. */
  format: (value: number) => string;
  /** Axis ticks (default: format). */
  formatTick?: (value: number) => string;
  tableLabel: string;
  dayLabel: string;
  zero?: boolean;
  /** Vertical markers at points in time (events at their commits); those outside the days are left out. */
  markers?: ChartMarker[];
  /** The label of the list of markers under the chart. */
  markersLabel?: string;
}

const DAY_MS = 86_400_000;

/**
 * Where a timestamp falls on a point scale of days: each day's point stands
 * for its noon, so a commit at 18:00 sits a quarter step right of its day.
 * Undefined outside the charted days.
 */
export function markerX(ts: string, days: string[], x: { (d: string): number | undefined; step(): number }): number | undefined {
  const t = Date.parse(ts);
  if (!Number.isFinite(t) || days.length === 0) return undefined;
  const day = new Date(t).toISOString().slice(0, 10);
  if (day < days[0] || day > days[days.length - 1]) return undefined;
  const own = x(day);
  const fraction = (t - Date.parse(`${day}T00:00:00.000Z`)) / DAY_MS - 0.5;
  // A day missing from the series: measured from the first day.
  const base = own ?? (x(days[0]) ?? 0) + ((Date.parse(`${day}T00:00:00.000Z`) - Date.parse(`${days[0]}T00:00:00.000Z`)) / DAY_MS) * x.step();
  return base + fraction * x.step();
}

/** Values per day as lines with points; a missing day (null) is a gap, not a zero. */
export function LineChart({
  id,
  title,
  description,
  days,
  series,
  yLabel,
  format,
  formatTick = format,
  tableLabel,
  dayLabel,
  zero,
  markers = [],
  markersLabel = "",
}: LineChartProps) {
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = scalePoint<string>({ domain: days, range: [0, innerW], padding: 0.4 });
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y = scaleLinear<number>({ domain: paddedDomain(all, { zero }), range: [innerH, 0], nice: true });
  const every = Math.max(1, Math.ceil(days.length / 6));
  const table = {
    caption: title,
    columns: [dayLabel, ...series.map((s) => s.label)],
    rows: days.map((d, i) => [d, ...series.map((s) => (s.values[i] === null ? "–" : format(s.values[i]!)))]),
  };
  const placed = markers.flatMap((m) => {
    const at = markerX(m.ts, days, x);
    return at === undefined ? [] : [{ ...m, at: Math.min(innerW, Math.max(0, at)) }];
  });
  const fullDescription = placed.length > 0 ? `${description} ${placed.map((m) => `${m.text}.`).join(" ")}` : description;
  const notes = { label: markersLabel, items: placed.map((m) => ({ text: m.text, className: `marker-${m.kind}` })) };
  return (
    <ChartFrame
      id={id}
      title={title}
      description={fullDescription}
      table={table}
      tableLabel={tableLabel}
      notes={notes}
      legend={series.map((s, i) => ({ label: s.label, className: s.className ?? `series-${i + 1}` }))}
    >
      <Group left={MARGIN.left} top={MARGIN.top}>
        <AxisLeft scale={y} numTicks={5} tickFormat={(v) => formatTick(Number(v))} {...axisProps} />
        <AxisLabel orientation="left" range={y.range()} offset={44}>
          {yLabel}
        </AxisLabel>
        <AxisBottom top={innerH} scale={x} tickValues={days.filter((_, i) => i % every === 0)} tickFormat={(d) => shortDay(String(d))} {...axisProps} />
        {series.map((s, si) => {
          const points = days.map((d, i) => ({ d, v: s.values[i] }));
          const cls = s.className ?? `series-${si + 1}`;
          return (
            <g key={s.label} className={`chart-series ${cls}`}>
              <LinePath
                data={points}
                x={(p) => x(p.d) ?? 0}
                y={(p) => y(p.v ?? 0)}
                defined={(p) => p.v !== null}
                stroke="currentColor"
                strokeWidth={2}
                fill="none"
              />
              {points.map((p) =>
                p.v === null ? null : (
                  <circle key={p.d} cx={x(p.d) ?? 0} cy={y(p.v)} r={3.5} fill="currentColor">
                    <title>{`${p.d}: ${format(p.v)}`}</title>
                  </circle>
                ),
              )}
            </g>
          );
        })}
        {placed.map((m, i) => (
          <g key={`${m.label}-${m.ts}`} className={`chart-marker marker-${m.kind}`} data-commit={m.label}>
            <title>{m.text}</title>
            <line x1={m.at} x2={m.at} y1={0} y2={innerH} stroke="currentColor" strokeWidth={1.5} strokeDasharray="4 3" />
            <text
              x={m.at > innerW - 48 ? m.at - 3 : m.at + 3}
              y={11 + (i % 3) * 12}
              textAnchor={m.at > innerW - 48 ? "end" : "start"}
              fill="currentColor"
              fontSize={11}
              fontFamily="ui-monospace, monospace"
            >
              {m.label}
            </text>
          </g>
        ))}
      </Group>
    </ChartFrame>
  );
}
