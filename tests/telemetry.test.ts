import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { LanguageModelV3GenerateResult } from "@ai-sdk/provider";
import { MockLanguageModelV3 } from "ai/test";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "../lib/agents/runner";
import type { AgentDefinition } from "../lib/agents/types";
import { structuredCall } from "../lib/llm/structured-call";
import { flushTelemetry, registerTelemetry, telemetryConfigured } from "../lib/telemetry";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, testDeps } from "./helpers/deps";

/**
 * Tracing of agent runs and LLM calls: nothing is registered or sent without
 * OTEL_EXPORTER_OTLP_ENDPOINT; with it, a local OTLP/HTTP server receives a
 * run's span and the AI SDK's spans of its LLM call (mock model) under it.
 */

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let endpoint: string;
const received: Received[] = [];
let t: TestDatabase;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  t = await createTestDatabase();
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await t.drop();
});

const ANSWER = { headline: "Latency fell", points: 3 };

function mockModel(): MockLanguageModelV3 {
  const result: LanguageModelV3GenerateResult = {
    content: [{ type: "text", text: JSON.stringify(ANSWER) }],
    finishReason: { unified: "stop", raw: "stop" },
    usage: {
      inputTokens: { total: 120, noCache: 120, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: 30, text: 30, reasoning: undefined },
    },
    warnings: [],
  };
  return new MockLanguageModelV3({ provider: "mock", modelId: "mock-writer", doGenerate: async () => result });
}

/** An agent (under a real name, through the real runner) whose run makes one structured LLM call. */
const writingAgent: AgentDefinition<z.ZodObject<Record<string, never>>, Record<string, unknown>> = {
  name: "council",
  description: "test: one LLM call",
  options: z.object({}).strict(),
  async run(_options, _deps, context) {
    const outcome = await structuredCall({
      llm: { model: mockModel(), modelId: "mock-writer", provider: "mock" },
      system: "Write the SECRET-PROMPT episode.",
      messages: [{ role: "user", content: "facts" }],
      schema: z.object({ headline: z.string(), points: z.number() }),
      name: "draft",
      description: "an episode draft",
      eventId: "0b7c9a4e-7b2d-5e8f-9a6c-1d4b7e0f2a93",
      runId: context.runId,
      source: "council",
      operation: "council.write",
      timeoutMs: 10_000,
    });
    return { status: "ok", summary: { kind: outcome.kind } };
  },
};

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
};
type OtlpBody = {
  resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
};
const attr = (attributes: { key: string; value: OtlpValue }[], key: string) => {
  const v = attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : (v?.boolValue ?? v?.doubleValue));
};

describe("tracing", () => {
  it("without OTEL_EXPORTER_OTLP_ENDPOINT nothing is registered and a run sends nothing", async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    expect(telemetryConfigured()).toBe(false);
    expect(await registerTelemetry()).toBe(false);
    const record = await runAgent(writingAgent, testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z") }), { trigger: "cli" });
    expect(record).toMatchObject({ status: "ok", summary: { kind: "output" } });
    await flushTelemetry();
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toEqual([]);
  });

  it("with it, the collector receives OTLP/HTTP: the run's span and the LLM call's spans under it", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    process.env.OTEL_EXPORTER_OTLP_HEADERS = "x-collector-key=test-key";
    expect(await registerTelemetry()).toBe(true);

    const record = await runAgent(writingAgent, testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z") }), {
      trigger: "cron",
      runId: "4e1f3c2a-1b2c-4d3e-8f4a-5b6c7d8e9f00",
    });
    expect(record.status).toBe("ok");
    await flushTelemetry();

    const posts = received.filter((r) => r.url === "/v1/traces");
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.method).toBe("POST");
      expect(post.headers["content-type"]).toMatch(/^application\/json/);
      expect(post.headers["x-collector-key"]).toBe("test-key");
    }
    const bodies = posts.map((p) => JSON.parse(p.body) as OtlpBody);
    const resource = bodies[0].resourceSpans[0].resource.attributes;
    expect(attr(resource, "service.name")).toBe("muse");
    const spans = bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    for (const s of spans) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)).toBe(true);
    }

    const run = spans.find((s) => s.name === "agent council" && attr(s.attributes, "muse.run_id") === "4e1f3c2a-1b2c-4d3e-8f4a-5b6c7d8e9f00");
    expect(run).toBeDefined();
    expect([
      attr(run!.attributes, "muse.agent"),
      attr(run!.attributes, "muse.trigger"),
      attr(run!.attributes, "muse.status"),
      attr(run!.attributes, "muse.attempts"),
    ]).toEqual(["council", "cron", "ok", 1]);
    expect(run!.parentSpanId ?? "").toBe("");

    const call = spans.find((s) => s.name === "ai.generateText" && s.traceId === run!.traceId);
    expect(call).toBeDefined();
    expect(call!.parentSpanId).toBe(run!.spanId);
    expect(attr(call!.attributes, "ai.telemetry.functionId")).toBe("muse.council.write");
    expect(attr(call!.attributes, "ai.telemetry.metadata.run_id")).toBe("4e1f3c2a-1b2c-4d3e-8f4a-5b6c7d8e9f00");
    expect(attr(call!.attributes, "ai.model.id")).toBe("mock-writer");

    const generate = spans.find((s) => s.name === "ai.generateText.doGenerate" && s.parentSpanId === call!.spanId);
    expect(generate).toBeDefined();
    expect([
      attr(generate!.attributes, "ai.usage.inputTokens") ?? attr(generate!.attributes, "gen_ai.usage.input_tokens"),
      attr(generate!.attributes, "ai.usage.outputTokens") ?? attr(generate!.attributes, "gen_ai.usage.output_tokens"),
    ]).toEqual([120, 30]);

    // Neither the prompt nor the answer leaves the process.
    const all = posts.map((p) => p.body).join("\n");
    expect(all).not.toContain("SECRET-PROMPT");
    expect(all).not.toContain("Latency fell");
  });
});
