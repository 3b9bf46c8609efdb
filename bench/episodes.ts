import { v5 as uuidv5 } from "uuid";
import { facts as factsSchema, type Facts } from "../lib/analysis/facts";
import { episodeRow, type EpisodeRow } from "../lib/clickhouse/tables";
import type { Series } from "../lib/episode/draft";
import { writeOffline } from "../lib/council/offline-writer";
import { buildFrontMatter, composeEpisode, episodeFilePath, renderEpisode, type LANGS } from "../lib/episode/file";
import { claimsOf, renderAndCheck } from "../lib/episode/truth";

/**
 * Episodes as the council writes them, without ClickHouse: synthetic facts
 * (varied per episode), the offline writer, the truth-rule check for the
 * claims, and render.ts's episode file. Used by the bench (site build with
 * 100 or 1,000 episodes × 4 languages) and by the hardening tests (publish
 * under GitHub faults).
 */

const NS = "9c3f5e1a-2b7d-5c4e-8f6a-0d1b2c3e4f5a";
const DAY = 86_400_000;
export type Lang = (typeof LANGS)[number];
export const ALL_LANGS: readonly Lang[] = ["en", "de", "zh", "hi"];

/** A week of facts ending at `to`; `i` varies the numbers and the commits. */
export function syntheticFacts(i: number, to: Date): Facts {
  const from = new Date(to.getTime() - 7 * DAY);
  const sha = (repo: string, k: number) => uuidv5(`${repo}-${i}-${k}`, NS).replace(/-/g, "").padEnd(40, "0").slice(0, 40);
  const daily = Array.from({ length: 7 }, (_, d) => {
    const p95 = 100 + 10 * d + (i % 13);
    return {
      day: new Date(from.getTime() + d * DAY).toISOString().slice(0, 10),
      latency_p95_ms: p95,
      tokens_per_sec: 60 - d - (i % 5),
      cost_per_1k: 0.0002,
      user_latency_ms: 2 * p95 + 100,
      error_rate: 0.02,
      abandonment_rate: 0.1,
      sessions: 40 + (i % 9),
      events: 2_000 + 10 * i,
    };
  });
  const mean = (k: "latency_p95_ms" | "tokens_per_sec" | "user_latency_ms") => daily.reduce((n, d) => n + d[k], 0) / daily.length;
  const events = daily.reduce((n, d) => n + d.events, 0);
  const sessions = daily.reduce((n, d) => n + d.sessions, 0);
  const source = `synthetic window ${i}`;
  const fact = (id: string, label: string, value: number, unit: Facts["facts"][number]["unit"], decimals: number) => ({
    id,
    label,
    value: Number(value.toFixed(decimals)),
    unit,
    decimals,
    source,
  });
  return factsSchema.parse({
    window: { from: from.toISOString(), to: to.toISOString(), days: 7 },
    generated_at: to.toISOString(),
    facts: [
      fact("window.from", "start of the window", from.getTime(), "date", 0),
      fact("window.to", "end of the window", to.getTime(), "date", 0),
      fact("detect.series_tested", "benchmark series tested for change points", 24, "count", 0),
      fact("detect.min_runs", "runs required on each side of a change", 3, "count", 0),
      fact("changes.open_regressions", "benchmark series with an open regression", 0, "count", 0),
      fact("window.days", "days in the window", 7, "days", 0),
      fact("window.joined_days", "days with data from both sources", 7, "days", 0),
      fact("hearts.latency_p95_ms", "mean daily p95 latency (Banterhearts)", mean("latency_p95_ms"), "ms", 1),
      fact("hearts.tokens_per_sec", "mean daily throughput (Banterhearts)", mean("tokens_per_sec"), "tokens/s", 1),
      fact("hearts.cost_per_1k", "mean cost per 1k tokens", 0.0002, "usd", 4),
      fact("packs.user_latency_ms", "mean user-facing latency (Banterpacks)", mean("user_latency_ms"), "ms", 1),
      fact("packs.error_rate_pct", "error rate", 2, "percent", 2),
      fact("packs.abandonment_pct", "query abandonment rate", 10, "percent", 1),
      fact("correlation.latency_user", "Pearson r, p95 latency vs user latency", 0.98, "coefficient", 2),
      fact("correlation.days", "days the correlation is computed over", 7, "days", 0),
      fact("confidence", "confidence score", 0.9, "score", 2),
      fact("volume.bench_rows", "model-level benchmark rows", 140, "count", 0),
      fact("volume.events", "UI events", events, "count", 0),
      fact("volume.sessions", "sessions", sessions, "count", 0),
      fact("changes.regressions", "regressions found", 0, "count", 0),
      fact("changes.improvements", "improvements found", 0, "count", 0),
      fact("commits.packs", "Banterpacks commits in the window", 1, "count", 0),
      fact("commits.hearts", "Banterhearts commits in the window", 2, "count", 0),
    ],
    confidence: { value: 0.9, completeness: 1, evidence: 1, recency: 1, volume: 0.9, limiting: "volume" },
    correlation: 0.98,
    daily,
    changes: [],
    events: [],
    commits: {
      hearts: [0, 1].map((k) => ({
        sha: sha("hearts", k),
        ts: new Date(from.getTime() + (2 + k) * DAY).toISOString(),
        message: `bench: nightly run ${i}.${k}`,
      })),
      packs: [
        {
          sha: sha("packs", 0),
          ts: new Date(from.getTime() + 4 * DAY).toISOString(),
          message: `feat(overlay): change ${i}`,
          files_changed: 2,
          additions: 30,
          deletions: 4,
        },
      ],
    },
    hearts_commits_used: [sha("hearts", 0), sha("hearts", 1)].sort(),
    models: ["llama-3.1-8b", "mistral-7b"],
    volume: { bench_rows: 140, events, sessions },
    missing: [],
  });
}

export interface SyntheticEpisode {
  series: Series;
  episode: number;
  runId: string;
  title: string;
  confidence: number;
  /** Path (relative to the content directory) → file text, for each language asked for. */
  files: Map<Lang, { path: string; markdown: string }>;
}

/**
 * Episode `n` of `series` as the council's offline writer would write it (the
 * original), and as its translations would be filed (same text, translated
 * front-matter fields: the site and the publisher only need valid files).
 */
export function syntheticEpisode(series: Series, n: number, options: { langs?: readonly Lang[]; date?: Date } = {}): SyntheticEpisode {
  const date = options.date ?? new Date(Date.UTC(2026, 10, 1) + n * 3_600_000);
  const facts = syntheticFacts(n, date);
  const runId = uuidv5(`${series}-${n}`, NS);
  const draft = writeOffline(facts, { series, titleRules: { maxLength: 80 } });
  const template = composeEpisode(draft, facts, { runId, publishThreshold: 0.6 });
  const original = renderAndCheck(template, facts, { lang: "en", runId });
  if (original.problems.length > 0) throw new Error(`synthetic episode ${series} ${n} breaks the truth rule: ${original.problems.join("; ")}`);
  const claims = claimsOf(original.references, facts.facts);
  const content = original.content;
  const files = new Map<Lang, { path: string; markdown: string }>();
  for (const lang of options.langs ?? ["en"]) {
    // Translations: the same template rendered in the language's number format (prose left in English).
    const rendered = lang === "en" ? content : renderAndCheck(template, facts, { lang, runId }).content;
    const frontMatter = buildFrontMatter(facts, { title: rendered.title, summary: rendered.summary }, claims, {
      series,
      episode: n,
      lang,
      date,
      runId,
      writer: { kind: "offline" },
      ...(lang === "en" ? {} : { translationOf: episodeFilePath(series, n, "en") }),
    });
    files.set(lang, { path: episodeFilePath(series, n, lang), markdown: renderEpisode(frontMatter, rendered.sections) });
  }
  return { series, episode: n, runId, title: content.title, confidence: facts.confidence.value, files };
}

/**
 * The synthetic episode as the `episodes` rows a council run leaves for the publisher: publishable, one per language
 * (translations pointing at the original's file), created at `created` (an ISO instant).
 */
export function publishableRows(episode: SyntheticEpisode, created: string): EpisodeRow[] {
  const original = episode.files.get("en")?.path ?? "";
  return [...episode.files].map(([lang, file]) =>
    episodeRow.parse({
      ts: created,
      updated_at: created,
      run_id: episode.runId,
      series: episode.series,
      episode_num: episode.episode,
      lang,
      title: episode.title,
      summary: "",
      confidence_score: episode.confidence,
      correlation_strength: 0.98,
      tokens_total: 0,
      cost_total: 0,
      status: "publishable",
      file_path: file.path,
      commit_sha: "",
      markdown: file.markdown,
      facts: "{}",
      claims: "[]",
      problems: [],
      writer: "{}",
      translation_of: lang === "en" ? "" : original,
    }),
  );
}
