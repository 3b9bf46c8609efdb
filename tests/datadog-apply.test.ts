import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import {
  DatadogApiError,
  MissingDatadogKeysError,
  applyDatadog,
  datadogClient,
  datadogClientFromEnv,
  differences,
  loadDefinitions,
  type Definitions,
  type PlanItem,
} from "../lib/datadog/apply";
import { MANAGED_TAG, dashboardDefinition, monitorDefinition, museIdOf, sloDefinition } from "../lib/datadog/schemas";
import { parseEnv, resetEnvCache } from "../lib/env";
import { datadogApiUrl } from "../lib/metrics";
import { runCliCaptured as cli } from "./helpers/cli";

/**
 * `muse datadog apply` against a local server that answers like Datadog's v1
 * dashboards, monitors and SLO APIs, and refuses what Datadog would refuse:
 * a missing or wrong DD-API-KEY / DD-APPLICATION-KEY (403), a body that is not
 * valid per the schemas (400), an unknown path or method (404/405).
 */

const API_KEY = "dd-api-key-for-tests-0001";
const APP_KEY = "dd-app-key-for-tests-0002";

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
      if (!valid(dashboardDefinition)) return bad;
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
      if (!valid(dashboardDefinition)) return bad;
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
      if (!valid(sloDefinition)) return bad;
      const id = randomBytes(16).toString("hex");
      const stored = this.sloAsStored(body as Json, id);
      this.slos.set(id, stored);
      return { status: 200, body: { data: [stored], errors: null } };
    }
    if ((m = p.match(/^\/api\/v1\/slo\/([0-9a-f]+)$/))) {
      if (!this.slos.has(m[1])) return notFound;
      if (method === "GET") return { status: 200, body: { data: this.slos.get(m[1]), errors: null } };
      if (method !== "PUT") return { status: 405, body: { errors: ["Method not allowed"] } };
      if (!valid(sloDefinition)) return bad;
      const stored = this.sloAsStored(body as Json, m[1]);
      this.slos.set(m[1], stored);
      return { status: 200, body: { data: [stored], errors: null } };
    }

    this.problems.push(`unexpected ${method} ${p}`);
    return notFound;
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
      monitor_ids: [],
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
  it("first apply creates the dashboard, every monitor and every SLO, with valid bodies and both keys", async () => {
    const plan = await applyDatadog(client(), defs);
    expect(countBy(plan)).toEqual({ "slo:create": defs.slos.length, "monitor:create": defs.monitors.length, "dashboard:create": 1 });
    expect(plan.every((p) => p.id)).toBe(true);
    expect(dd.dashboards.size).toBe(1);
    expect(dd.monitors.size).toBe(defs.monitors.length);
    expect(dd.slos.size).toBe(defs.slos.length);
    const creates = dd.mutating();
    expect(creates.every((r) => r.method === "POST")).toBe(true);
    expect(creates.map((r) => r.path).sort()).toEqual(
      ["/api/v1/dashboard", ...defs.monitors.map(() => "/api/v1/monitor"), ...defs.slos.map(() => "/api/v1/slo")].sort(),
    );
    // Monitors and SLOs are found again by their tags, not by name.
    expect(dd.requests.find((r) => r.path === "/api/v1/monitor" && r.method === "GET")?.query).toMatchObject({ monitor_tags: MANAGED_TAG });
    expect(dd.requests.find((r) => r.path === "/api/v1/slo" && r.method === "GET")?.query).toMatchObject({ tags_query: MANAGED_TAG });
  });

  it("a second apply changes nothing", async () => {
    await applyDatadog(client(), defs);
    const before = dd.requests.length;
    const ids = { monitors: [...dd.monitors.keys()], slos: [...dd.slos.keys()], dashboards: [...dd.dashboards.keys()] };
    const plan = await applyDatadog(client(), defs);
    expect(countBy(plan)).toEqual({ "slo:unchanged": defs.slos.length, "monitor:unchanged": defs.monitors.length, "dashboard:unchanged": 1 });
    expect(dd.requests.slice(before).every((r) => r.method === "GET")).toBe(true);
    expect({ monitors: [...dd.monitors.keys()], slos: [...dd.slos.keys()], dashboards: [...dd.dashboards.keys()] }).toEqual(ids);
  });

  it("an edited definition is updated in place (PUT, same id); the rest is left alone", async () => {
    const first = await applyDatadog(client(), defs);
    const edited = structuredClone(defs);
    const monitor = edited.monitors.find((m) => museIdOf(m.tags) === "dlq-depth")!;
    monitor.query = monitor.query.replace(/> 100$/, "> 50");
    monitor.options.thresholds.critical = 50;
    edited.slos[0].thresholds[0].target = 96;
    const group = edited.dashboard.widgets[0].definition;
    if (group.type !== "group" || group.widgets[0].definition.type === "note") throw new Error("the first section starts with a chart");
    group.widgets[0].definition.title = "Watcher success, renamed";
    const before = dd.requests.length;

    const plan = await applyDatadog(client(), edited);
    expect(countBy(plan)).toEqual({
      "slo:update": 1,
      "slo:unchanged": defs.slos.length - 1,
      "monitor:update": 1,
      "monitor:unchanged": defs.monitors.length - 1,
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
    expect(dd.monitors.size).toBe(defs.monitors.length);
    expect(dd.monitors.get(Number(idOf(first, "monitor", "dlq-depth")))?.query).toMatch(/> 50$/);
    // ... and applying the edit again changes nothing more.
    const again = await applyDatadog(client(), edited);
    expect(again.every((p) => p.action === "unchanged")).toBe(true);
  });

  it("a change made by hand in Datadog is put back", async () => {
    await applyDatadog(client(), defs);
    const [id, stored] = [...dd.monitors.entries()][0];
    dd.monitors.set(id, { ...stored, message: "edited in the UI" });
    const plan = await applyDatadog(client(), defs);
    expect(plan.filter((p) => p.action === "update")).toEqual([expect.objectContaining({ kind: "monitor", id: String(id), changed: ["message"] })]);
  });

  it("--dry-run only reads: the plan, and no mutating request", async () => {
    const plan = await applyDatadog(client(), defs, { dryRun: true });
    expect(countBy(plan)).toEqual({ "slo:create": defs.slos.length, "monitor:create": defs.monitors.length, "dashboard:create": 1 });
    expect(dd.mutating()).toEqual([]);
    expect(dd.monitors.size + dd.slos.size + dd.dashboards.size).toBe(0);

    await applyDatadog(client(), defs);
    const edited = structuredClone(defs);
    edited.monitors[0].message = `${edited.monitors[0].message} (edited)`;
    const before = dd.requests.length;
    const dry = await applyDatadog(client(), edited, { dryRun: true });
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
    const plan = await applyDatadog(client(), defs);
    expect(plan.filter((p) => p.action === "orphan")).toEqual([{ kind: "monitor", key: "retired", name: "retired muse monitor", action: "orphan", id: "2" }]);
    expect(dd.monitors.get(1)?.name).toBe("someone else's monitor");
    expect(dd.monitors.has(2)).toBe(true);
    expect(dd.dashboards.get("aaa-bbb-ccc")?.title).toBe("Another dashboard");
    expect(dd.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("refuses to guess when two dashboards carry the title", async () => {
    for (const id of ["aaa-aaa-aaa", "bbb-bbb-bbb"]) dd.dashboards.set(id, { id, title: defs.dashboard.title, layout_type: "ordered", widgets: [] });
    await expect(applyDatadog(client(), defs)).rejects.toThrow(/2 dashboards are titled .*aaa-aaa-aaa, bbb-bbb-bbb/);
  });

  it("a wrong key is a 403 error, not retried", async () => {
    const wrong = datadogClient({ apiUrl: dd.url, apiKey: API_KEY, appKey: "not-the-app-key", retryDelayMs: 10 });
    const error = await applyDatadog(wrong, defs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatadogApiError);
    expect((error as DatadogApiError).status).toBe(403);
    expect(dd.requests).toHaveLength(1);
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

  it("prints the plan; --dry-run sends nothing that changes Datadog; missing keys are named", async () => {
    Object.assign(process.env, { DD_API_KEY: API_KEY, DD_APP_KEY: APP_KEY, DD_API_URL: dd.url });
    resetEnvCache();
    const dry = await cli(["datadog", "apply", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.output).toMatch(/create\s+monitor\s+kpi-watcher-success/);
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
