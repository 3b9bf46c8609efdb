import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  DatadogApiError,
  MissingDatadogKeysError,
  SiteUrlError,
  applyDatadog,
  datadogClient,
  datadogClientFromEnv,
  differences,
  loadDefinitions,
  type Definitions,
  type PlanItem,
} from "../lib/datadog/apply";
import { MANAGED_TAG, dashboardDefinition, monitorDefinition, museIdOf, sloRequest } from "../lib/datadog/schemas";
import { siteUrlProblem } from "../lib/datadog/synthetics";
import { parseEnv, resetEnvCache } from "../lib/env";
import { datadogApiUrl } from "../lib/metrics";
import { runCliCaptured as cli } from "./helpers/cli";

/**
 * `muse datadog apply` against a local server that answers like Datadog's v1
 * dashboards, monitors, SLO and Synthetics APIs, and refuses what Datadog would
 * refuse: a missing or wrong DD-API-KEY / DD-APPLICATION-KEY (403), a body
 * that is not valid per the schemas (400), an SLO or widget naming a monitor or
 * SLO that does not exist (400), an unknown path or method (404/405). Like
 * Datadog, it gives every synthetic test a monitor of its own ("synthetics
 * alert") carrying the test's tags.
 */

const API_KEY = "dd-api-key-for-tests-0001";
const APP_KEY = "dd-app-key-for-tests-0002";
/** The site the synthetic tests request. */
const SITE = "https://muse.example.com";

/**
 * A Synthetic API test as Datadog's API documents it (SyntheticsAPITest), written here rather than taken from
 * lib/datadog/schemas.ts so the double does not accept whatever Muse sends: name, type, config (request and
 * assertions), locations, message and options are required; the URL is absolute; the top level takes only the
 * API's fields, so a Muse-only field or an unfilled placeholder would be refused.
 */
const apiTestRequest = z
  .object({
    name: z.string().min(1),
    type: z.literal("api"),
    subtype: z.enum(["http", "ssl", "tcp", "dns", "multi", "icmp", "udp", "websocket", "grpc"]),
    config: z.looseObject({
      request: z.looseObject({
        method: z.enum(["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]),
        url: z.url({ protocol: /^https?$/ }),
        timeout: z.number().positive().optional(),
      }),
      assertions: z
        .array(
          z.looseObject({
            type: z.enum(["body", "header", "statusCode", "certificate", "responseTime", "property", "recordEvery", "recordSome", "tlsVersion"]),
            operator: z.enum([
              "contains",
              "doesNotContain",
              "is",
              "isNot",
              "lessThan",
              "lessThanOrEqual",
              "moreThan",
              "moreThanOrEqual",
              "matches",
              "doesNotMatch",
            ]),
            target: z.union([z.string(), z.number()]),
          }),
        )
        .min(1),
    }),
    locations: z.array(z.string().regex(/^[a-z]+:[\w-]+$/)).min(1),
    message: z.string().refine((m) => !m.includes("%%"), "an unfilled placeholder"),
    options: z.looseObject({
      tick_every: z.number().int().min(30).max(604_800),
      min_location_failed: z.number().int().min(1).optional(),
      min_failure_duration: z.number().int().min(0).optional(),
      follow_redirects: z.boolean().optional(),
      retry: z.looseObject({ count: z.number().int().min(0), interval: z.number().min(0) }).optional(),
      monitor_priority: z.number().int().min(1).max(5).optional(),
      monitor_options: z.looseObject({ renotify_interval: z.number().int().min(0).optional() }).optional(),
    }),
    tags: z.array(z.string()).optional(),
    status: z.enum(["live", "paused"]).optional(),
  })
  .strict();

interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

type Json = Record<string, unknown>;

class FakeDatadog {
  server!: Server;
  url = "";
  requests: Recorded[] = [];
  /** Shape problems the server saw; every test expects none. */
  problems: string[] = [];
  dashboards = new Map<string, Json>();
  monitors = new Map<number, Json>();
  slos = new Map<string, Json>();
  /** By public_id. */
  synthetics = new Map<string, Json>();
  private nextMonitorId = 1000;

  async start() {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  mutating() {
    return this.requests.filter((r) => r.method !== "GET");
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? "/", this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const record: Recorded = { method, path: url.pathname, query: Object.fromEntries(url.searchParams) };
    this.requests.push(record);

    if (req.headers["dd-api-key"] !== API_KEY || req.headers["dd-application-key"] !== APP_KEY) {
      return { status: 403, body: { errors: ["Forbidden"] } };
    }
    let body: unknown;
    if (method === "POST" || method === "PUT") {
      if (!String(req.headers["content-type"]).startsWith("application/json"))
        this.problems.push(`${method} ${url.pathname}: Content-Type ${req.headers["content-type"]}`);
      try {
        body = JSON.parse(text);
      } catch {
        this.problems.push(`${method} ${url.pathname}: body is not JSON`);
        return { status: 400, body: { errors: ["Invalid JSON"] } };
      }
      record.body = body;
    } else if (text) {
      this.problems.push(`${method} ${url.pathname}: a GET with a body`);
    }
    const valid = (schema: z.ZodType) => {
      const r = schema.safeParse(body);
      if (!r.success) this.problems.push(`${method} ${url.pathname}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      return r.success;
    };
    const bad = { status: 400, body: { errors: ["Bad Request"] } };
    // Datadog refuses references to objects that do not exist.
    const sloWidgetsExist = () => {
      const ids = JSON.stringify(body).match(/"slo_id":"[^"]*"/g) ?? [];
      const missing = ids.map((m) => m.slice('"slo_id":"'.length, -1)).filter((id) => !this.slos.has(id));
      if (missing.length) this.problems.push(`${method} ${url.pathname}: no SLO ${missing.join(", ")}`);
      return missing.length === 0;
    };
    const monitorsExist = () => {
      const ids = ((body as Json).monitor_ids as number[] | undefined) ?? [];
      const missing = ids.filter((id) => !this.monitors.has(id));
      if (missing.length) this.problems.push(`${method} ${url.pathname}: no monitor ${missing.join(", ")}`);
      return missing.length === 0;
    };
    const notFound = { status: 404, body: { errors: ["Not found"] } };
    const p = url.pathname;
    let m: RegExpMatchArray | null;

    // Dashboards
    if (p === "/api/v1/dashboard" && method === "GET") {
      const start = Number(url.searchParams.get("start") ?? 0);
      const count = Number(url.searchParams.get("count") ?? 100);
      const all = [...this.dashboards.values()].map((d) => ({ id: d.id, title: d.title, url: d.url, layout_type: d.layout_type }));
      return { status: 200, body: { dashboards: all.slice(start, start + count) } };
    }
    if (p === "/api/v1/dashboard" && method === "POST") {
      if (!valid(dashboardDefinition) || !sloWidgetsExist()) return bad;
      const id = `${randomBytes(2).toString("hex").slice(0, 3)}-${randomBytes(2).toString("hex").slice(0, 3)}-${randomBytes(2).toString("hex").slice(0, 3)}`;
      const stored = this.stamp({ ...(body as Json), id, url: `/dashboard/${id}`, author_handle: "test@example.com", created_at: new Date().toISOString() });
      this.dashboards.set(id, stored);
      return { status: 200, body: stored };
    }
    if ((m = p.match(/^\/api\/v1\/dashboard\/([\w-]+)$/))) {
      const current = this.dashboards.get(m[1]);
      if (!current) return notFound;
      if (method === "GET") return { status: 200, body: current };
      if (method !== "PUT") return { status: 405, body: { errors: ["Method not allowed"] } };
      if (!valid(dashboardDefinition) || !sloWidgetsExist()) return bad;
      const stored = this.stamp({
        ...(body as Json),
        id: current.id,
        url: current.url,
        author_handle: current.author_handle,
        created_at: current.created_at,
        modified_at: new Date().toISOString(),
      });
      this.dashboards.set(m[1], stored);
      return { status: 200, body: stored };
    }

    // Monitors
    if (p === "/api/v1/monitor" && method === "GET") {
      const wanted = (url.searchParams.get("monitor_tags") ?? "").split(",").filter(Boolean);
      const page = Number(url.searchParams.get("page") ?? 0);
      const size = Number(url.searchParams.get("page_size") ?? 100);
      const all = [...this.monitors.values()].filter((mon) => wanted.every((t) => (mon.tags as string[]).includes(t)));
      return { status: 200, body: all.slice(page * size, page * size + size) };
    }
    if (p === "/api/v1/monitor" && method === "POST") {
      if (!valid(monitorDefinition)) return bad;
      const id = this.nextMonitorId++;
      const stored = this.monitorAsStored(body as Json, id);
      this.monitors.set(id, stored);
      return { status: 200, body: stored };
    }
    if ((m = p.match(/^\/api\/v1\/monitor\/(\d+)$/))) {
      const id = Number(m[1]);
      if (!this.monitors.has(id)) return notFound;
      if (method === "GET") return { status: 200, body: this.monitors.get(id) };
      if (method !== "PUT") return { status: 405, body: { errors: ["Method not allowed"] } };
      if (!valid(monitorDefinition)) return bad;
      const stored = this.monitorAsStored(body as Json, id);
      this.monitors.set(id, stored);
      return { status: 200, body: stored };
    }

    // SLOs
    if (p === "/api/v1/slo" && method === "GET") {
      const tag = url.searchParams.get("tags_query");
      const offset = Number(url.searchParams.get("offset") ?? 0);
      const limit = Number(url.searchParams.get("limit") ?? 1000);
      const all = [...this.slos.values()].filter((s) => !tag || (s.tags as string[]).includes(tag));
      return { status: 200, body: { data: all.slice(offset, offset + limit), errors: null } };
    }
    if (p === "/api/v1/slo" && method === "POST") {
      if (!valid(sloRequest) || !monitorsExist()) return bad;
      const id = randomBytes(16).toString("hex");
      const stored = this.sloAsStored(body as Json, id);
      this.slos.set(id, stored);
      return { status: 200, body: { data: [stored], errors: null } };
    }
    if ((m = p.match(/^\/api\/v1\/slo\/([0-9a-f]+)$/))) {
      if (!this.slos.has(m[1])) return notFound;
      if (method === "GET") return { status: 200, body: { data: this.slos.get(m[1]), errors: null } };
      if (method !== "PUT") return { status: 405, body: { errors: ["Method not allowed"] } };
      if (!valid(sloRequest) || !monitorsExist()) return bad;
      const stored = this.sloAsStored(body as Json, m[1]);
      this.slos.set(m[1], stored);
      return { status: 200, body: { data: [stored], errors: null } };
    }

    // Synthetic tests
    if (p === "/api/v1/synthetics/tests" && method === "GET") {
      const size = Number(url.searchParams.get("page_size") ?? 100);
      const page = Number(url.searchParams.get("page_number") ?? 0);
      return { status: 200, body: { tests: [...this.synthetics.values()].slice(page * size, page * size + size) } };
    }
    if (p === "/api/v1/synthetics/tests/api" && method === "POST") {
      if (!valid(apiTestRequest)) return bad;
      const publicId = [0, 1, 2].map(() => randomBytes(3).toString("hex").slice(0, 3)).join("-");
      const monitorId = this.nextMonitorId++;
      const stored = this.syntheticAsStored(body as Json, publicId, monitorId);
      this.synthetics.set(publicId, stored);
      this.monitors.set(monitorId, this.syntheticMonitor(stored));
      return { status: 200, body: stored };
    }
    if ((m = p.match(/^\/api\/v1\/synthetics\/tests\/api\/([a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3})$/))) {
      const current = this.synthetics.get(m[1]);
      if (!current) return notFound;
      if (method === "GET") return { status: 200, body: current };
      if (method !== "PUT") return { status: 405, body: { errors: ["Method not allowed"] } };
      if (!valid(apiTestRequest)) return bad;
      const stored = this.syntheticAsStored(body as Json, m[1], current.monitor_id as number);
      this.synthetics.set(m[1], stored);
      this.monitors.set(current.monitor_id as number, this.syntheticMonitor(stored));
      return { status: 200, body: stored };
    }

    this.problems.push(`unexpected ${method} ${p}`);
    return notFound;
  }

  /** Datadog adds its own option defaults, the ids, dates and author; tags come back in its own order. */
  private syntheticAsStored(body: Json, publicId: string, monitorId: number): Json {
    return {
      ...body,
      public_id: publicId,
      monitor_id: monitorId,
      tags: [...((body.tags as string[]) ?? [])].sort(),
      locations: [...(body.locations as string[])].reverse(),
      options: { httpVersion: "any", ...(body.options as Json) },
      created_at: new Date().toISOString(),
      modified_at: new Date().toISOString(),
      creator: { email: "test@example.com" },
    };
  }

  /** The monitor Datadog keeps for a synthetic test: its name, message and tags. */
  private syntheticMonitor(test: Json): Json {
    return {
      id: test.monitor_id,
      name: test.name,
      type: "synthetics alert",
      query: `synthetics("${test.public_id}")`,
      message: test.message,
      tags: test.tags,
      options: {},
    };
  }

  /** Datadog gives every widget an id. */
  private stamp(dashboard: Json): Json {
    const withIds = (widgets: Json[]): Json[] =>
      widgets.map((w) => {
        const def = w.definition as Json;
        return {
          ...w,
          id: Number.parseInt(randomBytes(6).toString("hex"), 16),
          definition: def.type === "group" ? { ...def, widgets: withIds(def.widgets as Json[]) } : def,
        };
      });
    return { ...dashboard, widgets: withIds(dashboard.widgets as Json[]) };
  }

  /** Datadog adds defaults to options, state and dates, and returns tags in its own order. */
  private monitorAsStored(body: Json, id: number): Json {
    const options = body.options as Json;
    return {
      ...body,
      id,
      tags: [...(body.tags as string[])].sort().reverse(),
      options: { notify_audit: false, silenced: {}, new_host_delay: 300, ...options },
      overall_state: "No Data",
      created: new Date().toISOString(),
      modified: new Date().toISOString(),
      creator: { handle: "test@example.com" },
      multi: true,
    };
  }

  private sloAsStored(body: Json, id: string): Json {
    return {
      ...body,
      id,
      tags: [...(body.tags as string[])].sort(),
      monitor_ids: body.monitor_ids ?? [],
      monitor_tags: [],
      created_at: 1_700_000_000,
      modified_at: 1_700_000_100,
      creator: { email: "test@example.com" },
    };
  }
}

let defs: Definitions;
let dd: FakeDatadog;
const client = () => datadogClient({ apiUrl: dd.url, apiKey: API_KEY, appKey: APP_KEY, retryDelayMs: 10 });
const countBy = (plan: PlanItem[]) => {
  const out: Record<string, number> = {};
  for (const p of plan) out[`${p.kind}:${p.action}`] = (out[`${p.kind}:${p.action}`] ?? 0) + 1;
  return out;
};

beforeAll(async () => {
  defs = await loadDefinitions();
});

beforeEach(async () => {
  dd = new FakeDatadog();
  await dd.start();
});

afterEach(async () => {
  expect(dd.problems).toEqual([]);
  await dd.stop();
});

describe("muse datadog apply", () => {
  it("first apply creates the dashboard, every monitor, synthetic test and SLO, with valid bodies and both keys", async () => {
    const plan = await applyDatadog(client(), defs, { siteUrl: SITE });
    expect(countBy(plan)).toEqual({
      "slo:create": defs.slos.length,
      "monitor:create": defs.monitors.length,
      "synthetic:create": defs.synthetics.length,
      "dashboard:create": 1,
    });
    expect(plan.every((p) => p.id)).toBe(true);
    expect(dd.dashboards.size).toBe(1);
    // Each synthetic test comes with its own monitor.
    expect(dd.monitors.size).toBe(defs.monitors.length + defs.synthetics.length);
    expect(dd.synthetics.size).toBe(defs.synthetics.length);
    expect(dd.slos.size).toBe(defs.slos.length);
    const creates = dd.mutating();
    expect(creates.every((r) => r.method === "POST")).toBe(true);
    expect(creates.map((r) => r.path).sort()).toEqual(
      [
        "/api/v1/dashboard",
        ...defs.monitors.map(() => "/api/v1/monitor"),
        ...defs.synthetics.map(() => "/api/v1/synthetics/tests/api"),
        ...defs.slos.map(() => "/api/v1/slo"),
      ].sort(),
    );
    // Monitors and SLOs are found again by their tags, not by name.
    expect(dd.requests.find((r) => r.path === "/api/v1/monitor" && r.method === "GET")?.query).toMatchObject({ monitor_tags: MANAGED_TAG });
    expect(dd.requests.find((r) => r.path === "/api/v1/slo" && r.method === "GET")?.query).toMatchObject({ tags_query: MANAGED_TAG });
  });

  it("a second apply changes nothing", async () => {
    await applyDatadog(client(), defs, { siteUrl: SITE });
    const before = dd.requests.length;
    const keys = () => ({
      monitors: [...dd.monitors.keys()],
      synthetics: [...dd.synthetics.keys()],
      slos: [...dd.slos.keys()],
      dashboards: [...dd.dashboards.keys()],
    });
    const ids = keys();
    const plan = await applyDatadog(client(), defs, { siteUrl: SITE });
    expect(countBy(plan)).toEqual({
      "slo:unchanged": defs.slos.length,
      "monitor:unchanged": defs.monitors.length,
      "synthetic:unchanged": defs.synthetics.length,
      "dashboard:unchanged": 1,
    });
    expect(dd.requests.slice(before).every((r) => r.method === "GET")).toBe(true);
    expect(keys()).toEqual(ids);
  });

  it("an edited definition is updated in place (PUT, same id); the rest is left alone", async () => {
    const first = await applyDatadog(client(), defs, { siteUrl: SITE });
    const edited = structuredClone(defs);
    const monitor = edited.monitors.find((m) => museIdOf(m.tags) === "dlq-depth")!;
    monitor.query = monitor.query.replace(/> 100$/, "> 50");
    monitor.options.thresholds.critical = 50;
    edited.slos[0].thresholds[0].target = 96;
    const group = edited.dashboard.widgets[0].definition;
    if (group.type !== "group" || group.widgets[0].definition.type === "note") throw new Error("the first section starts with a chart");
    group.widgets[0].definition.title = "Watcher success, renamed";
    const before = dd.requests.length;

    const plan = await applyDatadog(client(), edited, { siteUrl: SITE });
    expect(countBy(plan)).toEqual({
      "slo:update": 1,
      "slo:unchanged": defs.slos.length - 1,
      "monitor:update": 1,
      "monitor:unchanged": defs.monitors.length - 1,
      "synthetic:unchanged": defs.synthetics.length,
      "dashboard:update": 1,
    });
    const idOf = (p: PlanItem[], kind: string, key: string) => p.find((i) => i.kind === kind && i.key === key)?.id;
    const updates = dd.requests.slice(before).filter((r) => r.method !== "GET");
    expect(updates.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [
        `PUT /api/v1/monitor/${idOf(first, "monitor", "dlq-depth")}`,
        `PUT /api/v1/slo/${idOf(first, "slo", museIdOf(defs.slos[0].tags)!)}`,
        `PUT /api/v1/dashboard/${idOf(first, "dashboard", defs.dashboard.title)}`,
      ].sort(),
    );
    expect(plan.find((p) => p.kind === "monitor" && p.action === "update")?.changed).toEqual(["query", "options.thresholds.critical"]);
    expect(dd.monitors.size).toBe(defs.monitors.length + defs.synthetics.length);
    expect(dd.monitors.get(Number(idOf(first, "monitor", "dlq-depth")))?.query).toMatch(/> 50$/);
    // ... and applying the edit again changes nothing more.
    const again = await applyDatadog(client(), edited, { siteUrl: SITE });
    expect(again.every((p) => p.action === "unchanged")).toBe(true);
  });

  it("a change made by hand in Datadog is put back", async () => {
    await applyDatadog(client(), defs, { siteUrl: SITE });
    const [id, stored] = [...dd.monitors.entries()].find(([, m]) => m.type === "query alert")!;
    dd.monitors.set(id, { ...stored, message: "edited in the UI" });
    const plan = await applyDatadog(client(), defs, { siteUrl: SITE });
    expect(plan.filter((p) => p.action === "update")).toEqual([expect.objectContaining({ kind: "monitor", id: String(id), changed: ["message"] })]);
  });

  it("--dry-run only reads: the plan, and no mutating request", async () => {
    const plan = await applyDatadog(client(), defs, { dryRun: true, siteUrl: SITE });
    expect(countBy(plan)).toEqual({
      "slo:create": defs.slos.length,
      "monitor:create": defs.monitors.length,
      "synthetic:create": defs.synthetics.length,
      "dashboard:create": 1,
    });
    expect(dd.mutating()).toEqual([]);
    expect(dd.monitors.size + dd.synthetics.size + dd.slos.size + dd.dashboards.size).toBe(0);

    await applyDatadog(client(), defs, { siteUrl: SITE });
    const edited = structuredClone(defs);
    edited.monitors[0].message = `${edited.monitors[0].message} (edited)`;
    const before = dd.requests.length;
    const dry = await applyDatadog(client(), edited, { dryRun: true, siteUrl: SITE });
    expect(dry.filter((p) => p.action === "update").map((p) => p.key)).toEqual([museIdOf(edited.monitors[0].tags)]);
    expect(dd.requests.slice(before).every((r) => r.method === "GET")).toBe(true);
  });

  it("leaves alone what it does not manage, and reports (never deletes) managed objects no longer defined", async () => {
    dd.monitors.set(1, {
      id: 1,
      name: "someone else's monitor",
      type: "query alert",
      query: "avg(last_5m):avg:system.cpu.user{*} > 90",
      tags: ["team:other"],
      options: {},
    });
    dd.monitors.set(2, { id: 2, name: "retired muse monitor", type: "query alert", query: "q", tags: [MANAGED_TAG, "muse-id:retired"], options: {} });
    dd.dashboards.set("aaa-bbb-ccc", { id: "aaa-bbb-ccc", title: "Another dashboard", layout_type: "ordered", widgets: [] });
    const plan = await applyDatadog(client(), defs, { siteUrl: SITE });
    expect(plan.filter((p) => p.action === "orphan")).toEqual([{ kind: "monitor", key: "retired", name: "retired muse monitor", action: "orphan", id: "2" }]);
    expect(dd.monitors.get(1)?.name).toBe("someone else's monitor");
    expect(dd.monitors.has(2)).toBe(true);
    expect(dd.dashboards.get("aaa-bbb-ccc")?.title).toBe("Another dashboard");
    expect(dd.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("refuses to guess when two dashboards carry the title", async () => {
    for (const id of ["aaa-aaa-aaa", "bbb-bbb-bbb"]) dd.dashboards.set(id, { id, title: defs.dashboard.title, layout_type: "ordered", widgets: [] });
    await expect(applyDatadog(client(), defs, { siteUrl: SITE })).rejects.toThrow(/2 dashboards are titled .*aaa-aaa-aaa, bbb-bbb-bbb/);
  });

  it("a wrong key is a 403 error, not retried", async () => {
    const wrong = datadogClient({ apiUrl: dd.url, apiKey: API_KEY, appKey: "not-the-app-key", retryDelayMs: 10 });
    const error = await applyDatadog(wrong, defs, { siteUrl: SITE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatadogApiError);
    expect((error as DatadogApiError).status).toBe(403);
    expect(dd.requests).toHaveLength(1);
  });
});

describe("synthetic tests and the site's SLOs", () => {
  const stored = () => [...dd.synthetics.values()];
  const testOf = (key: string) => stored().find((t) => (t.tags as string[]).includes(`muse-id:${key}`))!;
  const sloOf = (key: string) => [...dd.slos.values()].find((x) => (x.tags as string[]).includes(`muse-id:${key}`))!;

  it("creates each check as Datadog's API takes it: the site's URL before its path, the assertions, locations and options, filled handles", async () => {
    const notified = await loadDefinitions(undefined, { notify: { critical: "@pagerduty-muse" } });
    await applyDatadog(client(), notified, { siteUrl: `${SITE}/` });
    const posts = dd.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/synthetics/tests/api");
    expect(posts.map((r) => (r.body as { config: { request: { url: string } } }).config.request.url)).toEqual([
      `${SITE}/api/health`,
      `${SITE}/en`,
      `${SITE}/en/episodes/chimera/ep-001`,
    ]);
    for (const { body } of posts) {
      const test = body as z.output<typeof apiTestRequest>;
      expect(test).toMatchObject({ type: "api", subtype: "http", status: "live" });
      expect(test.config.request.method).toBe("GET");
      expect(test.config.assertions).toEqual(
        expect.arrayContaining([
          { type: "statusCode", operator: "is", target: 200 },
          { type: "responseTime", operator: "lessThan", target: 1000 },
          expect.objectContaining({ type: "body", operator: "contains" }),
        ]),
      );
      expect(test.locations.length).toBeGreaterThanOrEqual(2);
      expect(test.options.tick_every).toBe(300);
      expect(test.options.min_location_failed).toBeLessThanOrEqual(test.locations.length);
      expect(test.message).toMatch(/Runbook: docs\/runbooks\.md#synthetic-[a-z]+\n\nNotify: @pagerduty-muse$/);
      expect(test.tags).toEqual(expect.arrayContaining([MANAGED_TAG, "service:muse", "severity:critical"]));
    }
  });

  it("the uptime SLO is over the tests' own monitors, the latency SLO a time slice under 1000 ms, and the dashboard shows both", async () => {
    const plan = await applyDatadog(client(), defs, { siteUrl: SITE });
    // The tests' monitors carry the tests' tags (muse-id included) but are no monitors of monitors.json: no orphans.
    expect(plan.filter((p) => p.action === "orphan")).toEqual([]);
    const uptime = sloOf("slo-site-uptime");
    expect(uptime.type).toBe("monitor");
    expect(uptime.monitor_ids).toEqual(["synthetic-health", "synthetic-home", "synthetic-episode"].map((key) => testOf(key).monitor_id));
    expect(uptime.thresholds).toEqual(expect.arrayContaining([expect.objectContaining({ timeframe: "30d", target: 99.9 })]));
    for (const id of uptime.monitor_ids as number[]) expect(dd.monitors.get(id)?.type).toBe("synthetics alert");

    const latency = sloOf("slo-site-latency");
    expect(latency.type).toBe("time_slice");
    expect(latency.query).toBeUndefined();
    const slice = (latency.sli_specification as { time_slice: Json }).time_slice;
    expect(slice).toMatchObject({ comparator: "<", threshold: 1000, query_interval_seconds: 300 });
    expect(slice.query).toEqual({
      formulas: [{ formula: "response_ms" }],
      queries: [{ data_source: "metrics", name: "response_ms", query: expect.stringMatching(/^avg:synthetics\.http\.response\.time\{/) }],
    });

    // The dashboard's SLO widgets carry the SLOs' ids, not their muse-ids.
    const dashboard = JSON.stringify([...dd.dashboards.values()][0]);
    expect(dashboard).toContain(`"slo_id":"${uptime.id}"`);
    expect(dashboard).toContain(`"slo_id":"${latency.id}"`);
    expect(dashboard).not.toContain("muse-id:slo-");
  });

  it("a second apply updates a changed test in place (PUT, same public_id and monitor), and never duplicates one", async () => {
    await applyDatadog(client(), defs, { siteUrl: SITE });
    const before = {
      tests: new Map(stored().map((t) => [t.public_id, t.monitor_id])),
      monitors: dd.monitors.size,
      slo: structuredClone(sloOf("slo-site-uptime")),
    };
    expect((await applyDatadog(client(), defs, { siteUrl: SITE })).filter((p) => p.kind === "synthetic").map((p) => p.action)).toEqual([
      "unchanged",
      "unchanged",
      "unchanged",
    ]);

    const edited = structuredClone(defs);
    edited.synthetics[1].options.tick_every = 600;
    const mark = dd.requests.length;
    // A new public URL changes every test's request; the edit one more field of one test.
    const plan = await applyDatadog(client(), edited, { siteUrl: "https://blog.example.org" });
    const changed = plan.filter((p) => p.kind === "synthetic");
    expect(changed.map((p) => [p.key, p.action, p.changed])).toEqual([
      ["synthetic-health", "update", ["config.request.url"]],
      ["synthetic-home", "update", ["config.request.url", "options.tick_every"]],
      ["synthetic-episode", "update", ["config.request.url"]],
    ]);
    const writes = dd.requests.slice(mark).filter((r) => r.method !== "GET");
    expect(writes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([...before.tests.keys()].map((id) => `PUT /api/v1/synthetics/tests/api/${id}`).sort());
    expect(new Map(stored().map((t) => [t.public_id, t.monitor_id]))).toEqual(before.tests);
    expect(dd.monitors.size).toBe(before.monitors);
    expect(testOf("synthetic-home").options).toMatchObject({ tick_every: 600 });
    expect((testOf("synthetic-episode").config as { request: { url: string } }).request.url).toBe("https://blog.example.org/en/episodes/chimera/ep-001");
    // The tests kept their monitors, so the uptime SLO did not change.
    expect(sloOf("slo-site-uptime")).toEqual(before.slo);
    expect(plan.find((p) => p.key === "slo-site-uptime")?.action).toBe("unchanged");
  });

  it("finds its tests among other tests on every page of the list, and reports a retired one without deleting it", async () => {
    for (let i = 0; i < 150; i++)
      dd.synthetics.set(`x${i}`, { public_id: `x${i}`, name: `someone else's test ${i}`, type: "api", tags: ["team:other"], monitor_id: 1 + i });
    dd.synthetics.set("old-old-old", {
      public_id: "old-old-old",
      name: "retired muse check",
      type: "api",
      tags: [MANAGED_TAG, "muse-id:synthetic-retired"],
      monitor_id: 999,
    });
    const plan = await applyDatadog(client(), defs, { siteUrl: SITE });
    const pages = dd.requests.filter((r) => r.path === "/api/v1/synthetics/tests").map((r) => r.query.page_number);
    expect(pages).toEqual(["0", "1"]);
    expect(plan.filter((p) => p.kind === "synthetic").map((p) => `${p.key}:${p.action}`)).toEqual([
      "synthetic-health:create",
      "synthetic-home:create",
      "synthetic-episode:create",
      "synthetic-retired:orphan",
    ]);
    expect(dd.synthetics.size).toBe(151 + defs.synthetics.length);
    expect(dd.synthetics.get("x7")?.name).toBe("someone else's test 7");
  });

  it("refuses a site URL Datadog's locations cannot reach, before sending anything", async () => {
    for (const local of ["http://127.0.0.1:3000", "http://localhost:3000", "http://10.1.2.3", "http://[::1]:3000", "http://muse.local"]) {
      await expect(applyDatadog(client(), defs, { siteUrl: local })).rejects.toThrow(SiteUrlError);
      expect(siteUrlProblem(local), local).toMatch(/not reachable from Datadog's managed locations/);
    }
    await expect(applyDatadog(client(), defs)).rejects.toThrow(/no site URL was given/);
    expect(dd.requests).toEqual([]);
    expect(siteUrlProblem("https://muse.example.com")).toBeUndefined();
    expect(siteUrlProblem("http://93.184.216.34")).toBeUndefined();
    expect(siteUrlProblem("ftp://muse.example.com")).toMatch(/not an http\(s\) URL/);
  });
});

describe("configuration", () => {
  it("needs DD_API_KEY and DD_APP_KEY, naming what is missing", () => {
    expect(() => datadogClientFromEnv(parseEnv({}))).toThrow(MissingDatadogKeysError);
    expect(() => datadogClientFromEnv(parseEnv({}))).toThrow(/^DD_API_KEY and DD_APP_KEY must be set/);
    expect(() => datadogClientFromEnv(parseEnv({ DD_API_KEY: API_KEY }))).toThrow(/^DD_APP_KEY must be set/);
    expect(() => datadogClientFromEnv(parseEnv({ DD_API_KEY: API_KEY, DD_APP_KEY: APP_KEY }))).not.toThrow();
  });

  it("uses DD_API_URL, else https://api.<DD_SITE>", () => {
    expect(datadogApiUrl(parseEnv({}))).toBe("https://api.datadoghq.com");
    expect(datadogApiUrl(parseEnv({ DD_SITE: "datadoghq.eu" }))).toBe("https://api.datadoghq.eu");
    expect(datadogApiUrl(parseEnv({ DD_SITE: "datadoghq.eu", DD_API_URL: "http://127.0.0.1:9999" }))).toBe("http://127.0.0.1:9999");
  });

  it("compares only the fields it defines; tags as sets", () => {
    expect(differences({ a: 1, tags: ["x", "y"], o: { b: [1, 2] } }, { a: 1, id: 9, tags: ["y", "x"], o: { b: [1, 2], c: 3 } })).toEqual([]);
    expect(differences({ a: 1, o: { b: [1, 2] } }, { a: 2, o: { b: [1] } })).toEqual(["a", "o.b"]);
  });
});

describe("npm run muse -- datadog apply", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetEnvCache();
    vi.restoreAllMocks();
  });

  it("prints the plan; --dry-run sends nothing that changes Datadog; missing keys and a local site URL are named", async () => {
    Object.assign(process.env, { DD_API_KEY: API_KEY, DD_APP_KEY: APP_KEY, DD_API_URL: dd.url });
    delete process.env.MUSE_SITE_URL;
    resetEnvCache();
    // MUSE_SITE_URL's default is the local site, which Datadog cannot reach: nothing is sent.
    const local = await cli(["datadog", "apply", "--dry-run"]);
    expect(local.code).toBe(1);
    expect(local.output).toContain("http://127.0.0.1:3000 is not reachable from Datadog's managed locations: set MUSE_SITE_URL");
    expect(dd.requests).toEqual([]);

    process.env.MUSE_SITE_URL = SITE;
    resetEnvCache();
    const dry = await cli(["datadog", "apply", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.output).toMatch(/create\s+monitor\s+kpi-watcher-success/);
    expect(dry.output).toMatch(/create\s+synthetic\s+synthetic-health\s+"\[Muse\] Site health check/);
    expect(dry.output).toContain("(dry run: nothing was changed)");
    expect(dd.mutating()).toEqual([]);

    const real = await cli(["datadog", "apply"]);
    expect(real.code).toBe(0);
    expect(real.output).toMatch(/create\s+dashboard\s+Muse/);
    const again = await cli(["datadog", "apply"]);
    expect(again.output).toMatch(/0 to create, 0 to update, \d+ unchanged/);

    // The daily profile (MUSE_SCHEDULE_PROFILE or --profile): the monitors fitted to vercel.hobby.json's crons.
    const daily = await cli(["datadog", "apply", "--profile", "daily"]);
    expect(daily.code).toBe(0);
    expect(daily.output).toContain("schedule profile: daily (vercel.hobby.json)");
    expect(daily.output).toMatch(/update\s+monitor\s+agent-failures-council/);
    const council = [...dd.monitors.values()].find((m) => JSON.stringify(m).includes("muse-id:agent-failures-council")) as { query: string };
    expect(council.query).toBe("sum(last_25h):sum:muse.council.runs{status:error} by {env}.as_count() >= 1");
    expect((await cli(["datadog", "apply", "--profile", "weekly"])).code).toBe(2);
    expect(dd.problems).toEqual([]);

    delete process.env.DD_APP_KEY;
    resetEnvCache();
    const missing = await cli(["datadog", "apply"]);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain("DD_APP_KEY must be set");
  });
});
