import { readFileSync } from "node:fs";
import path from "node:path";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { EventChart } from "../components/charts/EventChart";
import { Evidence } from "../components/Evidence";
import { changeEvent } from "../lib/analysis/facts";
import { studentTQuantileTwoSided } from "../lib/analysis/student-t";
import { parseEpisodeText } from "../lib/content/episodes";
import { buildEventChart, eventChart, meanInterval, type EventChart as EventChartData, type EventChartInput } from "../lib/site/event-chart";
import { uiStrings } from "../lib/site/i18n";
import { renderStaticMarkup } from "../lib/site/static-markup";

/** Distinct 40-hex shas whose short forms differ: 00abcde…, 01abcde…, … */
const sha = (i: number) => `${String(i).padStart(2, "0")}abcdef`.repeat(5).slice(0, 40);
const UNKNOWN = "f".repeat(40);
const day = (d: number, h = 3) => `2026-11-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:00:00.000Z`;

/**
 * Commits 0…11 in first-parent order (5 is a docs commit: not a code commit).
 * Nightly runs on days 1–9 at commits 0, 1, 2, 3, 4, 8, 9, 10, 11; bisection
 * runs (request r1) on day 10 at commits 6 and 7 — later in time than the
 * nightly runs at 8…11, earlier in the history. One run at a commit the order
 * does not know.
 */
function input(overrides: Partial<EventChartInput> = {}): EventChartInput {
  const nightly = [
    [0, 1, 100],
    [1, 2, 101],
    [2, 3, 99],
    [3, 4, 100],
    [4, 5, 102],
    [8, 6, 121],
    [9, 7, 119],
    [10, 8, 100],
    [11, 9, 99],
  ].map(([c, d, v]) => ({ commit_sha: sha(c), run_ts: day(d), value: v, request_id: "" }));
  const bisection = [
    [6, 10, 100],
    [6, 11, 101],
    [7, 12, 120],
    [7, 13, 122],
  ].map(([c, h, v]) => ({ commit_sha: sha(c), run_ts: day(10, h), value: v, request_id: "r1" }));
  const order = new Map(Array.from({ length: 12 }, (_, i) => [sha(i), i] as const));
  return {
    label: "llama-3.1-8b q4_k_m p95",
    metric: "latency_p95_ms",
    unit: "ms",
    // Shuffled: the builder orders them.
    runs: [
      ...bisection.slice(2),
      ...nightly.slice().reverse(),
      { commit_sha: UNKNOWN, run_ts: day(6, 9), value: 500, request_id: "" },
      ...bisection.slice(0, 2),
    ],
    order,
    subjects: new Map(Array.from({ length: 12 }, (_, i) => [sha(i), i === 7 ? "kv-cache: larger blocks" : `commit ${i}`] as const)),
    codeCommits: Array.from({ length: 12 }, (_, i) => i)
      .filter((i) => i !== 5)
      .map(sha),
    before: { mean: 100, stdev: 4, n: 9 },
    after: { mean: 120, stdev: 6, n: 4 },
    rangeFromSha: sha(6),
    blamedSha: sha(7),
    bisected: true,
    fix: { sha: sha(10) },
    ...overrides,
  };
}

const positions = (c: EventChartData) => c.points.map((p) => Math.round(p.x));

describe("buildEventChart", () => {
  it("keeps `around` runs either side of the change, in graph order, and marks bisection runs", () => {
    const chart = buildEventChart(input({ around: 3 }));
    expect(eventChart.parse(chart)).toEqual(chart);
    // Before (≤ 6): the last three of 0,1,2,3,4,6,6; after (≥ 7): the first three of 7,7,8,9,10,11.
    expect(positions(chart)).toEqual([4, 6, 6, 7, 7, 8]);
    expect(chart.points.map((p) => p.kind)).toEqual(["nightly", "bisection", "bisection", "bisection", "bisection", "nightly"]);
    expect(chart.points.map((p) => p.value)).toEqual([102, 100, 101, 120, 122, 121]);
    // Runs of one commit share its position, spread slightly around it in time order.
    const [, a, b] = chart.points;
    expect(a.x).toBeLessThan(6);
    expect(b.x).toBeGreaterThan(6);
    expect(b.x - a.x).toBeLessThanOrEqual(0.6);
    expect(chart.points[0].x).toBe(4);
    // Default: 15 either side, i.e. every run here.
    expect(buildEventChart(input()).points).toHaveLength(13);
  });

  it("orders by the commit's position in the history, not by the run's time", () => {
    const chart = buildEventChart(input());
    expect(positions(chart)).toEqual([0, 1, 2, 3, 4, 6, 6, 7, 7, 8, 9, 10, 11]);
    // The bisection runs at 6 and 7 ran on day 10, after the nightly run at 8 (day 6).
    const at6 = chart.points.find((p) => p.commit_sha === sha(6))!;
    const at8 = chart.points.find((p) => p.commit_sha === sha(8))!;
    expect(at6.run_ts > at8.run_ts).toBe(true);
    expect(at6.x).toBeLessThan(at8.x);
    // An out-of-order nightly run_ts at an older commit also stays at its commit.
    const late = buildEventChart(input({ runs: [...input().runs, { commit_sha: sha(1), run_ts: day(28), value: 98, request_id: "" }] }));
    expect(positions(late).slice(0, 4)).toEqual([0, 1, 1, 2]);
    expect(late.points[2].run_ts).toBe(day(28));
  });

  it("drops runs of commits the order does not know", () => {
    const chart = buildEventChart(input());
    expect(chart.points.some((p) => p.commit_sha === UNKNOWN)).toBe(false);
    expect(chart.points.some((p) => p.value === 500)).toBe(false);
    // The fix of an unknown commit is not placed.
    expect(buildEventChart(input({ fix: { sha: UNKNOWN } })).fix).toBeNull();
  });

  it("computes the segments' 95 % intervals as mean ± t(0.975, n − 1)·s/√n", () => {
    const chart = buildEventChart(input({ around: 3 }));
    const [before, after] = chart.segments;
    // Hand calculation with the t table: t(0.975, 8) = 2.306004, t(0.975, 3) = 3.182446.
    expect(before.ci[0]).toBeCloseTo(100 - (2.306004 * 4) / 3, 5);
    expect(before.ci[1]).toBeCloseTo(100 + (2.306004 * 4) / 3, 5);
    expect(after.ci[0]).toBeCloseTo(120 - (3.182446 * 6) / 2, 5);
    expect(after.ci[1]).toBeCloseTo(120 + (3.182446 * 6) / 2, 5);
    expect(studentTQuantileTwoSided(0.05, 8)).toBeCloseTo(2.306004, 5);
    expect(before).toMatchObject({ mean: 100, n: 9, from_x: 4, to_x: 6 });
    // The fix (10) is beyond the kept runs: the after segment ends at the last one.
    expect(after).toMatchObject({ mean: 120, n: 4, from_x: 7, to_x: 8 });
    // With every run kept the after segment ends at the fix.
    expect(buildEventChart(input()).segments[1]).toMatchObject({ from_x: 7, to_x: 10 });
    // n < 2: a point interval.
    expect(meanInterval(5, 3, 1)).toEqual([5, 5]);
    expect(buildEventChart(input({ after: { mean: 130, stdev: 0, n: 1 } })).segments[1].ci).toEqual([130, 130]);
  });

  it("places the blamed commit, the range, the fix and the axis' code commits", () => {
    const chart = buildEventChart(input({ around: 3 }));
    expect(chart.blamed).toEqual({ sha: sha(7), x: 7, range_from_sha: sha(6), range_from_x: 6, bisected: true });
    expect(chart.fix).toEqual({ sha: sha(10), x: 10 });
    // Code commits within the shown runs (4…8), without the docs commit 5.
    expect(chart.commits.map((c) => c.x)).toEqual([4, 6, 7, 8]);
    expect(chart.commits.find((c) => c.x === 7)!.subject).toBe("kv-cache: larger blocks");

    // Still bisecting between 4 and 8: every run inside the range is kept, `around` either side.
    const open = buildEventChart(input({ around: 1, rangeFromSha: sha(4), blamedSha: sha(8), bisected: false, fix: null }));
    expect(positions(open)).toEqual([4, 6, 6, 7, 7, 8]);
    expect(open.blamed).toMatchObject({ x: 8, range_from_x: 4, bisected: false });
    expect(open.segments.map((s) => [s.from_x, s.to_x])).toEqual([
      [4, 4],
      [8, 8],
    ]);
    expect(() => buildEventChart(input({ blamedSha: UNKNOWN }))).toThrow(RangeError);
  });
});

const all = (html: string, re: RegExp) => [...html.matchAll(re)];

function render(chart: EventChartData, kind: "regression" | "improvement" = "regression") {
  const s = uiStrings("en").changeEvents;
  const tree = createElement(EventChart, {
    id: "ev-event-1",
    chart,
    kind,
    t: s.chart,
    fixedBy: s.fixedBy,
    tableLabel: "Data table",
    commitLabel: s.commit,
    kindLabel: s.kind,
  });
  const html = renderToStaticMarkup(tree);
  // The episode page renders with its own hook-free renderer: same output.
  expect(renderStaticMarkup(tree)).toBe(html);
  return html;
}

describe("EventChart", () => {
  it("draws an accessible, responsive SVG: two marker shapes with a legend, bands, the blamed and fix markers, a data table", () => {
    const chart = buildEventChart(input());
    const html = render(chart);
    const svg = /<svg role="img" aria-labelledby="ev-event-1-title ev-event-1-desc" ([^>]*)>([\s\S]*?)<\/svg>/.exec(html);
    expect(svg).not.toBeNull();
    // Scales with its box (390 px phones): a viewBox 480 units wide, width 100 %, no fixed height.
    expect(svg![1]).toContain('viewBox="0 0 480 300"');
    expect(svg![1]).toContain('width="100%"');
    expect(svg![1]).not.toMatch(/\bheight=/);
    const inner = svg![2];
    expect(inner).toContain('<title id="ev-event-1-title">llama-3.1-8b q4_k_m p95: run by run around the change</title>');
    const desc = /<desc id="ev-event-1-desc">([^<]*)<\/desc>/.exec(inner)![1];
    expect(desc).toContain("13 benchmark runs (9 nightly, 4 bisection) at 11 commits");
    expect(desc).toContain("Blamed commit 07abcde (“kv-cache: larger blocks”)");
    expect(desc).toContain("fixed by 10abcde");

    // Two shapes: a circle per nightly run, a triangle per bisection run (+ one of each in the legend).
    expect(all(inner, /<circle class="point-nightly"/g)).toHaveLength(9 + 1);
    expect(all(inner, /<path class="point-bisection" d="M[^"]+Z"/g)).toHaveLength(4 + 1);
    const legend = /<g class="event-legend"[^>]*>([\s\S]*?<\/g>[\s\S]*?<\/g>)<\/g>/.exec(inner)![1];
    expect(legend).toMatch(/<g class="legend-nightly series-1"><circle class="point-nightly"[^>]*><\/circle><text[^>]*>nightly run<\/text><\/g>/);
    expect(legend).toMatch(/<g class="legend-bisection series-2"[^>]*><path class="point-bisection"[^>]*><\/path><text[^>]*>bisection run<\/text><\/g>/);

    // Segment bands with their means.
    expect(all(inner, /<g class="chart-band segment-(before|after)"><title>[^<]+<\/title><rect [^>]*fill-opacity="0.18"/g)).toHaveLength(2);

    // The blamed commit and the fix: dashed lines with their short shas.
    const blamed = /<g class="chart-marker marker-regression" data-commit="07abcde" data-role="blamed">([\s\S]*?)<\/g>/.exec(inner);
    expect(blamed).not.toBeNull();
    expect(blamed![1]).toContain('stroke-dasharray="4 3"');
    expect(blamed![1]).toMatch(/<text[^>]*>07abcde<\/text>/);
    const fix = /<g class="chart-marker marker-improvement" data-commit="10abcde" data-role="fix">([\s\S]*?)<\/g>/.exec(inner);
    expect(fix).not.toBeNull();
    expect(fix![1]).toContain("stroke-dasharray");
    expect(fix![1]).toMatch(/<text[^>]*>10abcde<\/text>/);

    // Visible notes and the data table: one row per point (run, commit, kind, value).
    expect(html).toContain('<ul class="chart-notes" aria-label="Commits marked on the chart"><li class="marker-regression">Blamed commit 07abcde');
    expect(html).toContain('<li class="marker-improvement">fixed by 10abcde</li>');
    const table = /<details class="chart-data"><summary>Data table<\/summary>[\s\S]*?<thead><tr>([\s\S]*?)<\/tr><\/thead><tbody>([\s\S]*?)<\/tbody>/.exec(
      html,
    )!;
    expect(all(table[1], /<th[^>]*>([^<]+)<\/th>/g).map((m) => m[1])).toEqual(["Run", "Commit", "Kind", "Value"]);
    const rows = all(table[2], /<tr>([\s\S]*?)<\/tr>/g);
    expect(rows).toHaveLength(chart.points.length);
    expect(rows[5][1]).toBe('<th scope="row">2026-11-10 10:00</th><td class="num">06abcde</td><td class="num">bisection run</td><td class="num">100 ms</td>');
    expect(rows[0][1]).toContain("nightly run");
  });

  it("shades the range between two dashed lines while still bisecting, and leaves out a fix beyond the runs", () => {
    const chart = buildEventChart(input({ around: 1, rangeFromSha: sha(4), blamedSha: sha(8), bisected: false, fix: { sha: sha(11) } }));
    const html = render(chart, "regression");
    const range = /<g class="chart-marker marker-regression" data-commit="08abcde" data-role="range">([\s\S]*?)<\/g>/.exec(html);
    expect(range).not.toBeNull();
    expect(range![1]).toMatch(/<rect [^>]*fill-opacity="0.08"/);
    expect(all(range![1], /stroke-dasharray="4 3"/g)).toHaveLength(2);
    expect(range![1]).toMatch(/<text[^>]*>04abcde…08abcde<\/text>/);
    expect(html).toContain("Still bisecting: the change is after 04abcde, at or before 08abcde");
    // The fix (11) is past the last shown run (8): named under the chart, not drawn.
    expect(html).not.toContain('data-role="fix"');
    expect(html).toContain('<li class="marker-improvement">fixed by 11abcde</li>');
  });

  it("is drawn in the episode's Evidence after the other charts, one per event with a chart; events without one change nothing", () => {
    const file = readFileSync(path.join(import.meta.dirname, "fixtures", "content", "episodes", "chimera", "ep-002.md"), "utf8");
    expect(file).toContain("  days: 7\n");
    const chart = buildEventChart(input());
    const event = (n: number, withChart: boolean) =>
      [
        `    - n: ${n}`,
        `      commit_sha: "${sha(7)}"`,
        `      commit_ts: "2026-11-10T18:00:00.000Z"`,
        `      subject: "kv-cache: larger blocks"`,
        `      candidates: ["${sha(7)}"]`,
        `      kind: "regression"`,
        `      status: "fixed"`,
        `      fixed_by_sha: "${sha(10)}"`,
        `      fixed_ts: "2026-11-12T09:00:00.000Z"`,
        `      lead: { label: "lead ${n}", metric: "latency_p95_ms", change_pct: 20, ci_pct: [12.25, 24.5], q_value: 0.00031, mean_before: 100, mean_after: 120, n_before: 9, n_after: 4 }`,
        `      series_changed: 1`,
        `      series_same_direction: 1`,
        `      median_change_pct: 20`,
        `      users: null`,
        ...(withChart ? [`      chart: ${JSON.stringify(chart)}`] : []),
      ].join("\n");
    const episode = (events: string[]) =>
      parseEpisodeText(file.replace("  days: 7\n", `  change_events:\n${events.join("\n")}\n  days: 7\n`), "en").frontMatter;
    const html = (events: string[]) => renderToStaticMarkup(createElement(Evidence, { frontMatter: episode(events), lang: "en", tableLabel: "Data table" }));

    const withCharts = episode([event(1, true), event(2, false), event(3, true)]);
    expect(changeEvent.parse(withCharts.metrics.change_events[0]).chart).toEqual(chart);
    const drawn = html([event(1, true), event(2, false), event(3, true)]);
    const figures = all(drawn, /<figure class="chart" aria-labelledby="([^"]+)-caption">/g).map((m) => m[1]);
    expect(figures).toEqual(["ev-p95", "ev-user", "ev-errors", "ev-scatter", "ev-event-1", "ev-event-3"]);
    expect(drawn).toContain('<figcaption id="ev-event-3-caption" class="chart-title">lead 3: run by run around the change</figcaption>');

    // Without charts: exactly what the episode drew before.
    const plain = html([event(1, false), event(2, false)]);
    expect(plain).not.toContain("ev-event-");
    expect(all(plain, /<svg\b/g)).toHaveLength(4);

    // German labels.
    const de = renderToStaticMarkup(createElement(Evidence, { frontMatter: withCharts, lang: "de", tableLabel: "Datentabelle" }));
    expect(de).toContain("nächtlicher Lauf");
    expect(de).toContain("Bisektionslauf");
  });
});
