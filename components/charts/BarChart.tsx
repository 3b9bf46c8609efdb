import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleBand, scaleLinear } from "@visx/scale";
import { Bar } from "@visx/shape";
import { shortDay } from "@/lib/site/format";
import { AxisLabel, axisProps, ChartFrame, HEIGHT, MARGIN, paddedDomain, WIDTH } from "./ChartFrame";
import type { LineSeries } from "./LineChart";

export interface BarChartProps {
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
}

/** Counts per day as (grouped) bars from zero. */
export function BarChart({ id, title, description, days, series, yLabel, format, formatTick = format, tableLabel, dayLabel }: BarChartProps) {
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = scaleBand<string>({ domain: days, range: [0, innerW], padding: 0.25 });
  const inner = scaleBand<number>({ domain: series.map((_, i) => i), range: [0, x.bandwidth()], padding: 0.1 });
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y = scaleLinear<number>({ domain: paddedDomain([0, ...all], { zero: true }), range: [innerH, 0], nice: true });
  const every = Math.max(1, Math.ceil(days.length / 6));
  // Counts get whole-number ticks only (no "0.2 episodes").
  const integerTicks = all.every(Number.isInteger) ? y.ticks(5).filter(Number.isInteger) : undefined;
  const table = {
    caption: title,
    columns: [dayLabel, ...series.map((s) => s.label)],
    rows: days.map((d, i) => [d, ...series.map((s) => (s.values[i] === null ? "–" : format(s.values[i]!)))]),
  };
  return (
    <ChartFrame
      id={id}
      title={title}
      description={description}
      table={table}
      tableLabel={tableLabel}
      legend={series.map((s, i) => ({ label: s.label, className: s.className ?? `series-${i + 1}` }))}
    >
      <Group left={MARGIN.left} top={MARGIN.top}>
        <AxisLeft scale={y} numTicks={5} tickValues={integerTicks} tickFormat={(v) => formatTick(Number(v))} {...axisProps} />
        <AxisLabel orientation="left" range={y.range()} offset={44}>
          {yLabel}
        </AxisLabel>
        <AxisBottom top={innerH} scale={x} tickValues={days.filter((_, i) => i % every === 0)} tickFormat={(d) => shortDay(String(d))} {...axisProps} />
        {series.map((s, si) => (
          <g key={s.label} className={`chart-series ${s.className ?? `series-${si + 1}`}`}>
            {days.map((d, i) => {
              const v = s.values[i];
              if (v === null || v === undefined) return null;
              const top = y(v);
              return (
                <Bar key={d} x={(x(d) ?? 0) + (inner(si) ?? 0)} y={top} width={inner.bandwidth()} height={Math.max(0, innerH - top)} fill="currentColor">
                  <title>{`${d}, ${s.label}: ${format(v)}`}</title>
                </Bar>
              );
            })}
          </g>
        ))}
      </Group>
    </ChartFrame>
  );
}
