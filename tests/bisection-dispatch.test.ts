import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { benchmarkInput, createWorkflowDispatcher, dispatchPending, workflowDispatcherFromEnv } from "../lib/bisection/dispatch";
import { listRequests, putRequests, type NewBenchRequest } from "../lib/bisection/requests";
import { parseEnv } from "../lib/env";
import { memoryLogger } from "../lib/log";
import { answerCannotRun, claimRequest } from "../lib/bisection/requests";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * GitHub workflow dispatch for bisection requests against a local HTTP server
 * that checks the request the real API expects: POST
 * /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches with a token,
 * GitHub's Accept and API-version headers and a JSON body {ref, inputs} whose
 * inputs are strings; it answers 204 like api.github.com.
 */

const TOKEN = "ghp_testTokenForDispatch0123456789abcd";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const T0 = new Date("2031-07-01T09:00:00.000Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

let server: http.Server;
let baseUrl: string;
const recorded: Recorded[] = [];
/** Answers to give instead of 204, in order (e.g. a 422 for one request). */
const faults: { status: number; body: unknown }[] = [];

const DISPATCH_PATH = /^\/repos\/([\w.-]+)\/([\w.-]+)\/actions\/workflows\/([^/]+)\/dispatches$/;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    req.on("end", () => {
      const refuse = (status: number, message: string) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ message, documentation_url: "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event" }));
      };
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return refuse(400, "Problems parsing JSON");
      }
      recorded.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      if (req.headers.authorization !== `token ${TOKEN}` && req.headers.authorization !== `Bearer ${TOKEN}`) return refuse(401, "Bad credentials");
      if (req.method !== "POST" || !DISPATCH_PATH.test(req.url ?? "")) return refuse(404, "Not Found");
      if (!String(req.headers.accept ?? "").includes("application/vnd.github")) return refuse(400, "expected a GitHub Accept header");
      if (req.headers["x-github-api-version"] !== "2022-11-28") return refuse(400, "expected X-GitHub-Api-Version: 2022-11-28");
      if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) return refuse(415, "expected a JSON body");
      const b = body as { ref?: unknown; inputs?: Record<string, unknown> };
      if (typeof b?.ref !== "string" || !b.ref) return refuse(422, "Invalid request: ref is required");
      if (b.inputs && Object.values(b.inputs).some((v) => typeof v !== "string")) return refuse(422, "Invalid request: inputs must be strings");
      const fault = faults.shift();
      if (fault) {
        res.writeHead(fault.status, { "content-type": "application/json" });
        return res.end(JSON.stringify(fault.body));
      }
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  recorded.length = 0;
  faults.length = 0;
});

let seq = 0;
function request(overrides: Partial<NewBenchRequest> = {}): NewBenchRequest {
  seq += 1;
  return {
    request_id: `dispatch-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    event_id: "event-dispatch",
    commit_sha: SHA,
    benchmark_type: "compilation",
    model: "mistral-7b",
    quant: "fp16",
    variant: "torch_compile",
    dataset: "wikitext-2",
    device: "cuda",
    repeats: 3,
    reason: "bisect latency_p95_ms",
    requested_at: at(seq * 0.01),
    expires_at: at(24 * 60),
    ...overrides,
  };
}

const dispatcher = (overrides: Partial<Parameters<typeof createWorkflowDispatcher>[0]> = {}) =>
  createWorkflowDispatcher({
    token: TOKEN,
    repo: "banter/banterhearts",
    workflow: "muse-bisect.yml",
    ref: "main",
    baseUrl,
    retries: 0,
    writeIntervalMs: 0,
    log: memoryLogger(),
    ...overrides,
  });

describe("createWorkflowDispatcher", () => {
  it("POSTs GitHub's workflow_dispatch request: path, token, JSON {ref, inputs} of strings; 204 is success", async () => {
    const r = request();
    const row = {
      ...r,
      requested_at: r.requested_at.toISOString(),
      expires_at: r.expires_at.toISOString(),
      updated_at: r.requested_at.toISOString(),
      status: "pending" as const,
      claimed_by: "",
      lease_until: null,
      answer: "",
      dispatched_at: null,
    };
    await dispatcher().dispatch(row);
    expect(recorded).toHaveLength(1);
    const [call] = recorded;
    expect(call.method).toBe("POST");
    expect(call.path).toBe("/repos/banter/banterhearts/actions/workflows/muse-bisect.yml/dispatches");
    expect(call.headers.authorization).toMatch(new RegExp(`^(token|Bearer) ${TOKEN}$`));
    expect(call.body).toEqual({
      ref: "main",
      inputs: {
        commit: SHA,
        benchmark: JSON.stringify({
          benchmark_type: "compilation",
          model: "mistral-7b",
          quant: "fp16",
          variant: "torch_compile",
          dataset: "wikitext-2",
          device: "cuda",
        }),
        repeats: "3",
        request_id: r.request_id,
      },
    });
    expect(JSON.parse((call.body as { inputs: { benchmark: string } }).inputs.benchmark)).toEqual({
      benchmark_type: "compilation",
      model: "mistral-7b",
      quant: "fp16",
      variant: "torch_compile",
      dataset: "wikitext-2",
      device: "cuda",
    });
    expect(benchmarkInput(row)).toBe((call.body as { inputs: { benchmark: string } }).inputs.benchmark);
  });

  it("uses the configured workflow, ref and input names, and a repository's @branch does not leak into the path", async () => {
    const r = request();
    const row = {
      ...r,
      requested_at: "",
      expires_at: "",
      updated_at: "",
      status: "pending" as const,
      claimed_by: "",
      lease_until: null,
      answer: "",
      dispatched_at: null,
    };
    await dispatcher({
      repo: "banter/banterhearts@develop",
      workflow: "bisect.yaml",
      ref: "release/2031",
      inputNames: { commit: "sha", benchmark: "selector", repeats: "runs", request_id: "muse_request" },
    }).dispatch(row);
    expect(recorded[0].path).toBe("/repos/banter/banterhearts/actions/workflows/bisect.yaml/dispatches");
    expect(recorded[0].body).toEqual({
      ref: "release/2031",
      inputs: { sha: SHA, selector: expect.any(String), runs: "3", muse_request: r.request_id },
    });
  });

  it("fails with GitHub's message when the dispatch is refused (e.g. an undeclared input)", async () => {
    faults.push({ status: 422, body: { message: 'Unexpected inputs provided: ["request_id"]' } });
    const r = request();
    const row = {
      ...r,
      requested_at: "",
      expires_at: "",
      updated_at: "",
      status: "pending" as const,
      claimed_by: "",
      lease_until: null,
      answer: "",
      dispatched_at: null,
    };
    await expect(dispatcher().dispatch(row)).rejects.toThrow(/Unexpected inputs/);
  });

  it("is configured from the environment: GITHUB_TOKEN, BANTERHEARTS_REPO, MUSE_BISECT_WORKFLOW (muse-bisect.yml), MUSE_BISECT_WORKFLOW_REF (main)", () => {
    expect(workflowDispatcherFromEnv(parseEnv({}))).toBeUndefined();
    expect(workflowDispatcherFromEnv(parseEnv({ GITHUB_TOKEN: TOKEN }))).toBeUndefined();
    const env = parseEnv({ GITHUB_TOKEN: TOKEN, BANTERHEARTS_REPO: "banter/banterhearts" });
    expect(env.MUSE_BISECT_WORKFLOW).toBe("muse-bisect.yml");
    expect(env.MUSE_BISECT_WORKFLOW_REF).toBe("main");
    expect(workflowDispatcherFromEnv(env)).toBeDefined();
  });
});

describe("dispatchPending", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  const sentIds = () => recorded.map((c) => (c.body as { inputs: { request_id: string } }).inputs.request_id);

  it("dispatches each pending request once, across calls, and marks it dispatched", async () => {
    const [a, b] = [request(), request()];
    await putRequests(t.db, [a, b]);
    const first = await dispatchPending(t.db, dispatcher(), at(1));
    expect(first).toEqual({ dispatched: [a.request_id, b.request_id], failed: [] });
    expect(sentIds()).toEqual([a.request_id, b.request_id]);

    const c = request();
    await putRequests(t.db, [c]);
    const second = await dispatchPending(t.db, dispatcher(), at(2));
    expect(second).toEqual({ dispatched: [c.request_id], failed: [] });
    expect(await dispatchPending(t.db, dispatcher(), at(3))).toEqual({ dispatched: [], failed: [] });
    expect(sentIds()).toEqual([a.request_id, b.request_id, c.request_id]);

    const rows = await listRequests(t.db, { ids: [a.request_id, b.request_id, c.request_id] });
    expect(rows.map((r) => [r.request_id, r.status, r.dispatched_at])).toEqual([
      [a.request_id, "pending", at(1).toISOString()],
      [b.request_id, "pending", at(1).toISOString()],
      [c.request_id, "pending", at(2).toISOString()],
    ]);
  });

  it("reports a refused dispatch, goes on with the others, and retries only the refused one next time", async () => {
    const [a, b] = [request(), request()];
    await putRequests(t.db, [a, b]);
    faults.push({ status: 422, body: { message: "Workflow does not have 'workflow_dispatch' trigger" } });
    const first = await dispatchPending(t.db, dispatcher(), at(5));
    expect(first.dispatched).toEqual([b.request_id]);
    expect(first.failed).toEqual([{ request_id: a.request_id, error: expect.stringContaining("workflow_dispatch") }]);
    const second = await dispatchPending(t.db, dispatcher(), at(6));
    expect(second).toEqual({ dispatched: [a.request_id], failed: [] });
    expect(sentIds()).toEqual([a.request_id, b.request_id, a.request_id]);
  });

  it("never dispatches a claimed, answered or expired request", async () => {
    const [expired, claimed, skipped] = [request({ requested_at: at(-120), expires_at: at(-60) }), request(), request()];
    await putRequests(t.db, [expired, claimed, skipped]);
    expect((await claimRequest(t.db, claimed.request_id, "gpu-box", at(9), 3600)).ok).toBe(true);
    expect((await answerCannotRun(t.db, skipped.request_id, "gpu-box", "no GPU", at(9))).ok).toBe(true);
    expect((await dispatchPending(t.db, dispatcher(), at(10))).dispatched).toEqual([]);
    expect(sentIds()).toEqual([]);
  });
});
