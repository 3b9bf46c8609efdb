import type { z } from "zod";
import type { Db } from "../clickhouse/client";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import type { Clock } from "../server-context";
import type { UpstreamRepos } from "../upstream/types";
import type { AgentName } from "./names";

export { systemClock, type Clock } from "../server-context";

/** Everything an agent may touch, injected so tests can substitute any part. */
export interface AgentDeps {
  db: Db;
  upstream: UpstreamRepos;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  env: Env;
}

export type Trigger = "cron" | "api" | "cli";

/** What the runner gives an agent besides its dependencies. */
export interface RunContext {
  runId: string;
  trigger: Trigger;
  /** Reports progress of long work (CLI prints it; routes log it). */
  progress(message: string, fields?: Record<string, unknown>): void;
}

export type AgentStatus = "ok" | "skipped" | "blocked";

/** An agent's answer: its status and a typed summary for the run record. */
export interface AgentResult<S extends Record<string, unknown> = Record<string, unknown>> {
  status: AgentStatus;
  summary: S;
  /** Why a run was skipped or blocked. */
  reason?: string;
}

export interface AgentDefinition<O extends z.ZodType = z.ZodType, S extends Record<string, unknown> = Record<string, unknown>> {
  name: AgentName;
  description: string;
  /** Options accepted from the CLI and POST /api/agents/{agent}. */
  options: O;
  run(options: z.output<O>, deps: AgentDeps, context: RunContext): Promise<AgentResult<S>>;
}

/** A failure worth retrying (network, 5xx, timeouts); anything else fails the run at once. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransientError";
  }
}
