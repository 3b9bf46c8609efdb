import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDlq } from "../lib/dlq";
import { parseEnv } from "../lib/env";
import { memoryLogger } from "../lib/log";
import { createMetrics, metricsFromEnv, postSeries, PROCESS_INSTANCE, type SeriesPoint } from "../lib/metrics";

/**
 * The metrics sender against a local server that checks what Datadog's v2
 * series intake checks: POST /api/v2/series, the DD-API-KEY header, a JSON
 * body {series:[{metric, type (1 count, 3 gauge), points:[{timestamp, value}], tags}]}.
 */

const KEY = "dd-api-key-metrics-test-42";

interface Received {
  method: string;
  path: string;
  apiKey: string | undefined;
  contentType: string | undefined;
  body: { series: SeriesPoint[] };
}

let server: Server;
let url: string;
let received: Received[];
let problems: string[];
/** Status codes to answer, in order; then 202. */
let script: number[];

function checkBody(body: unknown): string[] {
  const out: string[] = [];
  const series = (body as { series?: unknown })?.series;
  if (!Array.isArray(series) || series.length === 0) return ["body.series must be a non-empty array"];
  for (const [i, s] of series.entries()) {
    if (typeof s.metric !== "string" || !/^[a-z][a-z0-9_.]*$/.test(s.metric)) out.push(`series[${i}].metric`);
    if (s.type !== 1 && s.type !== 3) out.push(`series[${i}].type must be 1 (count) or 3 (gauge)`);
    if (!Array.isArray(s.points) || s.points.length === 0) out.push(`series[${i}].points`);
    for (const p of s.points ?? []) {
      if (!Number.isInteger(p.timestamp) || p.timestamp < 1_000_000_000 || p.timestamp > 10_000_000_000)
        out.push(`series[${i}].points.timestamp must be epoch seconds`);
      if (typeof p.value !== "number") out.push(`series[${i}].points.value`);
    }
    if (!Array.isArray(s.tags) || s.tags.some((t: unknown) => typeof t !== "string" || !/^[^:]+:.+$/.test(t as string)))
      out.push(`series[${i}].tags must be key:value strings`);
    if (s.type === 1 && !Number.isInteger(s.interval)) out.push(`series[${i}].interval is required for counts`);
  }
  return out;
}

beforeEach(async () => {
  received = [];
  problems = [];
  script = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        problems.push("body is not JSON");
      }
      const r: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        apiKey: req.headers["dd-api-key"] as string | undefined,
        contentType: req.headers["content-type"],
        body: body as Received["body"],
      };
      received.push(r);
      if (r.method !== "POST" || r.path !== "/api/v2/series") problems.push(`${r.method} ${r.path}`);
      if (r.contentType !== "application/json") problems.push(`Content-Type ${r.contentType}`);
      if (r.apiKey !== KEY) {
        res.writeHead(403, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ errors: ["Forbidden"] }));
        return;
      }
      problems.push(...checkBody(body));
      const status = script.shift() ?? 202;
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(status === 202 ? { errors: [] } : { errors: ["Internal Server Error"] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const T0 = Date.UTC(2026, 4, 1, 12, 0, 3); // 3 s into a 10 s bucket

function metrics(overrides: Partial<Parameters<typeof createMetrics>[0]> = {}) {
  const log = memoryLogger();
  let now = T0;
  const m = createMetrics({ apiKey: KEY, apiUrl: url, baseTags: ["service:muse", "env:test"], log, clock: () => now, retryDelayMs: 5, ...overrides });
  return { m, log, advance: (ms: number) => (now += ms) };
}

describe("createMetrics → POST /api/v2/series", () => {
  it("sends the v2 series shape with the API key, counts as type 1 and gauges as type 3", async () => {
    const { m } = metrics();
    m.count("muse.watch.runs", 1, { status: "ok", trigger: "cron" });
    m.gauge("muse.watch.lag_seconds", 1234.5, { source: "banterhearts" });
    await m.flush();
    expect(problems).toEqual([]);
    expect(received).toHaveLength(1);
    const bucket = Math.floor(T0 / 1000 / 10) * 10;
    expect(received[0].body.series).toEqual([
      {
        metric: "muse.watch.runs",
        type: 1,
        interval: 10,
        points: [{ timestamp: bucket, value: 1 }],
        tags: ["service:muse", "env:test", "status:ok", "trigger:cron"],
      },
      {
        metric: "muse.watch.lag_seconds",
        type: 3,
        unit: "second",
        points: [{ timestamp: bucket, value: 1234.5 }],
        tags: ["service:muse", "env:test", "source:banterhearts"],
      },
    ]);
  });

  it("adds up counts within a bucket, per tag set; a gauge keeps its latest value; a new bucket is a new point", async () => {
    const { m, advance } = metrics();
    m.count("muse.ingest.events_accepted", 3);
    m.count("muse.ingest.events_accepted", 4);
    m.count("muse.ingest.requests", 1, { route: "events", status: 202 });
    m.count("muse.ingest.requests", 1, { status: 202, route: "events" });
    m.count("muse.ingest.requests", 1, { route: "events", status: 503 });
    m.gauge("muse.dlq.depth", 5);
    m.gauge("muse.dlq.depth", 2);
    advance(10_000);
    m.count("muse.ingest.events_accepted", 1);
    await m.flush();
    expect(problems).toEqual([]);
    const points = received[0].body.series.map((s) => [s.metric, s.tags.slice(2).join(","), s.points[0].value]);
    expect(points).toEqual([
      ["muse.ingest.events_accepted", "", 7],
      ["muse.ingest.requests", "route:events,status:202", 2],
      ["muse.ingest.requests", "route:events,status:503", 1],
      ["muse.dlq.depth", "", 2],
      ["muse.ingest.events_accepted", "", 1],
    ]);
    // Flushed means gone: a second flush sends nothing.
    await m.flush();
    expect(received).toHaveLength(1);
  });

  it("sends at most 500 series per request", async () => {
    const { m, advance } = metrics();
    for (let i = 0; i < 501; i++) {
      m.gauge("muse.dlq.depth", i);
      advance(10_000);
    }
    await m.flush();
    expect(received.map((r) => r.body.series.length)).toEqual([500, 1]);
  });

  it("retries a 5xx and then succeeds", async () => {
    script = [500, 503];
    const { m, log } = metrics();
    m.count("muse.publish.failures");
    await m.flush();
    expect(received).toHaveLength(3);
    expect(received.map((r) => r.body)).toEqual([received[0].body, received[0].body, received[0].body]);
    expect(log.lines.filter((l) => l.includes("not delivered"))).toEqual([]);
  });

  it("does not retry a 403 (a bad key), nor queue it, and never throws", async () => {
    const spooled: SeriesPoint[][] = [];
    const { m, log } = metrics({ apiKey: "wrong-key", spool: async (series) => void spooled.push(series) });
    m.count("muse.publish.failures");
    await expect(m.flush()).resolves.toBeUndefined();
    expect(received).toHaveLength(1);
    expect(spooled).toEqual([]);
    const warning = JSON.parse(log.lines.find((l) => l.includes("not delivered"))!);
    expect(warning).toMatchObject({ level: "warn", error: expect.stringContaining("403") });
    expect(JSON.stringify(log.lines)).not.toContain("wrong-key");
  });

  it("queues what Datadog did not take after the retries (an outage, not a refusal)", async () => {
    script = [500, 500, 500];
    const spooled: SeriesPoint[][] = [];
    const { m } = metrics({ spool: async (series) => void spooled.push(series) });
    m.gauge("muse.dlq.depth", 1);
    await m.flush();
    expect(received).toHaveLength(3);
    expect(spooled).toEqual([received[0].body.series]);
  });

  it("without a key, metrics go to the log and nothing is sent", async () => {
    const { m, log } = metrics({ apiKey: undefined });
    m.count("muse.collect.commits", 2, { repo: "banterpacks" });
    await m.flush();
    expect(received).toEqual([]);
    const line = JSON.parse(log.lines.at(-1)!);
    expect(line).toMatchObject({
      level: "info",
      msg: "metrics",
      sink: "log",
      series: [{ metric: "muse.collect.commits", value: 2, tags: ["service:muse", "env:test", "repo:banterpacks"] }],
    });
  });

  it("refuses a name or a tag lib/metrics/names.ts does not declare", () => {
    const { m } = metrics();
    expect(() => m.count("muse.nope" as never)).toThrow(/unknown metric muse.nope/);
    expect(() => m.count("muse.publish.failures", 1, { series: "chimera" })).toThrow(/muse.publish.failures has no tag "series"/);
  });
});

describe("metricsFromEnv", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "muse-metrics-dlq-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("tags service and env, and queues undelivered series in MUSE_DLQ_DIR; postSeries replays them", async () => {
    script = [503, 503, 503];
    const env = parseEnv({ DD_API_KEY: KEY, DD_API_URL: url, DD_SERVICE: "muse-x", DD_ENV: "staging", MUSE_DLQ_DIR: dir });
    const m = metricsFromEnv(env, memoryLogger());
    m.count("muse.watch.status", 1, { status: "valid" });
    await m.flush();
    const dlq = createDlq({ dir });
    const { entries } = await dlq.list();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: "datadog.series", source: "metrics", last_error: expect.stringContaining("503") });
    if (entries[0].kind !== "datadog.series") throw new Error("expected series");
    // instance: one series per process, so concurrent instances never overwrite each other's counts (tests/metrics-instances.test.ts).
    expect(entries[0].payload.series[0].tags).toEqual(["service:muse-x", "env:staging", `instance:${PROCESS_INSTANCE}`, "status:valid"]);

    const result = await dlq.replay({ "datadog.series": (p) => postSeries({ apiKey: KEY, apiUrl: url, retryDelayMs: 5 }, p.series) });
    expect(result).toMatchObject({ replayed: [entries[0].id], failed: [], depth: 0 });
    // The replay sends the same points, with their original timestamps.
    expect(received.at(-1)!.body.series).toEqual(entries[0].payload.series);
    expect(problems).toEqual([]);
  });
});
