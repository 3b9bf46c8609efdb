import type { ReactNode } from "react";

/**
 * An accessible server-rendered chart: a <figure> whose SVG is role="img"
 * labelled by its <title> and <desc>, with the numbers as a data table
 * (a <details> under the chart) for screen readers and for checking.
 */

export const WIDTH = 640;
export const HEIGHT = 240;
export const MARGIN = { top: 16, right: 20, bottom: 40, left: 64 };

export interface DataTable {
  caption: string;
  columns: string[];
  rows: (string | number)[][];
}

export function ChartFrame({ id, title, description, table, tableLabel, legend, children, height = HEIGHT }: { id: string; title: string; description: string; table: DataTable; tableLabel: string; legend?: { label: string; className: string }[]; children: ReactNode; height?: number }) {
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
      <svg role="img" aria-labelledby={`${id}-title ${id}-desc`} viewBox={`0 0 ${WIDTH} ${height}`} width="100%" preserveAspectRatio="xMidYMid meet" className="chart-svg">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        {children}
      </svg>
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

/** Axis styling: everything in currentColor, set by CSS (.chart-svg { color }), so both themes work. */
export const axisProps = {
  stroke: "currentColor",
  tickStroke: "currentColor",
  tickLabelProps: { fill: "currentColor", fontSize: 11 },
  labelProps: { fill: "currentColor", fontSize: 11 },
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
