import { facts as factsSchema, type Facts } from "../../lib/analysis/facts";
import type { EpisodeIdentity } from "../../lib/episode/file";

/**
 * The truth rule's fixture: one window with one open regression (event 1, at
 * HEARTS), a dependency bump and an overlay commit, and every fact the offline
 * writer refers to. Used by the truth suites (tests/truth*.test.ts) and the
 * neighbourhood fuzzer.
 */

export const RUN = "7a2d3b4c-5e6f-4a70-9b8c-0d1e2f3a4b5c";
export const HEARTS = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
export const BUMP = "b2c3d4e5f60718293a4b5c6d7e8f901234567890";
export const PACKS = "c3d4e5f60718293a4b5c6d7e8f90123456789012";
export const FROM = "2026-11-08T00:00:00.000Z";
export const TO = "2026-11-15T00:00:00.000Z";

export function fixtureFacts(): Facts {
  const f = (id: string, value: number, unit: Facts["facts"][number]["unit"], decimals: number, signed?: boolean) => ({
    id,
    label: id,
    value,
    unit,
    decimals,
    source: "test",
    ...(signed ? { signed } : {}),
  });
  return factsSchema.parse({
    window: { from: FROM, to: TO, days: 7 },
    generated_at: TO,
    facts: [
      f("window.from", Date.parse(FROM), "date", 0),
      f("window.to", Date.parse(TO), "date", 0),
      f("window.days", 7, "days", 0),
      f("window.joined_days", 7, "days", 0),
      f("hearts.latency_p95_ms", 123.456, "ms", 1),
      f("hearts.tokens_per_sec", 1234.5, "tokens/s", 1),
      f("hearts.cost_per_1k", 0.0032, "usd", 4),
      f("packs.user_latency_ms", 431.9, "ms", 1),
      f("packs.error_rate_pct", 1.5, "percent", 2),
      f("packs.abandonment_pct", 4.5, "percent", 1),
      f("correlation.latency_user", -0.82, "coefficient", 2),
      f("correlation.ci_low", -0.95, "coefficient", 2),
      f("correlation.ci_high", -0.41, "coefficient", 2),
      f("correlation.days", 7, "days", 0),
      f("confidence", 0.82, "score", 2),
      f("volume.bench_rows", 140, "count", 0),
      f("volume.events", 15445, "count", 0),
      f("volume.sessions", 42, "count", 0),
      f("commits.hearts", 2, "count", 0),
      f("commits.packs", 1, "count", 0),
      f("detect.series_tested", 24, "count", 0),
      f("detect.min_runs", 3, "count", 0),
      f("changes.regressions", 1, "count", 0),
      f("changes.improvements", 0, "count", 0),
      f("changes.open_regressions", 1, "count", 0),
      f("event.1.date", Date.parse("2026-11-10T06:00:00.000Z"), "date", 0),
      f("event.1.change_pct", 41.2, "percent", 1, true),
      f("event.1.ci_low_pct", 35.1, "percent", 1, true),
      f("event.1.ci_high_pct", 47.9, "percent", 1, true),
      f("event.1.before", 100.2, "ms", 1),
      f("event.1.after", 141.5, "ms", 1),
      f("event.1.runs_before", 9, "count", 0),
      f("event.1.runs_after", 12, "count", 0),
      f("event.1.q_value", 0.00012, "p_value", 2),
      f("event.1.series", 1, "count", 0),
      f("event.1.series_same", 1, "count", 0),
      f("event.1.median_change_pct", 41.2, "percent", 1, true),
      f("event.1.candidates", 1, "count", 0),
    ],
    confidence: { value: 0.82, completeness: 1, recency: 1, volume: 0.82, evidence: 0.99, limiting: "volume" },
    correlation: -0.82,
    daily: [],
    events: [
      {
        n: 1,
        commit_sha: HEARTS,
        commit_ts: "2026-11-10T06:00:00.000Z",
        subject: "perf: cut p95 latency to 99 ms",
        candidates: [HEARTS],
        kind: "regression",
        status: "open",
        fixed_by_sha: "",
        fixed_ts: null,
        lead: {
          label: "quantization Qwen 1.5 7B int8 (wikitext-2, cuda)",
          metric: "latency_p95_ms",
          change_pct: 41.2,
          ci_pct: [35.1, 47.9],
          q_value: 0.00012,
          mean_before: 100.2,
          mean_after: 141.5,
          n_before: 9,
          n_after: 12,
        },
        series_changed: 1,
        series_same_direction: 1,
        median_change_pct: 41.2,
        users: { measurable: false, felt: false, latency_change_pct: null, latency_ci_pct: null, latency_p_value: null },
      },
    ],
    commits: {
      hearts: [
        { sha: HEARTS, ts: "2026-11-10T06:00:00.000Z", message: "perf: cut p95 latency to 99 ms" },
        { sha: BUMP, ts: "2026-11-11T06:00:00.000Z", message: "chore(deps): bump torch 1.2" },
      ],
      packs: [{ sha: PACKS, ts: "2026-11-12T06:00:00.000Z", message: "feat(overlay): 2 columns", files_changed: 1, additions: 2, deletions: 0 }],
    },
    hearts_commits_used: [HEARTS],
    models: ["Qwen 1.5 7B", "llama-3.1-8b"],
    identifiers: ["Qwen 1.5 7B", "llama-3.1-8b", "int8", "quantization", "wikitext-2", "cuda"],
    volume: { bench_rows: 140, events: 15445, sessions: 42 },
    missing: [],
  });
}

export const LINKS = { hearts: "acme/banterhearts", packs: "acme/banterpacks" };

/** The fixture episode's identity for buildFrontMatter: chimera episode 1 of the window, written offline. */
export function fixtureIdentity(lang: EpisodeIdentity["lang"] = "en"): EpisodeIdentity {
  return { series: "chimera", episode: 1, lang, date: new Date(TO), runId: RUN, writer: { kind: "offline" } };
}
