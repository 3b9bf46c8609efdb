import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleBand, scaleLinear } from "@visx/scale";
import { Bar } from "@visx/shape";
import { renderToStaticMarkup } from "react-dom/server";

/**
 * Grouped bar charts for the benchmark results, as standalone SVG files (the
 * same visx primitives the site's charts use; inline styles, since a file in
 * docs/ has no stylesheet). Written next to the docs that embed them.
 */

export interface BarGroup {
  label: string;
  values: number[];
}

export interface GroupedBarChart {
  title: string;
  /** One entry per bar in a group, with its colour. */
  series: { label: string; color: string }[];
  groups: BarGroup[];
  xLabel: string;
  yLabel: string;
  yMax: number;
  /** A horizontal reference line (e.g. a goal). */
  goal?: { value: number; label: string };
}

const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { top: 48, right: 16, bottom: 48, left: 56 };

export function groupedBarSvg(chart: GroupedBarChart): string {
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = scaleBand<string>({ domain: chart.groups.map((g) => g.label), range: [0, innerW], padding: 0.25 });
  const inner = scaleBand<number>({ domain: chart.series.map((_, i) => i), range: [0, x.bandwidth()], padding: 0.08 });
  const y = scaleLinear<number>({ domain: [0, chart.yMax], range: [innerH, 0] });
  const text = { fontFamily: "system-ui, sans-serif", fontSize: 11, fill: "#333" };
  const svg = (
    <svg xmlns="http://www.w3.org/2000/svg" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={chart.title}>
      <title>{chart.title}</title>
      <rect width={WIDTH} height={HEIGHT} fill="#fff" />
      <text x={MARGIN.left} y={18} {...text} fontSize={14} fontWeight={600}>
        {chart.title}
      </text>
      {chart.series.map((s, i) => (
        <g key={s.label} transform={`translate(${MARGIN.left + i * 190}, 30)`}>
          <rect width={10} height={10} fill={s.color} />
          <text x={14} y={9} {...text}>
            {s.label}
          </text>
        </g>
      ))}
      <Group left={MARGIN.left} top={MARGIN.top}>
        {chart.groups.map((g) =>
          g.values.map((v, i) => (
            <Bar
              key={`${g.label}-${i}`}
              x={(x(g.label) ?? 0) + (inner(i) ?? 0)}
              y={y(v)}
              width={inner.bandwidth()}
              height={innerH - y(v)}
              fill={chart.series[i].color}
            >
              <title>{`${chart.series[i].label}, ${g.label}: ${v.toFixed(1)}`}</title>
            </Bar>
          )),
        )}
        {chart.goal ? (
          <g>
            <line x1={0} x2={innerW} y1={y(chart.goal.value)} y2={y(chart.goal.value)} stroke="#555" strokeDasharray="4 3" />
            <text x={innerW} y={y(chart.goal.value) - 4} textAnchor="end" {...text}>
              {chart.goal.label}
            </text>
          </g>
        ) : null}
        <AxisLeft
          scale={y}
          numTicks={5}
          tickLabelProps={() => ({ ...text, textAnchor: "end", dx: -4, dy: 3 })}
          stroke="#999"
          tickStroke="#999"
          label={chart.yLabel}
          labelProps={{ ...text, textAnchor: "middle" }}
        />
        <AxisBottom
          top={innerH}
          scale={x}
          tickLabelProps={() => ({ ...text, textAnchor: "middle" })}
          stroke="#999"
          tickStroke="#999"
          label={chart.xLabel}
          labelProps={{ ...text, textAnchor: "middle" }}
        />
      </Group>
    </svg>
  );
  return `${renderToStaticMarkup(svg)}\n`;
}
