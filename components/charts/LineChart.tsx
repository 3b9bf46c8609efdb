import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleLinear, scalePoint } from "@visx/scale";
import { LinePath } from "@visx/shape";
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
}

/** Values per day as lines with points; a missing day (null) is a gap, not a zero. */
export function LineChart({ id, title, description, days, series, yLabel, format, formatTick = format, tableLabel, dayLabel, zero }: LineChartProps) {
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = scalePoint<string>({ domain: days, range: [0, innerW], padding: 0.4 });
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y = scaleLinear<number>({ domain: paddedDomain(all, { zero }), range: [innerH, 0], nice: true });
  const every = Math.max(1, Math.ceil(days.length / 8));
  const table = {
    caption: title,
    columns: [dayLabel, ...series.map((s) => s.label)],
    rows: days.map((d, i) => [d, ...series.map((s) => (s.values[i] === null ? "–" : format(s.values[i]!)))]),
  };
  return (
    <ChartFrame id={id} title={title} description={description} table={table} tableLabel={tableLabel} legend={series.map((s, i) => ({ label: s.label, className: s.className ?? `series-${i + 1}` }))}>
      <Group left={MARGIN.left} top={MARGIN.top}>
        <AxisLeft scale={y} numTicks={5} tickFormat={(v) => formatTick(Number(v))} {...axisProps} />
        <AxisLabel orientation="left" range={y.range()} offset={44}>
          {yLabel}
        </AxisLabel>
        <AxisBottom
          top={innerH}
          scale={x}
          tickValues={days.filter((_, i) => i % every === 0)}
          tickFormat={(d) => shortDay(String(d))}
          {...axisProps}
        />
        {series.map((s, si) => {
          const points = days.map((d, i) => ({ d, v: s.values[i] }));
          const cls = s.className ?? `series-${si + 1}`;
          return (
            <g key={s.label} className={`chart-series ${cls}`}>
              <LinePath data={points} x={(p) => x(p.d) ?? 0} y={(p) => y(p.v ?? 0)} defined={(p) => p.v !== null} stroke="currentColor" strokeWidth={2} fill="none" />
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
      </Group>
    </ChartFrame>
  );
}
