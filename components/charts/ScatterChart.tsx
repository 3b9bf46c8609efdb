import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleLinear } from "@visx/scale";
import { AxisLabel, axisProps, ChartFrame, HEIGHT, MARGIN, paddedDomain, WIDTH } from "./ChartFrame";

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
}

export interface ScatterChartProps {
  id: string;
  title: string;
  description: string;
  points: ScatterPoint[];
  xLabel: string;
  yLabel: string;
  formatX: (v: number) => string;
  formatY: (v: number) => string;
  /** Axis ticks (default: formatX / formatY): shorter, without the unit the axis label names. */
  formatTickX?: (v: number) => string;
  formatTickY?: (v: number) => string;
  tableLabel: string;
  pointLabel: string;
}

/** Least-squares line through the points (drawn only with ≥ 3 points and some spread). */
function fit(points: ScatterPoint[]): { slope: number; intercept: number } | undefined {
  if (points.length < 3) return undefined;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

/** One point per day: x against y, with the least-squares line. */
export function ScatterChart({
  id,
  title,
  description,
  points,
  xLabel,
  yLabel,
  formatX,
  formatY,
  formatTickX = formatX,
  formatTickY = formatY,
  tableLabel,
  pointLabel,
}: ScatterChartProps) {
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xd = paddedDomain(points.map((p) => p.x));
  const x = scaleLinear<number>({ domain: xd, range: [0, innerW], nice: true });
  const y = scaleLinear<number>({ domain: paddedDomain(points.map((p) => p.y)), range: [innerH, 0], nice: true });
  const line = fit(points);
  const [x0, x1] = x.domain();
  const table = { caption: title, columns: [pointLabel, xLabel, yLabel], rows: points.map((p) => [p.label, formatX(p.x), formatY(p.y)]) };
  return (
    // 12 px taller than the plot needs: room for the x-axis label below the tick labels (it was clipped).
    <ChartFrame id={id} title={title} description={description} table={table} tableLabel={tableLabel} height={HEIGHT + 12}>
      <Group left={MARGIN.left} top={MARGIN.top}>
        <AxisLeft scale={y} numTicks={5} tickFormat={(v) => formatTickY(Number(v))} {...axisProps} />
        <AxisLabel orientation="left" range={y.range()} offset={44}>
          {yLabel}
        </AxisLabel>
        <AxisBottom top={innerH} scale={x} numTicks={5} tickFormat={(v) => formatTickX(Number(v))} {...axisProps} />
        <AxisLabel orientation="bottom" range={x.range()} offset={14} top={innerH}>
          {xLabel}
        </AxisLabel>
        <defs>
          <clipPath id={`${id}-clip`}>
            <rect width={innerW} height={innerH} />
          </clipPath>
        </defs>
        {line ? (
          <line
            className="chart-fit"
            clipPath={`url(#${id}-clip)`}
            x1={x(x0)}
            y1={y(line.slope * x0 + line.intercept)}
            x2={x(x1)}
            y2={y(line.slope * x1 + line.intercept)}
            stroke="currentColor"
            strokeDasharray="4 4"
            strokeWidth={1.5}
          />
        ) : null}
        <g className="chart-series series-1">
          {points.map((p) => (
            <circle key={p.label} cx={x(p.x)} cy={y(p.y)} r={5} fill="currentColor" fillOpacity={0.8}>
              <title>{`${p.label}: ${formatX(p.x)}, ${formatY(p.y)}`}</title>
            </circle>
          ))}
        </g>
      </Group>
    </ChartFrame>
  );
}
