import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ClickHouseError } from "@clickhouse/client-web";
import type { Db } from "../clickhouse/client";
import { agentRunRow, type AgentRunRow } from "../clickhouse/tables";
import { acquireAgentLock, releaseAgentLock } from "./lock";
import type { AgentName } from "./names";
import type { AgentDefinition, AgentDeps, AgentResult, Trigger } from "./types";
import { TransientError } from "./types";
import { UpstreamError } from "../upstream/types";
import { SpanStatusCode } from "@opentelemetry/api";
import { inSpan } from "../telemetry";
import { retry } from "../retry";
import { firstLineOf } from "../error-message";

/**
 * The one runner every trigger shares (Vercel Cron, maintainers' API, CLI):
 * validates options, takes the agent's lease (refusing an overlapping run),
 * records the run in `agent_runs`, retries transient failures with backoff,
 * and emits the per-agent metrics. Authentication is the route's job.
 * Each run is one trace span, `agent <name>` (lib/telemetry.ts: exported only
 * when a collector is configured), with the LLM calls' spans under it.
 */

export const runRecord = z.object({
  run_id: z.string(),
  agent: z.string(),
  trigger: z.enum(["cron", "api", "cli"]),
  /** "running" only appears in listings of runs still in progress (or crashed). */
  status: z.enum(["running", "ok", "skipped", "blocked", "error"]),
  started_at: z.string(),
  duration_ms: z.number(),
  attempts: z.number(),
  summary: z.record(z.string(), z.unknown()),
  reason: z.string().optional(),
  error: z.string().optional(),
});
export type RunRecord = z.infer<typeof runRecord>;

export class OptionsError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`invalid options: ${problems.map((p) => `${p.path || "(options)"}: ${p.message}`).join("; ")}`);
    this.name = "OptionsError";
  }
}

export class AgentBusyError extends Error {
  constructor(
    readonly agent: string,
    readonly holderRunId: string,
    readonly holderSince: string,
  ) {
    super(`${agent} is already running (run ${holderRunId}, since ${holderSince})`);
    this.name = "AgentBusyError";
  }
}

export interface RunOptions {
  trigger: Trigger;
  /** Raw options (from a request body or the CLI), validated by the agent's schema. */
  options?: unknown;
  /** Attempts for transient failures (first try included). */
  attempts?: number;
  /** Backoff base in ms between attempts. */
  retryDelayMs?: number;
  onProgress?: (message: string, fields?: Record<string, unknown>) => void;
  runId?: string;
}

/** Network trouble, 5xx-like ClickHouse answers and explicit TransientErrors are retried. */
export function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  if (error instanceof UpstreamError) return error.transient;
  if (error instanceof ClickHouseError) {
    // TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES, NETWORK_ERROR, SOCKET_TIMEOUT, TABLE_IS_READ_ONLY (Cloud failover)
    return ["159", "202", "210", "209", "242", "252"].includes(error.code);
  }
  if (error instanceof Error) {
    return /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|Timeout error|network/i.test(
      `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}`,
    );
  }
  return false;
}

function errorMessage(error: unknown): string {
  return firstLineOf(error).slice(0, 2_000);
}

async function writeRun(db: Db, row: AgentRunRow): Promise<void> {
  await db.insert("agent_runs", [agentRunRow.parse(row)]);
}

export async function runAgent<S extends Record<string, unknown>>(
  agent: AgentDefinition<z.ZodType, S>,
  deps: AgentDeps,
  runOptions: RunOptions,
): Promise<RunRecord> {
  const runId = runOptions.runId ?? randomUUID();
  return inSpan(`agent ${agent.name}`, { "muse.agent": agent.name, "muse.run_id": runId, "muse.trigger": runOptions.trigger }, async (span) => {
    const record = await runTraced(agent, deps, { ...runOptions, runId });
    span.setAttributes({ "muse.status": record.status, "muse.attempts": record.attempts, "muse.duration_ms": record.duration_ms });
    if (record.status === "error") span.setStatus({ code: SpanStatusCode.ERROR, message: record.error ?? "error" });
    return record;
  });
}

async function runTraced<S extends Record<string, unknown>>(
  agent: AgentDefinition<z.ZodType, S>,
  deps: AgentDeps,
  runOptions: RunOptions & { runId: string },
): Promise<RunRecord> {
  const parsed = agent.options.safeParse(runOptions.options ?? {});
  if (!parsed.success) {
    throw new OptionsError(parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
  }
  const { runId, trigger } = runOptions;
  const log = deps.log.child({ agent: agent.name, run_id: runId, trigger });
  const lock = await acquireAgentLock(deps.db, agent.name, runId, deps.env.MUSE_LOCK_TTL_SECONDS);
  if (!lock.acquired) {
    deps.metrics.count(`muse.${agent.name}.lock_conflicts` as const, 1, { trigger });
    log.warn("run refused: another run holds the lock", { holder_run_id: lock.holderRunId });
    throw new AgentBusyError(agent.name, lock.holderRunId, lock.holderSince);
  }

  const startedAt = deps.clock.now();
  const startedMs = performance.now();
  const base: AgentRunRow = {
    run_id: runId,
    agent: agent.name,
    trigger,
    status: "running",
    started_at: startedAt.toISOString(),
    finished_at: null,
    duration_ms: 0,
    attempts: 1,
    error: "",
    summary: "{}",
    options: JSON.stringify(parsed.data ?? {}),
    updated_at: startedAt.toISOString(),
  };
  let attempts = 0;
  let result: AgentResult<S> | undefined;
  let failure: unknown;
  try {
    await writeRun(deps.db, base);
    log.info("run started", { options: parsed.data });
    const context = {
      runId,
      trigger,
      progress: (message: string, fields?: Record<string, unknown>) => {
        log.info(message, fields);
        runOptions.onProgress?.(message, fields);
      },
    };
    result = await retry(
      async () => {
        attempts += 1;
        return agent.run(parsed.data, deps, context);
      },
      {
        isRetryable: isTransient,
        retries: Math.max(0, (runOptions.attempts ?? 3) - 1),
        minTimeoutMs: runOptions.retryDelayMs ?? 500,
        factor: 2,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) {
            deps.metrics.count(`muse.${agent.name}.retries` as const);
            log.warn("transient failure, retrying", { attempt: attemptNumber, error: errorMessage(error) });
          }
        },
      },
    );
  } catch (error) {
    failure = error;
  }

  const durationMs = Math.round(performance.now() - startedMs);
  const finishedAt = deps.clock.now().toISOString();
  const status = result ? result.status : "error";
  const record: RunRecord = {
    run_id: runId,
    agent: agent.name,
    trigger,
    status,
    started_at: base.started_at,
    duration_ms: durationMs,
    attempts: Math.max(1, attempts),
    summary: result?.summary ?? {},
    ...(result?.reason ? { reason: result.reason } : {}),
    ...(failure ? { error: errorMessage(failure) } : {}),
  };
  deps.metrics.count(`muse.${agent.name}.runs` as const, 1, { status, trigger });
  deps.metrics.gauge(`muse.${agent.name}.duration_ms` as const, durationMs, { status, trigger });
  try {
    await writeRun(deps.db, {
      ...base,
      status,
      finished_at: finishedAt,
      duration_ms: durationMs,
      attempts: record.attempts,
      error: record.error ?? record.reason ?? "",
      summary: JSON.stringify(record.summary),
      updated_at: finishedAt,
    });
  } catch (error) {
    log.error("could not record the end of the run", { error: errorMessage(error) });
  } finally {
    await releaseAgentLock(deps.db, agent.name, runId).catch((error: unknown) =>
      log.warn("could not release the lock (it will expire)", { error: errorMessage(error) }),
    );
  }
  if (failure) log.error("run failed", { error: record.error, duration_ms: durationMs, attempts: record.attempts });
  else log.info("run finished", { status, duration_ms: durationMs, summary: record.summary });
  return record;
}

const listedRun = agentRunRow.extend({ summary: z.string() });

export async function listRuns(db: Db, options: { agent?: AgentName; limit: number }): Promise<RunRecord[]> {
  const rows = await db.query(
    `SELECT toString(run_id) AS run_id, agent, trigger, status, started_at, finished_at, duration_ms, attempts, error, summary, options, updated_at
       FROM agent_runs FINAL
      WHERE {agent:String} = '' OR agent = {agent:String}
      ORDER BY started_at DESC
      LIMIT {limit:UInt32}`,
    { agent: options.agent ?? "", limit: options.limit },
    listedRun,
  );
  return rows.map((r) => ({
    run_id: r.run_id,
    agent: r.agent,
    trigger: r.trigger,
    status: r.status,
    started_at: r.started_at,
    duration_ms: r.duration_ms,
    attempts: r.attempts,
    summary: safeJson(r.summary),
    ...(r.error ? { error: r.error } : {}),
  }));
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
