import { readFileSync } from "node:fs";
import path from "node:path";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { TradeoffChart } from "../components/charts/TradeoffChart";
import { Evidence } from "../components/Evidence";
import { timeOnlyAttribution, type AttributedChange } from "../lib/analysis/changes";
import { facts } from "../lib/analysis/facts";
import { buildQuality, qualityModel, type QualityModel } from "../lib/analysis/quality-chart";
import { seriesLabel, type Series, type SeriesKey } from "../lib/analysis/series";
import { parseEpisodeText } from "../lib/content/episodes";
import { TRADEOFF_CHART } from "../lib/site/i18n";
import { renderStaticMarkup } from "../lib/site/static-markup";

/**
 * The latency–accuracy chart (issue 23 item 3): the facts' `quality` per model (latest segment means per method,
 * ratio to the same run's baseline, gate, the told trade-off's move) and its drawing: a point per method, the gate
 * as a line, the move as an arrow, a table row per point; episodes without `quality` draw what they drew before.
 */

const sha = (i: number) => `${String(i).padStart(2, "0")}abcdef`.repeat(5).slice(0, 40);
const ts = (i: number) => new Date(Date.UTC(2026, 10, 1 + i, 3)).toISOString();
const RUNS = 12;
/** The trade-off lands at run 6 (commit 6): int4 faster and 1.5 points less accurate. */
const AT = 6;

const key = (variant: string, quant: string, metric: SeriesKey["metric"]): SeriesKey => ({
  benchmark_type: "quantization",
  model: "llama-3.1-8b",
  quant,
  variant,
  dataset: "wikitext",
  device: "cuda",
  metric,
});

function series(variant: string, quant: string, metric: SeriesKey["metric"], value: (i: number) => number): Series {
  return {
    key: key(variant, quant, metric),
    points: Array.from({ length: RUNS }, (_, i) => ({
      run_id: `run-${i}`,
      run_ts: ts(i),
      commit_sha: sha(i),
      commit_ts: ts(i),
      value: value(i),
      request_id: "",
    })),
  };
}

const jitter = (i: number) => (i % 2 === 0 ? 0.05 : -0.05);
const world: Series[] = [
  series("baseline", "fp16", "accuracy", (i) => 72 + jitter(i)),
  series("baseline", "fp16", "latency_p95_ms", () => 400),
  series("int8", "int8", "accuracy", (i) => 71.7 + jitter(i)),
  series("int8", "int8", "latency_p95_ms", () => 300),
  series("int4", "int4", "accuracy", (i) => (i < AT ? 71.55 : 70.05) + jitter(i)),
  series("int4", "int4", "latency_p95_ms", (i) => (i < AT ? 250 : 200)),
  // Another benchmark without a baseline: not charted.
  { ...series("inference", "q4", "latency_p95_ms", () => 90), key: { ...key("inference", "q4", "latency_p95_ms"), benchmark_type: "inference_performance" } },
];

function change(metric: SeriesKey["metric"], before: number, after: number, kind: "regression" | "improvement"): AttributedChange {
  const k = key("int4", "int4", metric);
  return {
    change_id: `c-${metric}`,
    key: k,
    label: seriesLabel(k),
    kind,
    change_pct: ((after - before) / before) * 100,
    ci_pct: [0, 0],
    p_value: 0.001,
    q_value: 0.001,
    before: { n: AT, mean: before, stdev: 0.05 },
    after: { n: RUNS - AT, mean: after, stdev: 0.05 },
    deterministic: false,
    commit_sha: sha(AT),
    commit_ts: ts(AT),
    previous_sha: sha(AT - 1),
    candidates: [sha(AT)],
    range_method: "time",
    status: kind === "regression" ? "open" : "kept",
    fixed_by_sha: "",
    fixed_ts: null,
  };
}

const accuracyDrop = change("accuracy", 71.55, 70.05, "regression");
const faster = change("latency_p95_ms", 250, 200, "improvement");
const attribution = timeOnlyAttribution(Array.from({ length: RUNS }, (_, i) => ({ sha: sha(i), ts: ts(i) })));

function built(): QualityModel[] {
  return buildQuality({
    series: world,
    attribution,
    changes: [accuracyDrop, faster],
    gates: { fraction: 0.99, methods: { int8: 0.995 } },
    events: [
      {
        n: 1,
        commit_sha: sha(AT),
        tradeoff: true,
        gate_breached: true,
        lead_metric: "accuracy",
        lead_label: accuracyDrop.label,
        members: [accuracyDrop, faster],
      },
    ],
  });
}

describe("buildQuality", () => {
  it("gives per model the latest segment means per method, the ratio to the same run's baseline, the gate and the trade-off's move", () => {
    const quality = built();
    expect(quality).toHaveLength(1);
    const [m] = quality;
    expect(qualityModel.parse(m)).toEqual(m);
    expect(m).toMatchObject({ label: "quantization llama-3.1-8b (wikitext, cuda)", baseline: "fp16", model: "llama-3.1-8b" });
    expect(m.baseline_accuracy).toBeCloseTo(72, 6);
    expect(m.points.map((p) => p.method)).toEqual(["baseline", "int4", "int8"]);
    const [base, int4, int8] = m.points;
    expect(base).toMatchObject({ baseline: true, quant: "fp16", latency_p95_ms: 400, ratio: null, gate: null, below_gate: false, runs: RUNS });
    // int4: only the runs after its last change (the latest segment).
    expect(int4.runs).toBe(RUNS - AT);
    expect(int4.latency_p95_ms).toBe(200);
    expect(int4.accuracy).toBeCloseTo(70.05, 4);
    expect(int4.ratio).toBeCloseTo(70.05 / 72, 3);
    expect(int4).toMatchObject({ gate: 0.99, below_gate: true });
    // int8: no change, all runs; its own gate.
    expect(int8).toMatchObject({ runs: RUNS, gate: 0.995, below_gate: false, latency_p95_ms: 300 });
    expect(int8.ratio).toBeCloseTo(71.7 / 72, 3);
    expect(m.moves).toEqual([
      {
        method: "int4",
        event_n: 1,
        commit_sha: sha(AT),
        kind: "tradeoff",
        before: { latency_p95_ms: 250, accuracy: 71.55 },
        after: { latency_p95_ms: 200, accuracy: 70.05 },
        latency_unchanged: false,
      },
    ]);
  });

  it("is empty without a baseline, and old facts parse with an empty quality", () => {
    expect(buildQuality({ series: world.filter((s) => s.key.variant !== "baseline"), attribution, changes: [] })).toEqual([]);
    const shape = facts.shape.quality;
    expect(shape.parse(undefined)).toEqual([]);
  });
});

const all = (html: string, re: RegExp) => [...html.matchAll(re)];

function render(model: QualityModel, lang: keyof typeof TRADEOFF_CHART = "en") {
  const tree = createElement(TradeoffChart, { id: "ev-tradeoff-1", model, t: TRADEOFF_CHART[lang], tableLabel: "Data table" });
  const html = renderToStaticMarkup(tree);
  // The episode page renders with its own hook-free renderer: same output.
  expect(renderStaticMarkup(tree)).toBe(html);
  return html;
}

describe("TradeoffChart", () => {
  it("draws a labelled point per method, the gate as a line, the move as an arrow and a table row per point, readable at 390 px", () => {
    const [m] = built();
    const html = render(m);
    const svg = /<svg role="img" aria-labelledby="ev-tradeoff-1-title ev-tradeoff-1-desc" ([^>]*)>([\s\S]*?)<\/svg>/.exec(html);
    expect(svg).not.toBeNull();
    // Scales with its box: a viewBox 480 units wide, width 100 %, no fixed height.
    expect(svg![1]).toMatch(/viewBox="0 0 480 \d+"/);
    expect(svg![1]).toContain('width="100%"');
    expect(svg![1]).not.toMatch(/\bheight=/);
    const inner = svg![2];
    expect(inner).toContain('<title id="ev-tradeoff-1-title">quantization llama-3.1-8b (wikitext, cuda): p95 latency against accuracy, per method</title>');

    // Points: the baseline a square, int8 a filled circle, int4 (below its gate) a ring; each labelled.
    const points = all(inner, /<g class="chart-point [^"]*" data-method="([^"]+)"[^>]*>([\s\S]*?)<\/g>/g);
    expect(points.map((p) => p[1])).toEqual(["baseline", "int4", "int8"]);
    expect(points[0][2]).toContain('<rect class="point-baseline"');
    expect(points[0][2]).toMatch(/<text[^>]*>fp16<\/text>/);
    expect(points[1][2]).toContain('<circle class="point-below-gate"');
    expect(points[1][2]).toMatch(/<text[^>]*>int4<\/text>/);
    expect(points[2][2]).toContain('<circle class="point-method"');
    expect(inner).toContain('data-below-gate="true"');

    // Gates: one dashed line per distinct gate (99 % and int8's 99.5 %), across the plot.
    const gates = all(inner, /<g class="chart-gate marker-gate" data-gate="([^"]+)"><title>([^<]+)<\/title><line ([^>]*)>/g);
    expect(gates.map((g) => g[1])).toEqual(["0.995", "0.99"]);
    expect(gates[1][2]).toBe("Accuracy gate 99 % of the baseline: 71.3 points");
    expect(gates[1][3]).toContain('stroke-dasharray="6 4"');

    // The trade-off: an arrow (marker-end) from before to after.
    const move = /<g class="chart-move marker-regression" data-method="int4" data-event="1"><title>([^<]+)<\/title>([\s\S]*?)<\/g>/.exec(inner);
    expect(move).not.toBeNull();
    expect(move![1]).toBe("Change 1: int4 moved from 250 ms, 71.6 to 200 ms, 70.1");
    expect(move![2]).toContain('marker-end="url(#ev-tradeoff-1-arrow)"');
    expect(inner).toMatch(/<marker id="ev-tradeoff-1-arrow"[^>]*>/);

    // Notes under the chart and the data table: one row per point.
    expect(html).toContain('<li class="marker-gate">Accuracy gate 99 % of the baseline: 71.3 points</li>');
    const table = /<details class="chart-data"><summary>Data table<\/summary>[\s\S]*?<thead><tr>([\s\S]*?)<\/tr><\/thead><tbody>([\s\S]*?)<\/tbody>/.exec(
      html,
    )!;
    expect(all(table[1], /<th[^>]*>([^<]+)<\/th>/g).map((r) => r[1])).toEqual(["Method", "p95 latency", "Accuracy", "Share of baseline", "Gate"]);
    const rows = all(table[2], /<tr>([\s\S]*?)<\/tr>/g);
    expect(rows).toHaveLength(m.points.length);
    expect(rows[0][1]).toBe(
      '<th scope="row">baseline (fp16, baseline)</th><td class="num">400 ms</td><td class="num">72</td><td class="num">–</td><td class="num">–</td>',
    );
    expect(rows[1][1]).toBe(
      '<th scope="row">int4</th><td class="num">200 ms</td><td class="num">70.1</td><td class="num">97.3 %</td><td class="num">99 % (below the gate)</td>',
    );
  });

  it("has labels in every language", () => {
    const [m] = built();
    expect(render(m, "de")).toContain("Genauigkeit (Punkte)");
    expect(render(m, "zh")).toContain("准确率（分）");
    expect(render(m, "hi")).toContain("सटीकता (अंक)");
  });
});

describe("Evidence", () => {
  const file = readFileSync(path.join(import.meta.dirname, "fixtures", "content", "episodes", "chimera", "ep-002.md"), "utf8");
  const episode = (quality?: QualityModel[]) =>
    parseEpisodeText(quality ? file.replace("  days: 7\n", `  quality: ${JSON.stringify(quality)}\n  days: 7\n`) : file, "en").frontMatter;
  const html = (quality?: QualityModel[]) =>
    renderToStaticMarkup(createElement(Evidence, { frontMatter: episode(quality), lang: "en", tableLabel: "Data table" }));

  it("without quality renders exactly as before; with it, one latency–accuracy chart per model after the others", () => {
    expect(file).toContain("  days: 7\n");
    const plain = html();
    expect(plain).not.toContain("ev-tradeoff");
    const figures = (h: string) => all(h, /<figure class="chart" aria-labelledby="([^"]+)-caption">/g).map((f) => f[1]);
    expect(figures(plain)).toEqual(["ev-p95", "ev-user", "ev-errors", "ev-scatter"]);
    expect(episode().metrics.quality).toBeUndefined();

    const quality = built();
    const drawn = html(quality);
    expect(episode(quality).metrics.quality).toEqual(quality);
    expect(figures(drawn)).toEqual(["ev-p95", "ev-user", "ev-errors", "ev-scatter", "ev-tradeoff-1"]);
    // What came before is unchanged.
    expect(drawn.startsWith(plain.slice(0, plain.lastIndexOf("</div>")))).toBe(true);
  });
});
