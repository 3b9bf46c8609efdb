import http from "node:http";
import type { AddressInfo } from "node:net";
import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseEnv } from "../lib/env";
import { benchEventRow, type BenchEventRow } from "../lib/lifecycle/events";
import { memoryLogger } from "../lib/log";
import type { Metrics } from "../lib/metrics";
import { reachOut } from "../lib/reach";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * Slack (incoming webhook, Block Kit) and Datadog events (POST /api/v1/events) about benchmark events, against a
 * local server; the payloads are checked against the documented shapes
 * (https://api.slack.com/reference/block-kit/blocks#section, https://docs.datadoghq.com/api/latest/events/#post-an-event).
 * Only changes are sent; without configuration nothing is sent and nothing fails.
 */

/** Slack: `text` is the notification fallback; section blocks carry a text object of type mrkdwn, at most 3000 characters; at most 50 blocks. */
const slackPayload = z.strictObject({
  text: z.string().min(1),
  blocks: z
    .array(z.strictObject({ type: z.literal("section"), text: z.strictObject({ type: z.literal("mrkdwn"), text: z.string().min(1).max(3000) }) }))
    .min(1)
    .max(50),
});
/** Datadog v1 event: title ≤ 100 characters, text ≤ 4000, tags `key:value`, alert_type of the documented enum, aggregation_key ≤ 100. */
const datadogPayload = z.strictObject({
  title: z.string().min(1).max(100),
  text: z.string().min(1).max(4000),
  tags: z.array(z.string().regex(/^[a-z][a-z0-9_.:/-]*$/)),
  alert_type: z.enum(["error", "warning", "info", "success", "user_update", "recommendation", "snapshot"]),
  aggregation_key: z.string().min(1).max(100),
  date_happened: z.number().int(),
  priority: z.enum(["normal", "low"]),
});

const NS = "8e2c5b1a-4d3f-4a6b-9c8d-7e6f5a4b3c2d";
const id = (name: string) => uuidv5(name, NS);
const sha = (c: string) => c.repeat(40);
const T0 = new Date("2026-11-20T10:00:00.000Z");

const event = (name: string, overrides: Partial<BenchEventRow> = {}): BenchEventRow =>
  benchEventRow.parse({
    event_id: id(name),
    first_detected_at: "2026-11-19T12:00:00.000Z",
    updated_at: "2026-11-19T12:00:00.000Z",
    run_id: id("run"),
    kind: "regression",
    state: "open",
    range_from_sha: sha("0"),
    range_to_sha: sha("4"),
    range_method: "graph",
    code_commits: [sha("1"), sha("2"), sha("3"), sha("4")],
    commit_ts: "2026-11-18T09:00:00.000Z",
    blamed_sha: "",
    bisection_status: "bisecting",
    bisection_steps: 0,
    bisection_steps_left: 2,
    bisection_extra_runs: 0,
    bisection_note: "",
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "q4_k_m",
    variant: "q4_k_m",
    dataset: "wikitext-2",
    device: "cuda",
    metric: "latency_p95_ms",
    label: "quantization llama-3.1-8b q4_k_m (wikitext-2, cuda) <&>",
    change_pct: 18.3,
    ci_low_pct: 12.25,
    ci_high_pct: 24.5,
    q_value: 0.0003,
    mean_before: 186,
    mean_after: 220,
    stdev_before: 4,
    stdev_after: 5,
    n_before: 9,
    n_after: 12,
    series_changed: 3,
    fixed_by_event_id: "",
    fixed_by_sha: "",
    recovered_pct: null,
    recovered_ci_low: null,
    recovered_ci_high: null,
    returns_of: "",
    ...overrides,
  });

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

let t: TestDatabase;
let server: http.Server;
let base = "";
const received: Received[] = [];
const counted: { name: string; value: number; tags?: Record<string, unknown> }[] = [];
const metrics: Metrics = {
  count: (name, value = 1, tags) => void counted.push({ name, value, tags }),
  gauge: () => {},
  flush: async () => {},
};

beforeAll(async () => {
  t = await createTestDatabase();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      if (req.url === "/slack") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok");
      } else {
        res.writeHead(202, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "ok", event: { id: received.length } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.drop();
});

const configured = () =>
  parseEnv({
    MUSE_SLACK_WEBHOOK_URL: `${base}/slack`,
    DD_API_KEY: "dd-test-key-0123456789",
    DD_API_URL: base,
    DD_SERVICE: "muse",
    DD_ENV: "test",
    BANTERHEARTS_REPO: "banter/banterhearts",
    MUSE_SITE_URL: "https://muse.example.org",
  });
const deps = (env = configured(), hours = 0) => ({
  db: t.db,
  env,
  log: memoryLogger(),
  metrics,
  now: new Date(T0.getTime() + hours * 3_600_000),
  issues: null,
});

describe("Slack and Datadog events", () => {
  const found = event("found");
  const improvement = event("improvement", { kind: "improvement", state: "kept", change_pct: -9, ci_low_pct: -12, ci_high_pct: -6 });

  it("without configuration: nothing is sent and nothing fails", async () => {
    const summary = await reachOut(deps(parseEnv({}), 0), [found, improvement]);
    expect(summary).toEqual({ issues: null, slack: null, datadog: null, failures: 0 });
    expect(received).toEqual([]);
  });

  it("a new regression: one Slack message (Block Kit sections of mrkdwn) and one Datadog event per event", async () => {
    const summary = await reachOut(deps(), [found, improvement]);
    expect(summary).toMatchObject({ slack: 1, datadog: 2, failures: 0 });
    const slack = received.filter((r) => r.path === "/slack");
    expect(slack).toHaveLength(1);
    expect(slack[0].headers["content-type"]).toBe("application/json");
    const message = slackPayload.parse(slack[0].body);
    expect(message.blocks[0].text.text).toContain("*Regression found*");
    expect(message.blocks[0].text.text).toContain("bisecting: step 1 of at most 2");
    // Slack's escapes: & < > in text.
    expect(message.blocks[0].text.text).toContain("(wikitext-2, cuda) &lt;&amp;&gt;");
    expect(message.blocks[1].text.text).toContain(`<https://muse.example.org/api/events/${found.event_id}/chart.svg|chart>`);

    const dd = received.filter((r) => r.path === "/api/v1/events");
    expect(dd).toHaveLength(2);
    for (const r of dd) {
      expect(r.headers["dd-api-key"]).toBe("dd-test-key-0123456789");
      expect(r.headers["content-type"]).toBe("application/json");
      datadogPayload.parse(r.body);
    }
    const regression = datadogPayload.parse(dd.find((r) => (r.body as { aggregation_key: string }).aggregation_key === found.event_id)!.body);
    expect(regression.alert_type).toBe("error");
    expect(regression.tags).toEqual(expect.arrayContaining(["service:muse", "env:test", `muse_event:${found.event_id}`, "kind:regression", "state:open"]));
    expect(regression.text.startsWith("%%%\n")).toBe(true);
    expect(regression.date_happened).toBe(T0.getTime() / 1000);
    expect(datadogPayload.parse(dd.find((r) => (r.body as { aggregation_key: string }).aggregation_key === improvement.event_id)!.body).alert_type).toBe(
      "success",
    );
    expect(counted.filter((c) => c.name === "muse.reach.sent").map((c) => c.tags?.channel)).toEqual(["slack", "datadog", "datadog"]);
  });

  it("the same states again: nothing is sent", async () => {
    const before = received.length;
    expect(await reachOut(deps(configured(), 1), [found, improvement])).toMatchObject({ slack: 0, datadog: 0, failures: 0 });
    expect(received.length).toBe(before);
  });

  it("narrowed by bisection, then fixed: a Slack message and a Datadog event each time", async () => {
    let before = received.length;
    const narrowed = { ...found, blamed_sha: sha("2"), bisection_status: "bisected" as const, bisection_steps: 2, bisection_steps_left: 0 };
    await reachOut(deps(configured(), 2), [narrowed, improvement]);
    let sent = received.slice(before);
    expect(sent.map((r) => r.path).sort()).toEqual(["/api/v1/events", "/slack"]);
    expect(slackPayload.parse(sent.find((r) => r.path === "/slack")!.body).blocks[0].text.text).toContain("*Regression narrowed*");

    before = received.length;
    const fixed = { ...narrowed, state: "fixed" as const, fixed_by_sha: sha("9"), recovered_pct: 98.5, recovered_ci_low: 90, recovered_ci_high: 107 };
    await reachOut(deps(configured(), 3), [fixed, improvement]);
    sent = received.slice(before);
    const slack = slackPayload.parse(sent.find((r) => r.path === "/slack")!.body);
    expect(slack.blocks[0].text.text).toContain("*Regression fixed*");
    expect(slack.blocks[0].text.text).toContain("98.5 % recovered");
    const dd = datadogPayload.parse(sent.find((r) => r.path === "/api/v1/events")!.body);
    expect(dd.alert_type).toBe("success");
    expect(dd.tags).toContain("state:fixed");
  });

  it("a channel that fails is logged and counted, never thrown", async () => {
    const env = parseEnv({ MUSE_SLACK_WEBHOOK_URL: `${base.replace(/:\d+$/, ":1")}/slack`, MUSE_SITE_URL: "https://muse.example.org" });
    const log = memoryLogger();
    const summary = await reachOut({ ...deps(env, 4), log }, [event("unreachable")]);
    expect(log.lines.join("\n")).toContain("reach: slack failed");
    expect(summary.failures).toBe(1);
    expect(counted.at(-1)).toMatchObject({ name: "muse.reach.failures", tags: { channel: "slack" } });
  });
});
