import { createServer, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as changesRoute } from "../app/api/changes/route";
import { parseEnv } from "../lib/env";
import { requireAnyToken } from "../lib/http/auth";
import { benchIngest } from "../lib/http/ingest-bench";
import { eventsIngest } from "../lib/http/ingest-events";
import { handleIngest } from "../lib/http/ingest-route";
import { firewallLimiter, memoryLimiter, type RateLimiter } from "../lib/http/rate-limit";
import { memoryLogger } from "../lib/log";
import { serverContext } from "../lib/server-context";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * Rate limits (lib/http/rate-limit.ts): 429 with Retry-After past the limit, per client address and per token, in one
 * process (memory) and across two instances sharing the Vercel Firewall's counters (a local double of its rate-limit
 * API, reached by @vercel/firewall's own request); and a token per upstream beside the shared one.
 */

const HEARTS = "banterhearts-token-0123456789";
const PACKS = "banterpacks-token-0123456789";
const SHARED = "shared-ingest-token-0123456789";
const tokens = { MUSE_INGEST_TOKEN_BANTERHEARTS: HEARTS, MUSE_INGEST_TOKEN_BANTERPACKS: PACKS, MUSE_INGEST_TOKEN: SHARED };

const ingestRequest = (path: string, token: string, address: string) =>
  new Request(`https://muse.example${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-real-ip": address },
    body: "{}",
  });
const context = (vars: Record<string, string>) => () => serverContext({ env: parseEnv(vars), log: memoryLogger(), fields: {} });

describe("a token per upstream", () => {
  it("opens an upstream's own route with its token or the shared one, never the other upstream's", () => {
    const env = parseEnv(tokens);
    const bench = benchIngest.tokens;
    const events = eventsIngest.tokens;
    expect(requireAnyToken(ingestRequest("/api/ingest/bench", HEARTS, "1.1.1.1"), bench, env).variable).toBe("MUSE_INGEST_TOKEN_BANTERHEARTS");
    expect(requireAnyToken(ingestRequest("/api/ingest/bench", SHARED, "1.1.1.1"), bench, env).variable).toBe("MUSE_INGEST_TOKEN");
    expect(requireAnyToken(ingestRequest("/api/ingest/bench", PACKS, "1.1.1.1"), bench, env).denied?.status).toBe(401);
    expect(requireAnyToken(ingestRequest("/api/ingest/events", PACKS, "1.1.1.1"), events, env).variable).toBe("MUSE_INGEST_TOKEN_BANTERPACKS");
    expect(requireAnyToken(ingestRequest("/api/ingest/events", HEARTS, "1.1.1.1"), events, env).denied?.status).toBe(401);
    // The single token keeps working alone.
    expect(requireAnyToken(ingestRequest("/api/ingest/events", SHARED, "1.1.1.1"), events, parseEnv({ MUSE_INGEST_TOKEN: SHARED })).variable).toBe(
      "MUSE_INGEST_TOKEN",
    );
  });

  it("is closed, naming every token that would open it, when none is configured", async () => {
    const { denied } = requireAnyToken(ingestRequest("/api/ingest/bench", HEARTS, "1.1.1.1"), benchIngest.tokens, parseEnv({}));
    expect(denied?.status).toBe(503);
    expect(((await denied!.json()) as { error: string }).error).toMatch(/MUSE_INGEST_TOKEN_BANTERHEARTS or MUSE_INGEST_TOKEN are not configured/);
  });
});

describe("one process (memory)", () => {
  it("answers 429 with Retry-After past the per-address limit, and names it", async () => {
    const limiter = memoryLimiter({ MUSE_RATE_LIMIT_INGEST_PER_MINUTE: 3, MUSE_RATE_LIMIT_API_PER_MINUTE: 3 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      // A wrong token: refused (401) but counted against the address, so guessing is limited too.
      last = await handleIngest(ingestRequest("/api/ingest/bench", "wrong-token-0123456789", "203.0.113.7"), benchIngest, context(tokens), limiter);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(last!.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(((await last!.json()) as { error: string }).error).toMatch(/ingest requests from this address \(muse-ingest-address\)/);
    // Another address is not held back.
    expect(
      (await handleIngest(ingestRequest("/api/ingest/bench", "wrong-token-0123456789", "203.0.113.8"), benchIngest, context(tokens), limiter)).status,
    ).toBe(401);
  });

  it("limits a token across addresses (per token), Banterhearts' apart from Banterpacks'", async () => {
    const limiter = memoryLimiter({ MUSE_RATE_LIMIT_INGEST_PER_MINUTE: 2, MUSE_RATE_LIMIT_API_PER_MINUTE: 2 });
    const send = (path: string, token: string, address: string) =>
      path.endsWith("bench")
        ? handleIngest(ingestRequest(path, token, address), benchIngest, context(tokens), limiter)
        : handleIngest(ingestRequest(path, token, address), eventsIngest, context(tokens), limiter);
    // Two addresses, one token: the third request is over the token's limit (each address has made at most two).
    expect((await send("/api/ingest/bench", HEARTS, "198.51.100.1")).status).not.toBe(429);
    expect((await send("/api/ingest/bench", HEARTS, "198.51.100.2")).status).not.toBe(429);
    const third = await send("/api/ingest/bench", HEARTS, "198.51.100.3");
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: string }).error).toMatch(/this token's ingest requests \(muse-ingest-token\)/);
    // Banterpacks' token has its own.
    expect((await send("/api/ingest/events", PACKS, "198.51.100.4")).status).not.toBe(429);
  });
});

/** A stand-in for the Vercel Firewall's rate-limit API: one counter per rule and key, shared by every instance. */
class FakeFirewall {
  server!: Server;
  url = "";
  counts = new Map<string, number>();
  problems: string[] = [];
  constructor(readonly limit: number) {}
  async start() {
    this.server = createServer((req, res) => {
      const rule = /^\/\.well-known\/vercel\/rate-limit-api\/([\w-]+)$/.exec(req.url ?? "")?.[1];
      const key = String(req.headers["x-vercel-rate-limit-key"] ?? "");
      if (req.method !== "GET" || !rule) this.problems.push(`unexpected ${req.method} ${req.url}`);
      if (req.headers["x-vercel-rate-limit-api"] !== rule) this.problems.push(`x-vercel-rate-limit-api ${req.headers["x-vercel-rate-limit-api"]}`);
      if (!/^.+-[0-9a-f]{64}$/.test(key)) this.problems.push(`x-vercel-rate-limit-key ${key}`);
      if (!["muse-ingest-token", "muse-ingest-address", "muse-api-address"].includes(rule ?? "")) {
        res.writeHead(404).end();
        return;
      }
      const n = (this.counts.get(`${rule}:${key}`) ?? 0) + 1;
      this.counts.set(`${rule}:${key}`, n);
      res.writeHead(n > this.limit ? 429 : 204).end();
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  stop() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("across instances (Vercel Firewall)", () => {
  const firewall = new FakeFirewall(2);
  const realFetch = globalThis.fetch;
  beforeAll(async () => {
    await firewall.start();
    // @vercel/firewall asks https://<host>/.well-known/vercel/rate-limit-api/<rule>: sent to the double instead.
    vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      return realFetch(url.startsWith("https://firewall.muse.example/") ? url.replace("https://firewall.muse.example", firewall.url) : input, init);
    });
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await firewall.stop();
  });

  it("holds one limit for two instances: the third request, on either, is 429 with Retry-After", async () => {
    const instances: RateLimiter[] = [
      firewallLimiter({ MUSE_FIREWALL_HOST: "firewall.muse.example" }),
      firewallLimiter({ MUSE_FIREWALL_HOST: "firewall.muse.example" }),
    ];
    const statuses: number[] = [];
    for (const i of [0, 1, 0, 1]) {
      const res = await handleIngest(ingestRequest("/api/ingest/events", "wrong-token-0123456789", "192.0.2.9"), eventsIngest, context(tokens), instances[i]);
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get("retry-after")).toBe("60");
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(firewall.problems).toEqual([]);
    // The key sent is the address (hashed by the library), never a token.
    expect([...firewall.counts.keys()].every((k) => k.startsWith("muse-ingest-address:192.0.2.9-"))).toBe(true);
  });
});

describe("the API routes", () => {
  const saved = saveEnv(["MUSE_RATE_LIMIT", "MUSE_RATE_LIMIT_API_PER_MINUTE"]);
  afterEach(async () => setEnv(saved));

  it("answer 429 with Retry-After past the per-address limit (GET /api/changes)", async () => {
    await setEnv({ MUSE_RATE_LIMIT: "memory", MUSE_RATE_LIMIT_API_PER_MINUTE: "2" });
    const get = () => changesRoute(new Request("https://muse.example/api/changes", { headers: { "x-real-ip": "192.0.2.77" } }));
    expect((await get()).status).not.toBe(429);
    expect((await get()).status).not.toBe(429);
    const third = await get();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await third.json()) as { error: string }).error).toMatch(/API requests from this address/);
  });
});
