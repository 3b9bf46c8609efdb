import { getDb } from "../clickhouse";
import { loadEnv, secretNames, type Env } from "../env";
import { createLogger, type Logger } from "../log";
import { metricsFromEnv } from "../metrics";
import { createUpstreamRepos } from "../upstream";
import { systemClock, type AgentDeps } from "./types";

/** The secret values of the environment, for log redaction. */
export function secretValues(env: Env): string[] {
  return secretNames()
    .map((name) => env[name])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
}

export function appLogger(env: Env = loadEnv(), fields: Record<string, unknown> = {}): Logger {
  return createLogger({ level: env.MUSE_LOG_LEVEL, secrets: secretValues(env), fields: { service: env.DD_SERVICE, ...fields } });
}

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
