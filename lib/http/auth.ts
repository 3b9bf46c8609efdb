import { createHash, timingSafeEqual } from "node:crypto";
import { loadEnv, type EnvName } from "../env";
import { jsonError } from "./responses";

/**
 * Bearer-token guards (docs/security.md): a route whose token variable is
 * not configured, or configured shorter than MIN_TOKEN_LENGTH, refuses with
 * 503 naming it (never open by default, never guessable); a missing
 * or wrong token gets 401 with `WWW-Authenticate: Bearer`. Comparison is
 * constant-time (both sides hashed to equal length first).
 */

export type TokenVariable = Extract<
  EnvName,
  "CRON_SECRET" | "MUSE_ADMIN_TOKEN" | "MUSE_INGEST_TOKEN" | "MUSE_INGEST_TOKEN_BANTERHEARTS" | "MUSE_INGEST_TOKEN_BANTERPACKS" | "MUSE_RUNNER_TOKEN"
>;

/** Shortest token or webhook secret a route accepts being configured with. */
export const MIN_TOKEN_LENGTH = 16;

/** The 503 of a token variable that is unset or too short, or undefined when it is usable. */
export function unusableToken(variable: string, value: string | undefined): Response | undefined {
  if (!value) return jsonError(503, `${variable} is not configured on this deployment, so this route is closed`);
  if (value.length < MIN_TOKEN_LENGTH) return jsonError(503, `${variable} is shorter than ${MIN_TOKEN_LENGTH} characters, so this route is closed`);
  return undefined;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1].trim() : undefined;
}

/** Undefined when the request may proceed; otherwise the response to send. */
export function requireToken(request: Request, variable: TokenVariable, env = loadEnv()): Response | undefined {
  return requireAnyToken(request, [variable], env).denied;
}

/**
 * A route several tokens open (an upstream's own, and the shared one): the request may proceed when its bearer token
 * equals any usable one (each compared in constant time, all of them compared). Closed (503, naming them all) when
 * none is usable. Returns which variable matched.
 */
export function requireAnyToken(
  request: Request,
  variables: readonly TokenVariable[],
  env = loadEnv(),
): { denied: Response; variable?: undefined } | { denied?: undefined; variable: TokenVariable } {
  const usable = variables.filter((v) => !unusableToken(v, env[v]));
  if (usable.length === 0) {
    // One variable: its own reason (unset, or too short); several: all of them named.
    if (variables.length === 1) return { denied: unusableToken(variables[0], env[variables[0]])! };
    return { denied: jsonError(503, `${variables.join(" or ")} are not configured on this deployment, so this route is closed`) };
  }
  const given = bearerToken(request);
  if (!given) {
    return { denied: jsonError(401, "missing bearer token in the Authorization header", {}, { "WWW-Authenticate": 'Bearer realm="muse"' }) };
  }
  let matched: TokenVariable | undefined;
  for (const v of usable) if (constantTimeEqual(given, env[v]!) && !matched) matched = v;
  if (!matched) {
    return {
      denied: jsonError(401, "invalid bearer token in the Authorization header", {}, { "WWW-Authenticate": 'Bearer realm="muse", error="invalid_token"' }),
    };
  }
  return { variable: matched };
}
