import { z } from "zod";
import { DEFAULT_DETECTOR_OPTIONS } from "../analysis/changepoints";
import { DEFAULT_ACCURACY_GATES } from "../analysis/changes";
import { DEFAULT_BISECTION_OPTIONS } from "../bisection/bisect";
import { computeFacts, type Facts } from "../analysis/facts";
import type { Db } from "../clickhouse/client";
import { insertEpisodes, lastEpisode } from "../clickhouse/queries/episodes";
import { commitsSince } from "../clickhouse/queries/upstream-commits";
import { episodeRow, type EpisodeRow, type LlmEventRow } from "../clickhouse/tables";
import type { Env } from "../env";
import { llmFromEnv, type LlmProvider } from "../llm/provider";
import type { EpisodeDraft, Series } from "../episode/draft";
import { writeWithLlm } from "../council/llm-writer";
import { claimEpisodeNumber, type ClaimOptions } from "../council/numbering";
import { writeOffline } from "../council/offline-writer";
import { buildFrontMatter, composeEpisode, episodeFilePath, renderEpisode, repoName, type WriterInfo } from "../episode/file";
import type { EpisodeContent } from "../episode/draft";
import { claimsOf, renderAndCheck } from "../episode/truth";
import { emitOpenRegressions } from "../metrics/changes";
import { readLatestWatcherRun, type LatestWatcherRun } from "./watch";
import { TransientError, type AgentDefinition, type AgentDeps, type AgentResult, type RunContext } from "./types";
import { emitLlmMetrics } from "../llm/metrics";
import { loadEvents } from "../lifecycle/events";
import { reachConfigured, reachOut } from "../reach";
import type { EventExtras } from "../reach/github-issues";
import { absoluteUrl, paths } from "../site/paths";
import { messageOf } from "../error-message";

/**
 * council: the latest data window → one episode draft in `episodes`.
 *
 * 1. Gate: the latest watcher run must be at most MUSE_WATCHER_MAX_AGE_MINUTES
 *    old and `valid` (or `degraded` with MUSE_COUNCIL_ALLOW_DEGRADED);
 *    otherwise the run is `blocked` and writes nothing.
 * 2. Facts over the window ending now (lib/analysis), the series by
 *    configuration: chimera when |r| ≥ MUSE_CHIMERA_MIN_CORRELATION and
 *    confidence ≥ MUSE_PUBLISH_THRESHOLD, else banterpacks.
 * 3. A draft: by the LLM when one is configured (with its one repair), else by
 *    the offline writer; the links and, below the threshold, a Data quality
 *    notice are added, and the truth rule is checked on the whole.
 * 4. Status: `rejected` (truth rule broken: episode 0, problems kept),
 *    `draft` (below the threshold: episode 0) or `publishable` (the only
 *    status that takes a number, claimed gap-free in episode_numbers).
 * 5. The episode row (markdown, facts, claims, writer, cost) and the
 *    llm_events of every call. dryRun computes and writes nothing but the
 *    llm_events of calls actually made (that money was spent).
 */

export const councilOptions = z
  .object({
    windowDays: z.number().int().min(1).max(365).optional().describe("days of data the episode describes (default MUSE_WINDOW_DAYS)"),
    dryRun: z.boolean().default(false).describe("compute and write the draft, but store no episode and claim no number"),
    force: z.boolean().default(false).describe("write even if the last episode is recent or nothing changed upstream since"),
  })
  .strict();
export type CouncilOptions = z.output<typeof councilOptions>;

export type EpisodeStatus = "draft" | "publishable" | "rejected";

export interface CouncilSummary extends Record<string, unknown> {
  watcher_run_id?: string;
  window_from?: string;
  window_to?: string;
  series?: Series;
  status?: EpisodeStatus;
  episode?: number;
  file_path?: string;
  confidence?: number;
  correlation?: number | null;
  writer?: WriterInfo["kind"];
  claims?: number;
  problems?: string[];
  tokens?: number;
  cost_usd?: number;
  dry_run: boolean;
}

// ---------------------------------------------------------------- gate

export type GateResult = { open: true; watcher: LatestWatcherRun } | { open: false; reason: string; tag: "no_watcher_run" | "stale" | "error" | "degraded" };

export async function watcherGate(db: Db, env: Pick<Env, "MUSE_WATCHER_MAX_AGE_MINUTES" | "MUSE_COUNCIL_ALLOW_DEGRADED">, now: Date): Promise<GateResult> {
  const watcher = await readLatestWatcherRun(db);
  if (!watcher) return { open: false, tag: "no_watcher_run", reason: "no watcher run yet: run the watch agent first" };
  const ageMinutes = (now.getTime() - Date.parse(watcher.ts)) / 60_000;
  if (ageMinutes > env.MUSE_WATCHER_MAX_AGE_MINUTES) {
    return {
      open: false,
      tag: "stale",
      reason: `the latest watcher run (${watcher.run_id}) is ${Math.round(ageMinutes)} min old; at most ${env.MUSE_WATCHER_MAX_AGE_MINUTES} min allowed`,
    };
  }
  const why = watcher.reasons.length > 0 ? `: ${watcher.reasons.join("; ")}` : "";
  if (watcher.status === "error") return { open: false, tag: "error", reason: `the latest watcher run is error${why}` };
  if (watcher.status === "degraded" && !env.MUSE_COUNCIL_ALLOW_DEGRADED) {
    return { open: false, tag: "degraded", reason: `the latest watcher run is degraded (MUSE_COUNCIL_ALLOW_DEGRADED is off)${why}` };
  }
  return { open: true, watcher };
}

// ---------------------------------------------------------------- cadence

export type CadenceResult = { due: true } | { due: false; reason: string };

/**
 * An episode tells what changed, so the council skips a run when the last
 * stored episode (of any series, not rejected) is younger than
 * MUSE_EPISODE_MIN_INTERVAL_HOURS, or when no upstream commit (either
 * repository) has landed after the end of that episode's window.
 */
export async function episodeCadence(db: Db, env: Pick<Env, "MUSE_EPISODE_MIN_INTERVAL_HOURS">, now: Date): Promise<CadenceResult> {
  const last = await lastEpisode(db);
  if (!last) return { due: true };
  const ageHours = (now.getTime() - Date.parse(last.ts)) / 3_600_000;
  if (ageHours < env.MUSE_EPISODE_MIN_INTERVAL_HOURS) {
    return {
      due: false,
      reason: `the last episode is ${ageHours.toFixed(1)} h old; episodes are at least ${env.MUSE_EPISODE_MIN_INTERVAL_HOURS} h apart (MUSE_EPISODE_MIN_INTERVAL_HOURS)`,
    };
  }
  const since = last.window_to || last.ts;
  const commits = await commitsSince(db, new Date(since));
  if (commits === 0) return { due: false, reason: `no upstream commit since the last episode's window ended (${since})` };
  return { due: true };
}

/** What an earlier episode said of an event: the story tells what changed since. */
const toldEvent = z.object({
  event_id: z.string().default(""),
  status: z.string(),
  commit_sha: z.string(),
  // The triage it was told with (docs/triage.md): a new word from a maintainer is news.
  triage: z
    .object({ action: z.string() })
    .nullish()
    .catch(null)
    .transform((t) => t?.action ?? ""),
});

/** The last stored episode (any series, not rejected) and the events it told: the story tells what changed since. */
export async function previousEpisode(
  db: Db,
): Promise<{ ts: string; window_to: string; events: { event_id: string; status: string; commit_sha: string; triage: string }[] } | null> {
  const last = await lastEpisode(db);
  if (!last) return null;
  let told: unknown;
  try {
    told = JSON.parse(last.events_json || "[]");
  } catch {
    told = [];
  }
  const events = z
    .array(toldEvent)
    .catch([])
    .parse(told)
    .filter((e) => e.event_id !== "");
  return { ts: last.ts, window_to: last.window_to || last.ts, events };
}

// ---------------------------------------------------------------- series

/**
 * chimera — the performance story — when a benchmark change of this episode
 * reached the users (the user-side test was significant in its direction);
 * otherwise banterpacks, the overlay's story with the benchmarks as
 * background. Either can be published: confidence decides that, not the series.
 */
export function chooseSeries(facts: Facts): Series {
  return facts.events.some((e) => e.users?.felt) ? "chimera" : "banterpacks";
}

// ---------------------------------------------------------------- the run

export interface CouncilHooks {
  /** The LLM to write with; null forces the offline writer; unset: from the environment. */
  llm?: LlmProvider | null;
  numbering?: ClaimOptions;
}

function writerInfoOf(llm: LlmProvider | undefined, events: LlmEventRow[]): WriterInfo {
  if (!llm) return { kind: "offline" };
  const costs = events.map((e) => e.cost_usd);
  return {
    kind: "llm",
    model: llm.modelId,
    tokens_in: events.reduce((n, e) => n + e.tokens_in, 0),
    tokens_out: events.reduce((n, e) => n + e.tokens_out, 0),
    cost_usd: costs.some((c) => c === null) ? null : Math.round(costs.reduce<number>((a, c) => a + (c ?? 0), 0) * 1e6) / 1e6,
  };
}

export function changeConfig(
  env: Pick<Env, "MUSE_CHANGE_ALPHA" | "MUSE_CHANGE_MIN_RUNS" | "MUSE_CHANGE_MIN_PCT" | "MUSE_CHANGE_LOOKBACK_DAYS"> &
    Partial<Pick<Env, "MUSE_ACCURACY_GATE" | "MUSE_ACCURACY_GATES">>,
) {
  return {
    ...DEFAULT_DETECTOR_OPTIONS,
    alpha: env.MUSE_CHANGE_ALPHA,
    minRunsEachSide: env.MUSE_CHANGE_MIN_RUNS,
    minChangePct: env.MUSE_CHANGE_MIN_PCT,
    lookbackDays: env.MUSE_CHANGE_LOOKBACK_DAYS,
    gates: { fraction: env.MUSE_ACCURACY_GATE ?? DEFAULT_ACCURACY_GATES.fraction, methods: env.MUSE_ACCURACY_GATES ?? {} },
  };
}

export async function council(
  options: CouncilOptions,
  deps: AgentDeps,
  context: Pick<RunContext, "runId" | "progress">,
  hooks: CouncilHooks = {},
): Promise<AgentResult<CouncilSummary>> {
  const { db, env, metrics } = deps;
  const now = deps.clock.now();
  const runId = context.runId;

  const gate = await watcherGate(db, env, now);
  if (!gate.open) {
    metrics.count("muse.council.blocked", 1, { reason: gate.tag });
    return { status: "blocked", reason: gate.reason, summary: { dry_run: options.dryRun } };
  }

  if (!options.force) {
    const cadence = await episodeCadence(db, env, now);
    if (!cadence.due) return { status: "skipped", reason: cadence.reason, summary: { dry_run: options.dryRun } };
  }

  const windowDays = options.windowDays ?? env.MUSE_WINDOW_DAYS;
  const window = { from: new Date(now.getTime() - windowDays * 86_400_000), to: now };
  const facts = await computeFacts(db, {
    window,
    now,
    freshSeconds: Math.max(env.MUSE_HEARTS_MAX_LAG_SECONDS, env.MUSE_PACKS_MAX_LAG_SECONDS),
    changes: changeConfig(env),
    impact: { periodHours: env.MUSE_IMPACT_HOURS, lagMinutes: env.MUSE_IMPACT_LAG_MINUTES, minHours: 6, alpha: env.MUSE_IMPACT_ALPHA, confidence: 0.95 },
    correlationMinDays: env.MUSE_CORRELATION_MIN_DAYS,
    previous: await previousEpisode(db),
    nonCodeGlobs: env.MUSE_NON_CODE_GLOBS,
    bisection:
      env.MUSE_BISECT_RUNS_PER_DAY > 0
        ? {
            runsPerDay: env.MUSE_BISECT_RUNS_PER_DAY,
            options: { ...DEFAULT_BISECTION_OPTIONS, zDecide: env.MUSE_BISECT_Z, maxRunsPerCommit: env.MUSE_BISECT_MAX_RUNS },
          }
        : undefined,
    runId: options.dryRun ? undefined : runId,
  });
  const threshold = env.MUSE_PUBLISH_THRESHOLD;
  const series = chooseSeries(facts);
  emitOpenRegressions(metrics, facts.open_regressions.length);
  context.progress(`facts computed: ${series}, confidence ${facts.confidence.value} (limited by ${facts.confidence.limiting})`, {
    correlation: facts.correlation,
    facts: facts.facts.length,
  });

  // Write.
  const llm = hooks.llm === null ? undefined : (hooks.llm ?? llmFromEnv(env));
  const titleRules = { maxLength: env.MUSE_TITLE_MAX_LENGTH };
  const links = { hearts: repoName(env.BANTERHEARTS_REPO), packs: repoName(env.BANTERPACKS_REPO) };
  /** Compose the draft (links, notice), render its references and run the residual check. */
  const render = (d: EpisodeDraft) => {
    const template = composeEpisode(d, facts, { runId, publishThreshold: threshold });
    const rendered = renderAndCheck(template, facts, {
      lang: "en",
      links,
      runId,
      siteUrl: env.MUSE_SITE_URL,
      strongCorrelation: env.MUSE_CHIMERA_MIN_CORRELATION,
    });
    const problems = [...rendered.problems];
    if (rendered.content.title.length > titleRules.maxLength)
      problems.push(`title: the rendered title has ${rendered.content.title.length} characters; at most ${titleRules.maxLength} are allowed`);
    return { template, rendered, problems };
  };
  let draft: EpisodeDraft | undefined;
  let problems: string[] = [];
  let events: LlmEventRow[] = [];
  if (llm) {
    const written = await writeWithLlm(facts, llm, {
      series,
      titleRules,
      runId,
      timeoutMs: env.MUSE_LLM_TIMEOUT_MS,
      now: () => deps.clock.now(),
      check: (d) => render(d).problems,
    });
    events = written.events;
    // Every call is recorded, whatever became of the draft.
    if (events.length > 0) await db.insert("llm_events", events);
    emitLlmMetrics(metrics, "council", events);
    if (written.status === "failed") {
      throw written.transient ? new TransientError(written.error) : new Error(written.error);
    }
    draft = written.draft;
    if (written.status === "rejected") problems = written.problems;
  } else {
    draft = writeOffline(facts, { series, titleRules, strongCorrelation: env.MUSE_CHIMERA_MIN_CORRELATION });
  }

  // Compose, render and check the whole against the truth rule.
  const composed = draft ? render(draft) : undefined;
  const content: EpisodeContent | undefined = composed?.rendered.content;
  const template: EpisodeContent | undefined = composed?.template;
  if (composed && problems.length === 0) problems = composed.problems;
  const status: EpisodeStatus = problems.length > 0 || !content ? "rejected" : facts.confidence.value >= threshold ? "publishable" : "draft";

  const episode = status === "publishable" && !options.dryRun ? await claimEpisodeNumber(db, series, runId, hooks.numbering) : 0;
  const filePath = episode > 0 ? episodeFilePath(series, episode) : "";
  const writer = writerInfoOf(llm, events);
  const claims = composed ? claimsOf(composed.rendered.references, facts.facts) : [];
  let markdown = "";
  if (content) {
    try {
      const frontMatter = buildFrontMatter(facts, { title: content.title || "(untitled)", summary: content.summary }, claims, {
        series,
        episode,
        lang: "en",
        date: now,
        runId,
        writer,
      });
      markdown = renderEpisode(frontMatter, content.sections);
    } catch (error) {
      // Only a rejected draft can be malformed enough not to render; its problems say why.
      if (status !== "rejected") throw error;
    }
  }

  const tokensTotal = events.reduce((n, e) => n + e.tokens_in + e.tokens_out, 0);
  const costTotal = Math.round(events.reduce((n, e) => n + (e.cost_usd ?? 0), 0) * 1e6) / 1e6;
  const row: EpisodeRow = episodeRow.parse({
    ts: now.toISOString(),
    updated_at: now.toISOString(),
    run_id: runId,
    series,
    episode_num: episode,
    lang: "en",
    title: content?.title ?? "",
    summary: content?.summary ?? "",
    confidence_score: facts.confidence.value,
    correlation_strength: facts.correlation,
    tokens_total: tokensTotal,
    cost_total: costTotal,
    status,
    file_path: filePath,
    commit_sha: "",
    markdown,
    facts: JSON.stringify(facts),
    claims: JSON.stringify(claims),
    problems,
    writer: JSON.stringify(writer),
    translation_of: "",
    template: template ? JSON.stringify(template) : "",
  });
  if (!options.dryRun) await insertEpisodes(db, [row]);
  // GitHub issues, Slack, Datadog events about the stored events (docs/reach.md): failures are logged and counted.
  if (!options.dryRun && reachConfigured(env)) await tellEvents(deps, facts, { now, lookbackDays: env.MUSE_CHANGE_LOOKBACK_DAYS, series, episode, status });

  if (!options.dryRun) metrics.count("muse.council.episodes", 1, { series, status });
  metrics.gauge("muse.council.confidence", facts.confidence.value, { series });
  if (facts.correlation !== null) metrics.gauge("muse.council.correlation", facts.correlation, { series });
  context.progress(`episode ${status}`, { series, episode, problems: problems.length });

  return {
    status: "ok",
    summary: {
      watcher_run_id: gate.watcher.run_id,
      window_from: facts.window.from,
      window_to: facts.window.to,
      series,
      status,
      episode,
      file_path: filePath,
      confidence: facts.confidence.value,
      correlation: facts.correlation,
      writer: writer.kind,
      claims: claims.length,
      problems,
      tokens: tokensTotal,
      cost_usd: costTotal,
      dry_run: options.dryRun,
    },
  };
}

/** The events of the lookback, as stored, to the channels of lib/reach with what this run's facts add (users, episode). */
async function tellEvents(
  deps: AgentDeps,
  facts: Facts,
  run: { now: Date; lookbackDays: number; series: Series; episode: number; status: EpisodeStatus },
): Promise<void> {
  try {
    const events = await loadEvents(deps.db, new Date(run.now.getTime() - (run.lookbackDays + 30) * 86_400_000));
    const episodeUrl =
      run.status === "publishable" && run.episode > 0 ? absoluteUrl(deps.env.MUSE_SITE_URL, paths.episode("en", run.series, run.episode)) : undefined;
    const extras = new Map<string, EventExtras>(
      facts.events.filter((e) => e.event_id).map((e) => [e.event_id, { users: e.users, ...(episodeUrl ? { episodeUrl } : {}) }]),
    );
    await reachOut({ db: deps.db, env: deps.env, log: deps.log, metrics: deps.metrics, now: run.now }, events, extras);
  } catch (error) {
    deps.metrics.count("muse.reach.failures", 1, { channel: "council" });
    deps.log.warn("reach: could not load the events to tell", { error: messageOf(error) });
  }
}

export function createCouncilAgent(hooks: CouncilHooks = {}): AgentDefinition<typeof councilOptions, CouncilSummary> {
  return {
    name: "council",
    description: "gated by the watcher: computes the window's facts, writes an episode (LLM or offline), enforces the truth rule, numbers publishable drafts",
    options: councilOptions,
    run: (options, deps, context) => council(options, deps, context, hooks),
  };
}

export const councilAgent = createCouncilAgent();
