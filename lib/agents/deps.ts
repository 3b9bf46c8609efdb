import { appLogger } from "../app-logger";
import { getDb } from "../clickhouse";
import { loadEnv, type Env } from "../env";
import type { Logger } from "../log";
import { metricsFromEnv } from "../metrics";
import { createUpstreamRepos } from "../upstream";
import { systemClock, type AgentDeps } from "./types";

/** Production dependencies, from the environment. */
export function createAgentDeps(env: Env = loadEnv(), log: Logger = appLogger(env)): AgentDeps {
  return {
    db: getDb(),
    upstream: createUpstreamRepos(env),
    clock: systemClock,
    metrics: metricsFromEnv(env, log),
    log,
    env,
  };
}
