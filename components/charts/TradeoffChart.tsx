import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleLinear } from "@visx/scale";
import type { QualityModel, QualityPoint } from "@/lib/analysis/quality-chart";
import { formatNumber } from "@/lib/site/format";
import type { TradeoffChartStrings } from "@/lib/site/i18n";
import { AxisLabel, axisProps, ChartFrame, HEIGHT, MARGIN, paddedDomain, WIDTH } from "./ChartFrame";

/**
 * Latency against accuracy for one model (lib/analysis/quality-chart.ts): each
 * quantization method a labelled point (x p95 latency, y accuracy in points,
 * latest segment means), the baseline a square, a method below its gate a ring
 * (shape, not colour alone); each accuracy gate a dashed horizontal line at
 * gate × the baseline's accuracy; a told trade-off or gate breach an arrow from
 * the method's place before the commit to after it. Drawn in a viewBox at
 * width 100 % (ChartFrame), so it scales down to a 390 px phone; the numbers
 * are in the data table. Server-rendered SVG without hooks
 * (lib/site/static-markup.ts).
 */

export interface TradeoffChartProps {
  id: string;
  model: QualityModel;
  t: TradeoffChartStrings;
  tableLabel: string;
}

export const TRADEOFF_CHART_HEIGHT = HEIGHT + 12;

const ms = (v: number) => `${formatNumber(v, 1)} ms`;
const pts = (v: number) => formatNumber(v, 1);
const share = (v: number) => `${formatNumber(v * 100, 1)} %`;

/** The distinct gates of the model's methods, each with the methods it holds. */
export function gateLines(model: QualityModel): { gate: number; accuracy: number; methods: string[] }[] {
  const byGate = new Map<number, string[]>();
  for (const p of model.points) if (p.gate !== null) byGate.set(p.gate, [...(byGate.get(p.gate) ?? []), p.method]);
  return [...byGate.entries()].sort((a, b) => b[0] - a[0]).map(([gate, methods]) => ({ gate, accuracy: gate * model.baseline_accuracy, methods }));
}

function MethodSymbol({ p, cx, cy }: { p: QualityPoint; cx: number; cy: number }) {
  if (p.baseline) return <rect className="point-baseline" x={cx - 4.5} y={cy - 4.5} width={9} height={9} fill="currentColor" />;
  if (p.below_gate) return <circle className="point-below-gate" cx={cx} cy={cy} r={5} fill="none" stroke="currentColor" strokeWidth={2} />;
  return <circle className="point-method" cx={cx} cy={cy} r={5} fill="currentColor" />;
}

export function TradeoffChart({ id, model, t, tableLabel }: TradeoffChartProps) {
  const height = TRADEOFF_CHART_HEIGHT;
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom - 12;
  const gates = gateLines(model);
  const moves = model.moves;
  const xs = [...model.points.map((p) => p.latency_p95_ms), ...moves.flatMap((m) => [m.before.latency_p95_ms, m.after.latency_p95_ms])];
  const ys = [...model.points.map((p) => p.accuracy), ...gates.map((g) => g.accuracy), ...moves.flatMap((m) => [m.before.accuracy, m.after.accuracy])];
  const x = scaleLinear<number>({ domain: paddedDomain(xs), range: [0, innerW], nice: true });
  const y = scaleLinear<number>({ domain: paddedDomain(ys), range: [innerH, 0], nice: true });

  const gateText = (g: { gate: number; accuracy: number }) => t.gateLine(share(g.gate), pts(g.accuracy));
  const at = (pos: { latency_p95_ms: number; accuracy: number }) => `${ms(pos.latency_p95_ms)}, ${pts(pos.accuracy)}`;
  const moveText = (m: QualityModel["moves"][number]) => t.move(m.method, m.event_n, at(m.before), at(m.after));
  const methods = model.points.filter((p) => !p.baseline).length;
  const description = [
    t.summary(methods, model.baseline),
    ...model.points.map((p) =>
      t.point(
        p.baseline ? `${p.method} (${p.quant})` : p.method,
        ms(p.latency_p95_ms),
        pts(p.accuracy),
        p.ratio === null ? null : share(p.ratio),
        p.gate === null ? null : share(p.gate),
        p.below_gate,
      ),
    ),
    ...gates.map((g) => `${gateText(g)}.`),
    ...moves.map((m) => `${moveText(m)}.`),
  ].join(" ");
  const notes = {
    label: t.notesLabel,
    items: [
      ...gates.map((g) => ({ text: gateText(g), className: "marker-gate" })),
      ...moves.map((m) => ({ text: moveText(m), className: "marker-regression" })),
    ],
  };
  const table = {
    caption: t.title(model.label),
    columns: [t.method, t.latency, t.accuracy, t.ratio, t.gate],
    rows: model.points.map((p) => [
      p.baseline ? `${p.method} (${p.quant}, ${t.baseline})` : p.method,
      ms(p.latency_p95_ms),
      pts(p.accuracy),
      p.ratio === null ? "–" : share(p.ratio),
      p.gate === null ? "–" : `${share(p.gate)}${p.below_gate ? ` (${t.belowGate})` : ""}`,
    ]),
  };
  const arrowId = `${id}-arrow`;
  // Point labels right of the point, flipped left near the right edge.
  const label = (cx: number, cy: number, text: string) => {
    const left = cx + 8 + text.length * 6.5 > innerW;
    return (
      <text x={left ? cx - 8 : cx + 8} y={cy - 6} textAnchor={left ? "end" : "start"} fill="currentColor" fontSize={11} fontFamily="ui-monospace, monospace">
        {text}
      </text>
    );
  };

  return (
    <ChartFrame id={id} title={t.title(model.label)} description={description} table={table} tableLabel={tableLabel} notes={notes} height={height}>
      <defs>
        <marker id={arrowId} viewBox="0 0 10 10" refX={9} refY={5} markerWidth={7} markerHeight={7} orient="auto-start-reverse">
          <path d="M0,0L10,5L0,10Z" fill="currentColor" />
        </marker>
      </defs>
      <Group left={MARGIN.left} top={MARGIN.top}>
        <AxisLeft scale={y} numTicks={5} tickFormat={(v) => formatNumber(Number(v), 1)} {...axisProps} />
        <AxisLabel orientation="left" range={y.range()} offset={44}>
          {t.yLabel}
        </AxisLabel>
        <AxisBottom top={innerH} scale={x} numTicks={5} tickFormat={(v) => formatNumber(Number(v), 0)} {...axisProps} />
        <AxisLabel orientation="bottom" range={x.range()} offset={14} top={innerH}>
          {t.xLabel}
        </AxisLabel>
        {gates.map((g) => (
          <g key={g.gate} className="chart-gate marker-gate" data-gate={g.gate}>
            <title>{gateText(g)}</title>
            <line x1={0} x2={innerW} y1={y(g.accuracy)} y2={y(g.accuracy)} stroke="currentColor" strokeWidth={1.5} strokeDasharray="6 4" />
            <text x={innerW - 2} y={y(g.accuracy) + 13} textAnchor="end" fill="currentColor" fontSize={11}>
              {`${t.gate} ${share(g.gate)}`}
            </text>
          </g>
        ))}
        {moves.map((m) => {
          const [x1, y1, x2, y2] = [x(m.before.latency_p95_ms), y(m.before.accuracy), x(m.after.latency_p95_ms), y(m.after.accuracy)];
          // The arrowhead stops at the edge of the point it leads to.
          const length = Math.hypot(x2 - x1, y2 - y1);
          const back = length > 16 ? 7 / length : 0;
          return (
            <g key={`${m.event_n}-${m.method}`} className="chart-move marker-regression" data-method={m.method} data-event={m.event_n}>
              <title>{moveText(m)}</title>
              <circle cx={x1} cy={y1} r={4} fill="none" stroke="currentColor" strokeDasharray="2 2" />
              <line
                x1={x1}
                y1={y1}
                x2={x2 - (x2 - x1) * back}
                y2={y2 - (y2 - y1) * back}
                stroke="currentColor"
                strokeWidth={1.5}
                markerEnd={`url(#${arrowId})`}
              />
            </g>
          );
        })}
        {model.points.map((p, i) => (
          <g
            key={`${p.method}-${p.quant}`}
            className={`chart-point series-${(i % 4) + 1}${p.below_gate ? " below-gate" : ""}`}
            data-method={p.method}
            data-below-gate={p.below_gate ? "true" : undefined}
          >
            <title>{`${p.method}: ${at(p)}${p.ratio === null ? "" : `, ${share(p.ratio)}`}`}</title>
            <MethodSymbol p={p} cx={x(p.latency_p95_ms)} cy={y(p.accuracy)} />
            {label(x(p.latency_p95_ms), y(p.accuracy), p.baseline ? p.quant : p.method)}
          </g>
        ))}
      </Group>
    </ChartFrame>
  );
}
