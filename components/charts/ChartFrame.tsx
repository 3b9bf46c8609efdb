import type { TickRendererProps } from "@visx/axis";
import type { ReactNode } from "react";

/**
 * An accessible server-rendered chart: a <figure> whose SVG is role="img"
 * labelled by its <title> and <desc>, with the numbers as a data table
 * (a <details> under the chart) for screen readers and for checking.
 */

/**
 * Drawn at 480 × 260 units: shown at about 340 px on a 390 px phone (text then
 * about 70 % of its size; the phone CSS raises it) and at up to ~460 px, two
 * to a row, on wider screens.
 */
export const WIDTH = 480;
export const HEIGHT = 260;
export const MARGIN = { top: 16, right: 16, bottom: 44, left: 64 };

export interface DataTable {
  caption: string;
  columns: string[];
  rows: (string | number)[][];
}

/** Notes under the chart (e.g. the commits it marks): visible text; the SVG's description says the same. */
export interface ChartNotes {
  label: string;
  items: { text: string; className: string }[];
}

export function ChartFrame({
  id,
  title,
  description,
  table,
  tableLabel,
  legend,
  notes,
  children,
  height = HEIGHT,
}: {
  id: string;
  title: string;
  description: string;
  table: DataTable;
  tableLabel: string;
  legend?: { label: string; className: string }[];
  notes?: ChartNotes;
  children: ReactNode;
  height?: number;
}) {
  return (
    <figure className="chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className="chart-title">
        {title}
      </figcaption>
      {legend && legend.length > 1 ? (
        <ul className="chart-legend" aria-hidden="true">
          {legend.map((l) => (
            <li key={l.label}>
              <span className={`swatch ${l.className}`} /> {l.label}
            </li>
          ))}
        </ul>
      ) : null}
      <svg
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        preserveAspectRatio="xMidYMid meet"
        className="chart-svg"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        {children}
      </svg>
      {notes && notes.items.length > 0 ? (
        <ul className="chart-notes" aria-label={notes.label}>
          {notes.items.map((n) => (
            <li key={n.text} className={n.className}>
              {n.text}
            </li>
          ))}
        </ul>
      ) : null}
      <details className="chart-data">
        <summary>{tableLabel}</summary>
        <div className="table-scroll">
          <table>
            <caption>{table.caption}</caption>
            <thead>
              <tr>
                {table.columns.map((c, i) => (
                  <th key={c} scope="col" className={i > 0 ? "num" : undefined}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((row, r) => (
                <tr key={r}>
                  {row.map((cell, i) =>
                    i === 0 ? (
                      <th key={i} scope="row">
                        {cell}
                      </th>
                    ) : (
                      <td key={i} className="num">
                        {cell}
                      </td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

const FONT_SIZE = 12;
const TICK_LENGTH = 8;

/**
 * A tick label as a plain SVG <text>. visx draws tick and axis labels with
 * its <Text>, which uses React hooks; these charts must render without any
 * (the episode page is static HTML rendered outside React DOM, see
 * lib/site/static-markup.ts), so the axes get this instead. Same position:
 * visx's dx/dy offsets become the text's own dx/dy.
 */
export function TickLabel({ x, y, dx, dy, fill, fontFamily, fontSize, textAnchor, formattedValue }: TickRendererProps) {
  return (
    <text x={x} y={y} dx={dx} dy={dy} fill={fill} fontFamily={fontFamily} fontSize={fontSize} textAnchor={textAnchor}>
      {formattedValue}
    </text>
  );
}

/**
 * An axis label where visx's own (hook-based) one would be: left axes get it
 * rotated, centred on the range, `offset` px beyond the ticks; bottom axes
 * centred below the tick labels. `top` is the axis' own offset.
 */
export function AxisLabel({
  orientation,
  range,
  offset,
  top = 0,
  children,
}: {
  orientation: "left" | "bottom";
  range: number[];
  offset: number;
  top?: number;
  children: string;
}) {
  const mid = (Number(range[0]) + Number(range[range.length - 1])) / 2;
  const position =
    orientation === "left"
      ? { x: -mid, y: -(TICK_LENGTH + offset), transform: "rotate(-90)" }
      : { x: mid, y: TICK_LENGTH + offset + FONT_SIZE + FONT_SIZE, transform: undefined };
  return (
    <g transform={top ? `translate(0, ${top})` : undefined}>
      <text className="visx-axis-label" {...position} textAnchor="middle" fill="currentColor" fontFamily="Arial" fontSize={FONT_SIZE}>
        {children}
      </text>
    </g>
  );
}

/** Axis styling: everything in currentColor, set by CSS (.chart-svg { color }), so both themes work. */
export const axisProps = {
  stroke: "currentColor",
  tickStroke: "currentColor",
  tickLength: TICK_LENGTH,
  tickLabelProps: { fill: "currentColor", fontSize: FONT_SIZE },
  tickComponent: TickLabel,
} as const;

/** A domain with a little headroom, never collapsed to a point. */
export function paddedDomain(values: number[], options: { zero?: boolean } = {}): [number, number] {
  if (values.length === 0) return [0, 1];
  let min = Math.min(...values);
  const max = Math.max(...values);
  if (options.zero) min = Math.min(0, min);
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.08;
  return [options.zero && min >= 0 ? 0 : min - pad, max + pad];
}
