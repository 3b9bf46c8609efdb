import { loadEnv, secretNames, type Env } from "./env";
import { createLogger, type Logger } from "./log";

/**
 * The application's logger, configured from the environment: MUSE_LOG_LEVEL,
 * the service name, and every secret value of the environment redacted. Used
 * by the agents (lib/agents/deps.ts), the HTTP handlers and the CLI. (lib/log.ts
 * stays free of the environment: it is the logger itself.)
 */

/** The secret values of the environment, for log redaction. */
export function secretValues(env: Env): string[] {
  return secretNames()
    .map((name) => env[name])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
}

export function appLogger(env: Env = loadEnv(), fields: Record<string, unknown> = {}): Logger {
  return createLogger({ level: env.MUSE_LOG_LEVEL, secrets: secretValues(env), fields: { service: env.DD_SERVICE, ...fields } });
}
