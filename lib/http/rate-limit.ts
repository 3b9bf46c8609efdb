import "server-only";
import { createHash } from "node:crypto";
import { checkRateLimit } from "@vercel/firewall";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Env } from "../env";
import { jsonError } from "./responses";

/**
 * Rate limits of the ingest and API routes (docs/security.md "Rate limits"): per token and per client address on
 * ingest, per client address on the API. Pages are static and come from the CDN; they are not limited here.
 *
 * - **firewall** (Vercel): the Vercel Firewall holds the counters, one for every instance of the deployment —
 *   @vercel/firewall asks it about rules `muse-ingest-token`, `muse-ingest-address` and `muse-api-address`, defined in
 *   the project's firewall (their limits and window live there; the docs give the settings). A per-instance counter on
 *   serverless would be a different limit on every instance, so Muse never keeps one there.
 * - **memory** (one server: `next start`, the demo): rate-limiter-flexible's in-process counters, with
 *   MUSE_RATE_LIMIT_INGEST_PER_MINUTE and MUSE_RATE_LIMIT_API_PER_MINUTE — a real limit, because there is one process.
 * - **off**.
 *
 * Either way a limited request gets 429 with Retry-After and a message naming which limit it hit. A rate-limit check
 * that fails (the firewall unreachable) lets the request through and is logged: a limit is protection, never an outage.
 */

export type RateLimitRule = "muse-ingest-token" | "muse-ingest-address" | "muse-api-address";
export type Decision = { limited: false } | { limited: true; retryAfterSeconds: number };

export interface RateLimiter {
  readonly kind: "firewall" | "memory" | "off";
  check(rule: RateLimitRule, key: string, request: Request): Promise<Decision>;
}

/** The window of every rule (seconds): the firewall rules are documented with the same one. */
export const RATE_LIMIT_WINDOW_SECONDS = 60;

type LimitEnv = Pick<Env, "MUSE_RATE_LIMIT" | "MUSE_RATE_LIMIT_INGEST_PER_MINUTE" | "MUSE_RATE_LIMIT_API_PER_MINUTE" | "MUSE_FIREWALL_HOST">;

export function memoryLimiter(env: Pick<LimitEnv, "MUSE_RATE_LIMIT_INGEST_PER_MINUTE" | "MUSE_RATE_LIMIT_API_PER_MINUTE">): RateLimiter {
  const per = (points: number) => new RateLimiterMemory({ points, duration: RATE_LIMIT_WINDOW_SECONDS });
  const limiters: Record<RateLimitRule, RateLimiterMemory> = {
    "muse-ingest-token": per(env.MUSE_RATE_LIMIT_INGEST_PER_MINUTE),
    "muse-ingest-address": per(env.MUSE_RATE_LIMIT_INGEST_PER_MINUTE),
    "muse-api-address": per(env.MUSE_RATE_LIMIT_API_PER_MINUTE),
  };
  return {
    kind: "memory",
    async check(rule, key) {
      try {
        await limiters[rule].consume(key);
        return { limited: false };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        throw rejection;
      }
    },
  };
}

export function firewallLimiter(env: Pick<LimitEnv, "MUSE_FIREWALL_HOST">): RateLimiter {
  return {
    kind: "firewall",
    async check(rule, key, request) {
      const { rateLimited, error } = await checkRateLimit(rule, {
        request,
        rateLimitKey: key,
        ...(env.MUSE_FIREWALL_HOST ? { firewallHostForDevelopment: env.MUSE_FIREWALL_HOST } : {}),
      });
      // "not-found": the rule is not defined in the project's firewall — no limit, as the docs say to define it.
      return rateLimited && error !== "not-found" ? { limited: true, retryAfterSeconds: RATE_LIMIT_WINDOW_SECONDS } : { limited: false };
    },
  };
}

const off: RateLimiter = { kind: "off", check: async () => ({ limited: false }) };

let processLimiter: { settings: string; limiter: RateLimiter } | undefined;

/** The limiter the environment asks for; memory counters are the process's own, kept across requests. */
export function rateLimiterFromEnv(env: LimitEnv, platform: { vercel: boolean } = { vercel: Boolean(process.env.VERCEL) }): RateLimiter {
  const mode = env.MUSE_RATE_LIMIT === "auto" ? (platform.vercel ? "firewall" : "memory") : env.MUSE_RATE_LIMIT;
  if (mode === "off") return off;
  if (mode === "firewall") return firewallLimiter(env);
  const settings = `${env.MUSE_RATE_LIMIT_INGEST_PER_MINUTE}/${env.MUSE_RATE_LIMIT_API_PER_MINUTE}`;
  if (processLimiter?.settings !== settings) processLimiter = { settings, limiter: memoryLimiter(env) };
  return processLimiter.limiter;
}

/** The client's address as the platform reports it (x-real-ip, else the first x-forwarded-for); "unknown" without. */
export function clientAddress(request: Request): string {
  const real = request.headers.get("x-real-ip")?.trim();
  if (real) return real;
  const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || "unknown";
}

/** A token as a rate-limit key: a digest, so the secret itself never leaves the process. */
export const tokenKey = (token: string) => `token-${createHash("sha256").update(token, "utf8").digest("hex").slice(0, 24)}`;

const RULE_TEXT: Record<RateLimitRule, string> = {
  "muse-ingest-token": "this token's ingest requests",
  "muse-ingest-address": "ingest requests from this address",
  "muse-api-address": "API requests from this address",
};

/**
 * 429 when the request is over `rule`'s limit for `key`, else undefined. A failing check (the firewall unreachable)
 * lets the request through; `onError` hears about it.
 */
export async function limited(
  limiter: RateLimiter,
  rule: RateLimitRule,
  key: string,
  request: Request,
  onError?: (error: unknown) => void,
): Promise<Response | undefined> {
  let decision: Decision;
  try {
    decision = await limiter.check(rule, key, request);
  } catch (error) {
    onError?.(error);
    return undefined;
  }
  if (!decision.limited) return undefined;
  return jsonError(
    429,
    `rate limit reached for ${RULE_TEXT[rule]} (${rule}); retry after ${decision.retryAfterSeconds} s`,
    {},
    { "Retry-After": String(decision.retryAfterSeconds) },
  );
}

/**
 * The API routes' guard: 429 when the client's address is over `muse-api-address`, else undefined. The limiter is the
 * environment's (memory counters are the process's own).
 */
export async function limitApi(request: Request, env: LimitEnv, limiter = rateLimiterFromEnv(env)): Promise<Response | undefined> {
  return limited(limiter, "muse-api-address", clientAddress(request), request);
}
