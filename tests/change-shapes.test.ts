import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import * as statusPage from "../app/[lang]/status/page";
import { GET } from "../app/api/changes/route";
import { DEFAULT_DETECTOR_OPTIONS, type SegmentStats } from "../lib/analysis/changepoints";
import { detectChanges, timeOnlyAttribution, type AttributedChange, type ChangeConfig } from "../lib/analysis/changes";
import { computeFacts, type Facts } from "../lib/analysis/facts";
import type { Series, SeriesKey } from "../lib/analysis/series";
import { benchChangeRow } from "../lib/clickhouse/tables";
import { writeOffline } from "../lib/council/offline-writer";
import { formatFact, type Lang } from "../lib/episode/fact";
import { buildFrontMatter, composeEpisode, renderEpisode } from "../lib/episode/file";
import { checkEpisodeFile, claimsOf, renderAndCheck } from "../lib/episode/truth";
import { eventId, groupIntoEvents, linkLifecycle, loadEvents, openRegressionEvents, recoveredShare, toRow, type BenchEvent } from "../lib/lifecycle/events";
import { gaussian, seededRandom } from "../lib/seed/random";
import { EventsTable } from "../components/EpisodeParts";
import { formatShapedSize } from "../lib/site/events";
import { uiStrings } from "../lib/site/i18n";
import { loadOpenRegressions } from "../lib/site/status.server";
import { datadogEvent } from "../lib/reach/datadog-events";
import { issueView } from "../lib/reach/github-issues";
import { slackMessage } from "../lib/reach/slack";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * Drifts and spread changes as changes of their own shape (docs/change-points.md "Kinds"): a planted drift and a
 * planted change of spread go through detectChanges, become events of that shape with their intervals, are stored in
 * bench_changes and bench_events on real ClickHouse and read back (lifecycle, status page rows, GET /api/changes), and
 * the offline writer's episode about them passes the truth rule in every language.
 */

const N = 100;
/** One Banterhearts commit a night; the index first, so every short sha differs and carries a letter. */
const sha = (i: number) => `${i.toString(16).padStart(6, "0")}c0ffee`.padEnd(40, "0");
const night = (i: number) => new Date(Date.UTC(2026, 7, 1) + i * 86_400_000);
const NOW = new Date(night(N - 1).getTime() + 6 * 3_600_000);
const CONFIG: ChangeConfig = { ...DEFAULT_DETECTOR_OPTIONS, lookbackDays: 120 };

const key = (model: string): SeriesKey => ({
  benchmark_type: "quantization",
  model,
  quant: "q4_k_m",
  variant: "q4_k_m",
  dataset: "wikitext-2",
  device: "cuda",
  metric: "latency_p95_ms",
});

/** level(i) × (1 + sd(i) × Gaussian noise), seeded. */
function make(seed: number, level: (i: number) => number, sd: (i: number) => number): number[] {
  const rng = seededRandom(seed);
  return Array.from({ length: N }, (_, i) => level(i) * (1 + sd(i) * gaussian(rng)));
}
/**
 * p95 creeping up 0.4 % a run from the first run on (it began before the lookback); p95 flat, then creeping up 0.5 % of
 * its level a run from run 40 (a drift with its start); and p95 three times as noisy from run 60, same mean.
 */
const HINGE = make(
  55,
  (i) => 100 * (1 + 0.005 * Math.max(0, i - 40)),
  () => 0.01,
);
const DRIFTING = make(
  5,
  (i) => 100 * (1 + 0.004 * i),
  () => 0.01,
);
const FLAKY = make(
  105,
  () => 100,
  (i) => (i < 60 ? 0.01 : 0.03),
);

function seriesOf(model: string, values: number[]): Series {
  return {
    key: key(model),
    points: values.map((value, i) => ({
      run_id: `${model}-${i}`,
      run_ts: new Date(night(i).getTime() + 2 * 3_600_000).toISOString(),
      commit_sha: sha(i),
      commit_ts: night(i).toISOString(),
      value,
      request_id: "",
    })),
  };
}
const commits = Array.from({ length: N }, (_, i) => ({ sha: sha(i), ts: night(i).toISOString() }));
const detected = () => detectChanges([seriesOf("drifty", DRIFTING), seriesOf("hinge", HINGE), seriesOf("flaky", FLAKY)], timeOnlyAttribution(commits), CONFIG);
const at = (c: { commit_sha: string }) => commits.findIndex((x) => x.sha === c.commit_sha);

describe("detectChanges: a drift and a spread change are changes of their own shape", () => {
  const { changes } = detected();
  const drift = changes.find((c) => c.shape === "drift" && c.key.model === "drifty")!;
  const hinge = changes.find((c) => c.shape === "drift" && c.key.model === "hinge")!;
  const spread = changes.find((c) => c.shape === "spread")!;

  it("tells a creep that starts mid-series as a drift from its start, its suspects every commit its start could be at", () => {
    expect(changes.filter((c) => c.key.model === "hinge").map((c) => c.shape)).toEqual(["drift"]);
    expect(hinge.kind).toBe("regression");
    // The range covers the kink's 95 % location set: from the run before its first to its last, every commit between a
    // suspect — the planted one (run 40) among a few consecutive ones, never a single commit the noise cannot single out.
    const first = commits.findIndex((c) => c.sha === hinge.candidates[0]);
    expect(hinge.previous_sha).toBe(sha(first - 1));
    expect(hinge.candidates).toEqual(hinge.candidates.map((_, k) => sha(first + k)));
    expect(hinge.candidates.at(-1)).toBe(hinge.commit_sha);
    expect(hinge.candidates).toContain(sha(40));
    expect(hinge.candidates.length).toBeGreaterThan(1);
    expect(hinge.candidates.length).toBeLessThanOrEqual(5);
    // The stretch itself runs from the kink's best place (within two runs of 40) to the last run.
    expect(Math.abs(N - hinge.drift!.runs - 40)).toBeLessThanOrEqual(2);
    // The interval holds the planted slope (0.5 % of the level where it starts, a run).
    expect(hinge.drift!.ci_pct_per_run[0]).toBeLessThan(0.5);
    expect(hinge.drift!.ci_pct_per_run[1]).toBeGreaterThan(0.5);
    expect(hinge.change_pct).toBeCloseTo(hinge.drift!.slope_pct_per_run * (hinge.drift!.runs - 1), 9);
  });

  it("tells the creep as one drift with its slope per run and interval, not as a staircase of steps", () => {
    expect(changes.filter((c) => c.key.model === "drifty").map((c) => c.shape)).toEqual(["drift"]);
    expect(drift.kind).toBe("regression"); // up in a higher-is-worse metric
    expect(drift.drift!.runs).toBe(N);
    expect(drift.drift!.slope_pct_per_run).toBeGreaterThan(0.3);
    expect(drift.drift!.slope_pct_per_run).toBeLessThan(0.5);
    // The interval holds the planted slope (0.4 % of the starting level a run).
    expect(drift.drift!.ci_pct_per_run[0]).toBeLessThan(0.4);
    expect(drift.drift!.ci_pct_per_run[1]).toBeGreaterThan(0.4);
    // change_pct is the change over the stretch: slope × (runs − 1), its interval likewise.
    expect(drift.change_pct).toBeCloseTo(drift.drift!.slope_pct_per_run * (N - 1), 9);
    expect(drift.ci_pct[0]).toBeCloseTo(drift.drift!.ci_pct_per_run[0] * (N - 1), 9);
    // It starts at the first run the detector saw: it began before, and no commit is a suspect.
    expect(drift.previous_sha).toBe("");
    expect(drift.candidates).toEqual([]);
    expect(drift.commit_sha).toBe(sha(0));
  });

  it("tells three times the noise as a spread change at its run, with the ratio and its interval", () => {
    expect(changes.filter((c) => c.key.model === "flaky").map((c) => c.shape)).toEqual(["spread"]);
    expect(spread.kind).toBe("regression"); // more noise is always a regression: flaky runs
    expect(Math.abs(at(spread) - 60)).toBeLessThanOrEqual(3);
    // Placed like a step: the commit of its first run, the one code commit since the run before.
    expect(spread.candidates).toEqual([spread.commit_sha]);
    expect(spread.previous_sha).toBe(sha(at(spread) - 1));
    expect(spread.spread!.ratio).toBeGreaterThan(1.5);
    expect(spread.spread!.ci_ratio[0]).toBeGreaterThan(1);
    expect(spread.spread!.ci_ratio[0]).toBeLessThan(3);
    expect(spread.spread!.ci_ratio[1]).toBeGreaterThan(3);
    expect(spread.change_pct).toBeCloseTo((spread.spread!.ratio - 1) * 100, 9);
  });

  it("groups them into events of their shape: never bisected, the drift placed nowhere, the spread change blamed on its commit", () => {
    const events = groupIntoEvents(changes, [], { now: NOW, runId: "run-1" });
    linkLifecycle(events);
    const d = events.find((e) => e.shape === "drift" && e.model === "drifty")!;
    const h = events.find((e) => e.shape === "drift" && e.model === "hinge")!;
    const s = events.find((e) => e.shape === "spread")!;
    expect(events).toHaveLength(3);
    // A range of several code commits, not bisected (a drift has no one moment): no commit blamed.
    expect(h).toMatchObject({ kind: "regression", state: "open", range_from_sha: hinge.previous_sha, blamed_sha: "", bisection_status: "" });
    expect(h.event_id).toBe(eventId(hinge.previous_sha, hinge.commit_sha, "worse", "drift"));
    expect(d).toMatchObject({ kind: "regression", state: "open", range_from_sha: "", code_commits: [], blamed_sha: "", bisection_status: "" });
    expect(d.event_id).toBe(eventId("", sha(0), "worse", "drift"));
    expect([d.slope_pct_per_run, d.slope_ci_low, d.slope_ci_high, d.drift_runs]).toEqual([
      drift.drift!.slope_pct_per_run,
      drift.drift!.ci_pct_per_run[0],
      drift.drift!.ci_pct_per_run[1],
      N,
    ]);
    expect(d.spread_ratio).toBeNull();
    expect(s).toMatchObject({ kind: "regression", state: "open", blamed_sha: spread.commit_sha, bisection_status: "", bisection_steps_left: 0 });
    expect([s.spread_ratio, s.spread_ci_low, s.spread_ci_high]).toEqual([spread.spread!.ratio, ...spread.spread!.ci_ratio]);
    expect(s.slope_pct_per_run).toBeNull();
    expect(s.event_id).not.toBe(eventId(spread.previous_sha, spread.commit_sha, "worse"));
  });
});

// ---------------------------------------------------------------- lifecycle (pure)

const C0 = "0".repeat(40);
const C1 = "a".repeat(40);
const C2 = "b".repeat(40);
const C3 = "c".repeat(40);
const seg = (mean: number, stdev = 2, n = 10): SegmentStats => ({ n, mean, stdev });
function shaped(o: Partial<AttributedChange> & Pick<AttributedChange, "kind" | "commit_sha" | "previous_sha" | "commit_ts">): AttributedChange {
  return {
    change_id: `${o.shape ?? "step"}-${o.commit_sha}`,
    key: key("m"),
    label: "m",
    change_pct: 20,
    ci_pct: [10, 30],
    p_value: 0.0001,
    q_value: 0.001,
    before: seg(100),
    after: seg(100),
    deterministic: false,
    candidates: [o.commit_sha],
    range_method: "graph",
    status: o.kind === "regression" ? "open" : "kept",
    fixed_by_sha: "",
    fixed_ts: null,
    ...o,
  };
}
const noisier = (commit: string, prev: string, ts: string, ratio: number, ci: [number, number]) =>
  shaped({
    shape: "spread",
    kind: ratio > 1 ? "regression" : "improvement",
    commit_sha: commit,
    previous_sha: prev,
    commit_ts: ts,
    change_pct: (ratio - 1) * 100,
    ci_pct: [(ci[0] - 1) * 100, (ci[1] - 1) * 100],
    spread: { ratio, ci_ratio: ci },
  });

describe("the lifecycle of drift and spread events", () => {
  const build = (changes: AttributedChange[]): BenchEvent[] => {
    const events = groupIntoEvents(changes, [], { now: NOW, runId: "run-1" });
    linkLifecycle(events);
    return events;
  };

  it("fixes a spread regression by a later spread decrease, with the share of the log ratio recovered and its interval", () => {
    const events = build([noisier(C1, C0, "2031-03-01T00:00:00.000Z", 2, [1.6, 2.5]), noisier(C2, C1, "2031-03-05T00:00:00.000Z", 0.5, [0.4, 0.625])]);
    expect(events.map((e) => [e.shape, e.kind])).toEqual([
      ["spread", "regression"],
      ["spread", "improvement"],
    ]);
    const [regression, fix] = events;
    expect(regression.state).toBe("fixed");
    expect(regression.fixed_by_event_id).toBe(fix.event_id);
    expect(regression.recovered_pct).toBeCloseTo(100, 6);
    expect(regression.recovered_ci_low!).toBeLessThan(100);
    expect(regression.recovered_ci_high!).toBeGreaterThan(100);
    // Half of the log ratio taken back (2 → √2): half recovered.
    const halfBack = noisier(C2, C1, "2031-03-05T00:00:00.000Z", Math.SQRT1_2, [0.6, 0.84]);
    expect(recoveredShare(regression.changes[0], halfBack)!.fraction).toBeCloseTo(0.5, 9);
  });

  it("does not let a later step fix a spread regression, nor group a step, a drift and a spread change at one commit", () => {
    const step = shaped({ kind: "improvement", commit_sha: C2, previous_sha: C1, commit_ts: "2031-03-05T00:00:00.000Z", change_pct: -20, ci_pct: [-30, -10] });
    const events = build([noisier(C1, C0, "2031-03-01T00:00:00.000Z", 2, [1.6, 2.5]), step]);
    expect(events.find((e) => e.shape === "spread")!.state).toBe("open");

    const drift = shaped({
      shape: "drift",
      kind: "regression",
      commit_sha: C3,
      previous_sha: C2,
      commit_ts: "2031-03-09T00:00:00.000Z",
      drift: { slope_pct_per_run: 0.5, ci_pct_per_run: [0.3, 0.7], runs: 30 },
    });
    const stepUp = shaped({ kind: "regression", commit_sha: C3, previous_sha: C2, commit_ts: "2031-03-09T00:00:00.000Z", key: key("other") });
    const flaky = { ...noisier(C3, C2, "2031-03-09T00:00:00.000Z", 2, [1.6, 2.5]), key: key("third") };
    const three = build([drift, stepUp, flaky]);
    expect(three.map((e) => e.shape).sort()).toEqual(["drift", "spread", "step"]);
    expect(new Set(three.map((e) => e.event_id)).size).toBe(3);
    // The step keeps the id it had before shapes; a placed drift is blamed on its one commit and not bisected.
    expect(three.find((e) => e.shape === "step")!.event_id).toBe(eventId(C2, C3, "worse"));
    expect(three.find((e) => e.shape === "drift")).toMatchObject({ blamed_sha: C3, bisection_status: "", range_from_sha: C2, slope_pct_per_run: 0.5 });
  });

  it("never bisects a drift or spread change whose range holds several code commits", () => {
    const wide = { ...noisier(C3, C0, "2031-03-09T00:00:00.000Z", 2, [1.6, 2.5]), candidates: [C1, C2, C3] };
    const [event] = build([wide]);
    expect(event).toMatchObject({ shape: "spread", blamed_sha: "", bisection_status: "", bisection_steps_left: 0, code_commits: [C1, C2, C3] });
  });
});

// ---------------------------------------------------------------- stored and told (real ClickHouse)

describe("a council run over a drift and a spread change: stored, read back, told under the truth rule", () => {
  let t: TestDatabase;
  let facts: Facts;
  const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);
  const RUN = "4d3c2b1a-0f9e-4d8c-b7a6-958473625140";
  const RUN2 = "4d3c2b1a-0f9e-4d8c-b7a6-958473625141";
  const window = { from: new Date(NOW.getTime() - 7 * 86_400_000), to: NOW };
  const options = (runId: string, now = NOW) => ({ window, now, freshSeconds: 12 * 3600, changes: CONFIG, runId });

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.insert(
      "upstream_commits",
      commits.map((c, i) => ({
        repo: "banterhearts",
        sha: c.sha,
        ts: c.ts,
        author: "dev",
        message: `kernel: nightly change ${c.sha.slice(0, 6)}`,
        parents: i === 0 ? [] : [sha(i - 1)],
        files: ["src/kernel.py"],
        files_changed: 1,
        additions: 1,
        deletions: 1,
      })),
    );
    const row = (model: string, value: number, i: number) => ({
      ts: new Date(night(i).getTime() + 2 * 3_600_000).toISOString(),
      run_id: `${i.toString(16).padStart(8, "0")}-0000-4000-8000-${{ drifty: "00000000000d", hinge: "00000000000e", flaky: "00000000000f" }[model]}`,
      commit_sha: sha(i),
      benchmark_type: "quantization",
      variant: "q4_k_m",
      model,
      quant: "q4_k_m",
      dataset: "wikitext-2",
      device: "cuda",
      latency_mean_ms: null,
      latency_p50_ms: null,
      latency_p95_ms: value,
      latency_p99_ms: null,
      tokens_per_sec: null,
      cost_per_1k: null,
      memory_peak_mb: null,
      extra: "{}",
      source_path: "",
    });
    await t.db.insert("bench_runs", [
      ...DRIFTING.map((v, i) => row("drifty", v, i)),
      ...HINGE.map((v, i) => row("hinge", v, i)),
      ...FLAKY.map((v, i) => row("flaky", v, i)),
    ]);
    facts = await computeFacts(t.db, options(RUN));
    await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
  });
  afterAll(async () => {
    await setEnv(saved);
    await t?.drop();
  });

  it("stores each change with its shape and interval in bench_changes", async () => {
    const rows = await t.db.query("SELECT * FROM bench_changes FINAL ORDER BY shape, model", {}, benchChangeRow);
    expect(rows.map((r) => [r.model, r.shape, r.kind, r.status])).toEqual([
      ["drifty", "drift", "regression", "open"],
      ["hinge", "drift", "regression", "open"],
      ["flaky", "spread", "regression", "open"],
    ]);
    const [drift, hinge, spread] = rows;
    expect(hinge.previous_sha).not.toBe("");
    expect(hinge.commit_candidates.length).toBeGreaterThan(1);
    expect(hinge.commit_candidates.at(-1)).toBe(hinge.commit_sha);
    expect(hinge.drift_runs).toBeLessThan(N);
    expect(drift.previous_sha).toBe("");
    expect(drift.drift_runs).toBe(N);
    expect(drift.slope_ci_low!).toBeLessThan(drift.slope_pct_per_run!);
    expect(drift.slope_ci_high!).toBeGreaterThan(drift.slope_pct_per_run!);
    expect(drift.spread_ratio).toBeNull();
    expect(spread.spread_ci_low!).toBeGreaterThan(1);
    expect(spread.spread_ratio!).toBeGreaterThan(spread.spread_ci_low!);
    expect(spread.slope_pct_per_run).toBeNull();
    expect(spread.drift_runs).toBe(0);
  });

  it("stores the events with their shape, lists them as open regressions, and keeps their ids on the next run", async () => {
    const stored = await loadEvents(t.db, new Date(0));
    expect(stored.map((e) => [e.model, e.shape, e.kind, e.state]).sort()).toEqual([
      ["drifty", "drift", "regression", "open"],
      ["flaky", "spread", "regression", "open"],
      ["hinge", "drift", "regression", "open"],
    ]);
    expect((await openRegressionEvents(t.db)).map((e) => e.shape).sort()).toEqual(["drift", "drift", "spread"]);
    // The next day's council run finds the same three: same ids, first detection kept; the unplaced drift keeps its place.
    const later = new Date(NOW.getTime() + 86_400_000);
    await computeFacts(t.db, { ...options(RUN2, later), window: { from: new Date(later.getTime() - 7 * 86_400_000), to: later } });
    const again = await loadEvents(t.db, new Date(0));
    expect(again.map((e) => e.event_id).sort()).toEqual(stored.map((e) => e.event_id).sort());
    for (const e of again) {
      const before = stored.find((s) => s.event_id === e.event_id)!;
      expect(e.run_id).toBe(RUN2);
      expect(e.first_detected_at).toBe(before.first_detected_at);
      expect([e.range_from_sha, e.range_to_sha, e.commit_ts]).toEqual([before.range_from_sha, before.range_to_sha, before.commit_ts]);
      expect(toRow(e)).toEqual(e);
    }
  });

  it("shows each on the status page by its kind and its own size, and GET /api/changes carries and filters by the shape", async () => {
    const section = await loadOpenRegressions(t.db);
    expect(section.ok).toBe(true);
    const rows = section.ok ? section.rows : [];
    const drift = rows.find((r) => r.shape === "drift" && r.range_from_sha === "")!;
    const hinge = rows.find((r) => r.shape === "drift" && r.range_from_sha !== "")!;
    const spread = rows.find((r) => r.shape === "spread")!;
    expect(formatShapedSize(drift, "en").size).toMatch(/^\+0\.\d\d% per run$/);
    expect(formatShapedSize(drift, "en").interval).toMatch(/^\[\+0\.\d\d% per run, \+0\.\d\d% per run\]$/);
    expect(formatShapedSize(spread, "en").size).toMatch(/^\d\.\d\d×$/);
    expect(formatShapedSize(spread, "de").interval).toMatch(/^\[\d,\d\d-fach, \d+,\d\d-fach\]$/);
    // The page itself: each open regression with its kind, its size and interval in that kind's terms.
    const html = renderToStaticMarkup(await statusPage.default({ params: Promise.resolve({ lang: "en" }) }));
    const table = /<section aria-labelledby="open-regressions">([\s\S]*?)<\/section>/.exec(html)![1];
    const cells = (event: string) =>
      [...new RegExp(`<tr[^>]*data-event="${event}"[^>]*>([\\s\\S]*?)</tr>`).exec(table)![1].matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((m) =>
        m[1].replace(/<[^>]*>/g, ""),
      );
    // The drift that began before the lookback has no commit; the one with a start is at the commits it could start at.
    expect(cells(drift.event_id)[0]).toBe(`before ${drift.range_to_sha.slice(0, 7)}, began before the first run looked at; no commit blamed`);
    expect(cells(hinge.event_id)[0]).toMatch(new RegExp(`^${hinge.range_from_sha.slice(0, 7)}…${hinge.range_to_sha.slice(0, 7)}, \\d code commits$`));
    expect(cells(hinge.event_id)[3]).toBe("drift (per run)");
    expect(cells(drift.event_id).slice(2, 6)).toEqual([
      "latency_p95_ms",
      "drift (per run)",
      formatShapedSize(drift, "en").size,
      formatShapedSize(drift, "en").interval,
    ]);
    expect(cells(spread.event_id).slice(2, 6)).toEqual([
      "latency_p95_ms",
      "spread (noise ×)",
      formatShapedSize(spread, "en").size,
      formatShapedSize(spread, "en").interval,
    ]);
    // The kind in the page's language (lib/site/i18n.ts), on the status page and in an episode's events table.
    const de = renderToStaticMarkup(await statusPage.default({ params: Promise.resolve({ lang: "de" }) }));
    const row = (html: string, event: string) => new RegExp(`<tr[^>]*data-event="${event}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)![1];
    expect(row(de, drift.event_id)).toContain('<td lang="de">Drift (pro Lauf)</td>');
    expect(row(de, spread.event_id)).toContain('<td lang="de">Streuung (Rauschen ×)</td>');
    const labels: Record<Lang, [string, string]> = {
      en: ["drift (per run)", "spread (noise ×)"],
      de: ["Drift (pro Lauf)", "Streuung (Rauschen ×)"],
      zh: ["漂移（每次运行）", "离散度（噪声 ×）"],
      hi: ["ड्रिफ़्ट (प्रति रन)", "स्प्रेड (शोर ×)"],
    };
    for (const lang of ["en", "de", "zh", "hi"] as const) {
      const events = renderToStaticMarkup(EventsTable({ events: facts.events, lang, strings: uiStrings(lang).changeEvents })!);
      const shown = [...events.matchAll(/<small[^>]*data-shape="(\w+)"[^>]*>([^<]*)<\/small>/g)].map((m) => [m[1], m[2].trim()]);
      expect(shown.sort(), lang).toEqual([
        ["drift", labels[lang][0]],
        ["drift", labels[lang][0]],
        ["spread", labels[lang][1]],
      ]);
    }

    const response = await GET(new Request("http://localhost/api/changes?shape=spread"));
    expect(response.status).toBe(200);
    const body = z.object({ events: z.array(z.record(z.string(), z.unknown())) }).parse(await response.json());
    expect(body.events.map((e) => [e.shape, e.model])).toEqual([["spread", "flaky"]]);
    expect(body.events[0]).toMatchObject({ spread_ratio: spread.spread_ratio, spread_ci_low: spread.spread_ci_low, slope_pct_per_run: null });
    const all = z
      .object({ events: z.array(z.object({ shape: z.string() }).loose()) })
      .parse(await (await GET(new Request("http://localhost/api/changes"))).json());
    expect(all.events.map((e) => e.shape).sort()).toEqual(["drift", "drift", "spread"]);
    expect((await GET(new Request("http://localhost/api/changes?shape=wobble"))).status).toBe(400);
  });

  it("tells them in notices (GitHub issue, Slack, Datadog) by their slope or noise ratio, never as a step", async () => {
    const stored = await loadEvents(t.db, new Date(0));
    const drift = stored.find((e) => e.shape === "drift" && e.model === "drifty")!;
    const hinge = stored.find((e) => e.shape === "drift" && e.model === "hinge")!;
    const spread = stored.find((e) => e.shape === "spread")!;
    const context = { siteUrl: "https://muse.example", repo: "acme/banterhearts", commits: new Map() };
    expect(issueView(spread, context).title).toMatch(/^Regression: p95 latency \d\.\d\d× as noisy in quantization flaky .* at [0-9a-f]{7}$/);
    expect(issueView(spread, context).body).toMatch(/× as noisy \(95 % interval \d\.\d\d× to \d\.\d\d×\)\*\* \(a change in spread; q <\u00a00\.001\)/u);
    expect(issueView(drift, context).title).toMatch(
      /^Regression: p95 latency creeping \+0\.\d\d % per run in quantization drifty .* since before the first run looked at$/,
    );
    expect(issueView(drift, context).body).toContain("none: the drift began before the first run the detector looked at");
    expect(issueView(hinge, context).title).toMatch(
      /^Regression: p95 latency creeping \+0\.\d\d % per run in quantization hinge .* between [0-9a-f]{7} and [0-9a-f]{7}$/,
    );
    expect(slackMessage(spread, "new", context).text).toMatch(/^Regression found: \d\.\d\d× as noisy in latency_p95_ms of /);
    expect(slackMessage(drift, "new", context).blocks[0].text.text).toContain("no commit (the drift began before the first run looked at)");
    const dd = datadogEvent(drift, { siteUrl: "https://muse.example", service: "muse", env: "test", now: NOW });
    expect(dd.title).toMatch(/^Regression open: latency_p95_ms creeping \+0\.\d\d % per run since before the first run looked at/);
  });

  it("makes facts of each with its units: the slope per run and the noise ratio, with their intervals", () => {
    const drift = facts.events.find((e) => e.shape === "drift" && e.attribution === "window")!;
    const hinge = facts.events.find((e) => e.shape === "drift" && e.attribution !== "window")!;
    const spread = facts.events.find((e) => e.shape === "spread")!;
    expect(drift).toMatchObject({ attribution: "window", kind: "regression", users: null, bisection: null });
    expect(hinge).toMatchObject({ attribution: "range", kind: "regression", users: null, bisection: null });
    expect(hinge.candidates.at(-1)).toBe(hinge.commit_sha);
    expect(hinge.drift!.runs).toBeLessThan(N);
    expect(spread).toMatchObject({ attribution: "exact", kind: "regression", users: null, subject: `kernel: nightly change ${spread.commit_sha.slice(0, 6)}` });
    const fact = (id: string) => facts.facts.find((f) => f.id === id);
    const d = `event.${drift.n}`;
    const s = `event.${spread.n}`;
    expect(fact(`${d}.drift.slope_pct_per_run`)).toMatchObject({ unit: "pct_per_run", signed: true, decimals: 2 });
    expect(fact(`${d}.drift.ci_low`)!.value).toBeLessThan(fact(`${d}.drift.slope_pct_per_run`)!.value);
    expect(fact(`${d}.runs_drifting`)).toMatchObject({ unit: "count", value: N });
    expect(fact(`${s}.spread.ratio`)).toMatchObject({ unit: "times", decimals: 2 });
    expect(fact(`${s}.spread.ci_low`)!.value).toBeGreaterThan(1);
    // A spread change states no level change, a drift no before/after means: what they say is their slope or ratio.
    for (const id of [`${s}.change_pct`, `${s}.before`, `${d}.before`, `${d}.after`, `${d}.median_change_pct`]) expect(fact(id)).toBeUndefined();
  });

  it("tells them in the offline writer's episode, which passes the truth rule in every language", () => {
    const draft = writeOffline(facts, { series: "banterpacks", titleRules: { maxLength: 80 } });
    // No Data quality notice (the window has no overlay data): the story is what is checked here.
    const template = composeEpisode(draft, facts, { runId: RUN, publishThreshold: 0 });
    const en = renderAndCheck(template, facts, { lang: "en", runId: RUN });
    expect(en.problems).toEqual([]);
    const text = en.content.sections.map((x) => x.markdown).join("\n");
    const drift = facts.events.find((e) => e.shape === "drift" && e.attribution === "window")!;
    const hinge = facts.events.find((e) => e.shape === "drift" && e.attribution === "range")!;
    const spread = facts.events.find((e) => e.shape === "spread")!;
    const shown = (id: string, lang: Lang = "en") =>
      formatFact(
        facts.facts.find((f) => f.id === id)!,
        lang,
      );
    // The larger event is told in full, the other in a line: "p95 latency of `…drifty…` creeping up by +0.39% per run (interval
    // +0.38% per run to +0.41% per run) since at least Aug 1, 2026, the first run the detector looked at (…): a drift, …"
    expect(text).toContain(`creeping up by [${shown(`event.${drift.n}.drift.slope_pct_per_run`)}](#fact-event.${drift.n}.drift.slope_pct_per_run)`);
    expect(text).toContain("the first run the detector looked at (it began before and is not blamed on any commit)");
    // The drift with a start: "creeping up by +0.49% per run (interval …) since a commit between `000026c` and `000029c` (3 code
    // commits; a drift is not bisected)"
    expect(text).toMatch(
      new RegExp(
        `creeping up by \\[${shown(`event.${hinge.n}.drift.slope_pct_per_run`).replace(/[.+]/g, "\\$&")}\\][^\\n]*? since a commit between \`${hinge.range_from_sha.slice(0, 7)}\` and \`${hinge.commit_sha.slice(0, 7)}\``,
      ),
    );
    // "p95 latency of `…flaky…` has been noisier since commit `00003e1`: its run-to-run noise is 2.76× what it was before (interval …)"
    expect(text).toMatch(
      new RegExp(
        `has been noisier since commit \`${spread.commit_sha.slice(0, 7)}\`.*?: its run-to-run noise is \\[${shown(`event.${spread.n}.spread.ratio`).replace(".", "\\.")}\\]`,
      ),
    );
    expect(text).toContain("a change in how noisy runs are moves no mean wait to compare users on, so users were not asked");
    const sentence = text.split("\n").find((l) => l.includes("noisier since"));
    console.log(`[change-shapes] title: ${en.content.title}\n[change-shapes] ${sentence}`);
    expect(en.content.title).toMatch(/creeping up|as noisy/);

    for (const lang of ["en", "de", "zh", "hi"] as const) {
      const rendered = renderAndCheck(template, facts, { lang, runId: RUN });
      expect(rendered.problems, lang).toEqual([]);
      const fm = buildFrontMatter(facts, rendered.content, claimsOf(rendered.references, facts.facts), {
        series: "banterpacks",
        episode: 1,
        lang,
        date: NOW,
        runId: RUN,
        writer: { kind: "offline" },
      });
      expect(checkEpisodeFile(renderEpisode(fm, rendered.content.sections), facts), lang).toEqual([]);
    }
    expect(
      renderAndCheck(template, facts, { lang: "de", runId: RUN })
        .content.sections.map((x) => x.markdown)
        .join("\n"),
    ).toContain(`[${shown(`event.${spread.n}.spread.ratio`, "de")}](#fact-event.${spread.n}.spread.ratio)`);
  });

  it("tells a drift in full when it is the biggest news: its slope, its interval, the change over its runs, since when", () => {
    for (const drift of facts.events.filter((e) => e.shape === "drift")) {
      const only: Facts = { ...facts, events: [drift] };
      const template = composeEpisode(writeOffline(only, { series: "banterpacks", titleRules: { maxLength: 80 } }), only, { runId: RUN, publishThreshold: 0 });
      for (const lang of ["en", "de", "zh", "hi"] as const) expect(renderAndCheck(template, only, { lang, runId: RUN }).problems, lang).toEqual([]);
      const en = renderAndCheck(template, only, { lang: "en", runId: RUN });
      const k = `event.${drift.n}`;
      const text = en.content.sections.map((x) => x.markdown).join("\n");
      const paragraph = text.split("\n").find((l) => l.startsWith("**A creeping regression**"))!;
      expect(paragraph).toContain(`has been creeping up by [${formatFact(facts.facts.find((f) => f.id === `${k}.drift.slope_pct_per_run`)!)}]`);
      expect(paragraph).toMatch(new RegExp(`\\(interval \\[[^\\]]+\\]\\(#fact-${k}\\.drift\\.ci_low\\) to \\[[^\\]]+\\]\\(#fact-${k}\\.drift\\.ci_high\\)`));
      expect(paragraph).toContain(`(#fact-${k}.change_pct) over [`);
      expect(text).toContain("a drift has no moment to compare the overlay around, so users were not asked");
      if (drift.attribution === "window") {
        // No commit in the title of a drift that began before the runs looked at.
        expect(en.content.title).toMatch(/^Banterpacks: p95 latency creeping up \+0\.\d\d% per run, still open$/);
        expect(paragraph).toContain("since at least [");
      } else {
        // A start the data place within a few runs: the range of commits it could start at, none named as the one (the
        // title drops the slope before it drops that: "… creeping up since a commit up to `000029c`").
        expect(drift.attribution).toBe("range");
        expect(en.content.title).toMatch(
          new RegExp(`^Banterpacks: p95 latency creeping up (\\+0\\.\\d\\d% per run )?since a commit up to ${drift.commit_sha.slice(0, 7)}`),
        );
        expect(paragraph).toContain(`since a commit between \`${drift.range_from_sha.slice(0, 7)}\` and \`${drift.commit_sha.slice(0, 7)}\``);
        expect(text).toMatch(
          new RegExp(
            `- Open drift in \`${drift.lead.label.replace(/[()]/g, "\\$&")}\`: look at the \\[\\d code commits\\]\\(#fact-event\\.\\d+\\.candidates\\) up to \`${drift.commit_sha.slice(0, 7)}\`, where it begins`,
          ),
        );
      }
      console.log(`[change-shapes] title: ${en.content.title}\n[change-shapes] ${paragraph}`);
    }
  });

  it("refuses a direction word against the drift's slope and a typed multiple", () => {
    const drift = facts.events.find((e) => e.shape === "drift")!;
    const draft = writeOffline(facts, { series: "banterpacks", titleRules: { maxLength: 80 } });
    const lie = (text: string) =>
      renderAndCheck(composeEpisode({ ...draft, sections: { ...draft.sections, next_steps: text } }, facts, { runId: RUN, publishThreshold: 0 }), facts, {
        lang: "en",
        runId: RUN,
      }).problems.join("\n");
    expect(lie(`p95 latency went down by {{fact:event.${drift.n}.drift.slope_pct_per_run}} a run.`)).toMatch(/says down/);
    expect(lie("The runs are twice as noisy now.")).toMatch(/"twice" is a number word/);
  });
});
