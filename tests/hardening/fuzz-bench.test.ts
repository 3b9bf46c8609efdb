import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postBench } from "../../app/api/ingest/bench/route";
import { BENCHMARK_TYPES } from "../../lib/ingest/reports/schemas";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { setEnv } from "../helpers/env";
import { BAD_CONTENT_TYPES, fuzzRoute, invalidUtf8, json, truncated, utf8, type FuzzCase } from "./helpers/fuzz";
import { deepArray, deepArrayText, Gen, HARDENING_SEED, INJECTIONS } from "./helpers/gen";
import { callHandler, isJsonError, serveRoutes, type RouteServer } from "./helpers/http";
import { report } from "./helpers/leaks";
import { HARDENING_SECRETS } from "./helpers/setup";

/**
 * Fuzzing POST /api/ingest/bench with 600 generated bad inputs (seeded):
 * every report type with a required field removed or of the wrong type,
 * common fields broken (type, version, dates, tags, commit), huge numbers,
 * deep nesting where a value is validated, injection strings, a bad report
 * among good ones, bad X-Commit-Sha, invalid UTF-8, wrong content types,
 * truncated bodies, too many reports, too many bytes. Every answer must be a
 * 4xx with a JSON `error`, the handler must never throw, nothing is written.
 */

const CASES = 600;
let t: TestDatabase;
let server: RouteServer;

beforeAll(async () => {
  t = await createTestDatabase();
  await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database, MUSE_LOG_LEVEL: "info" });
  server = await serveRoutes({ "/api/ingest/bench": postBench });
});
afterAll(async () => {
  await server?.close();
  await setEnv({ CLICKHOUSE_URL: undefined, CLICKHOUSE_DATABASE: undefined });
  await t?.drop();
});

const rows = async () => {
  const [r] = await t.db.query<{ n: number }>("SELECT (SELECT count() FROM bench_runs) + (SELECT count() FROM llm_events) AS n");
  return Number(r.n);
};

type Report = Record<string, unknown>;
const FIXTURES: Report[] = BENCHMARK_TYPES.map(
  (type) => JSON.parse(readFileSync(path.join(import.meta.dirname, "..", "fixtures", "reports", `${type}.json`), "utf8")) as Report,
);

/** A valid report: a fixture with its own commit. */
function validReport(g: Gen): Report {
  const r = structuredClone(g.pick(FIXTURES));
  r.commit_sha = g.hex(40);
  return r;
}

const DELETE = Symbol("delete");
type Bad = (g: Gen) => unknown;
const OBJECT_BAD: Bad[] = [() => DELETE, () => null, () => "x", () => 12, () => true];
const arrayBad = (element: unknown): Bad[] => [() => DELETE, () => null, () => "x", () => ({}), () => [element]];
const COUNT_BAD: Bad[] = [() => DELETE, () => null, () => "7", () => -1, () => 1.5, () => 1e300];

/** Fields each report type requires, with values that break them. */
const REQUIRED: Record<string, Record<string, Bad[]>> = {
  compilation: { model: OBJECT_BAD, settings: OBJECT_BAD, backends: OBJECT_BAD },
  quantization: { model: OBJECT_BAD, quantization_methods: OBJECT_BAD },
  kernel_optimization: { kernels: OBJECT_BAD },
  attention_mechanism: { model: OBJECT_BAD, attention_configs: OBJECT_BAD, performance_results: OBJECT_BAD, cross_comparison: OBJECT_BAD },
  memory_optimization: { model: OBJECT_BAD, optimization_methods: OBJECT_BAD, memory_usage: OBJECT_BAD, compression_ratio: OBJECT_BAD },
  model_compilation: { model: OBJECT_BAD, compilation_targets: arrayBad(42), compilation_times: OBJECT_BAD, optimization_levels: OBJECT_BAD },
  inference_performance: {
    model: OBJECT_BAD,
    test_scenarios: arrayBad(42),
    generation_times: arrayBad(-1),
    total_tokens: COUNT_BAD,
    performance_summary: OBJECT_BAD,
  },
  prompt_suite: { prompt_count: COUNT_BAD, prompts: arrayBad(42), models: arrayBad(42), results: OBJECT_BAD },
  system_performance: { duration_minutes: [() => DELETE, () => null, () => "x", () => -1, () => 0], system_metrics: OBJECT_BAD, gpu_info: OBJECT_BAD },
};

/** Fields every report has. */
const COMMON: Record<string, Bad[]> = {
  benchmark_type: [
    () => DELETE,
    () => null,
    () => 7,
    () => "",
    () => "QUANTIZATION",
    () => "quantization ",
    () => "quantization\u200b",
    () => "unknown_type",
    () => ["quantization"],
    (g) => g.pick(INJECTIONS),
    () => deepArray(100),
  ],
  generated_at: [() => DELETE, () => null, () => 0, () => "", () => "not a date", () => "2026-03-02", () => "yesterday at noon", (g) => g.pick(INJECTIONS)],
  version: [() => DELETE, () => null, () => 1, () => "1", () => "2.0", () => "1.0.0"],
  environment: [() => DELETE, () => null, () => "cuda", () => 5, () => [], () => true],
  tags: [() => DELETE, () => null, () => "x", () => ({}), () => [1], () => [null], () => [["nested"]], () => deepArray(1_000)],
  commit_sha: [() => null, () => 5, (g) => g.hex(39), (g) => g.hex(41), () => "z".repeat(40), (g) => `${g.pick(INJECTIONS)}${"0".repeat(40)}`.slice(0, 40)],
};

function badReport(g: Gen): { report: Report; label: string } {
  const report = validReport(g);
  const type = String(report.benchmark_type);
  const fields = g.chance(0.5) ? REQUIRED[type] : COMMON;
  const field = g.pick(Object.keys(fields));
  const value = g.pick(fields[field])(g);
  if (value === DELETE) delete report[field];
  else report[field] = value;
  return { report, label: `${type}.${field} ${value === DELETE ? "missing" : JSON.stringify(value)?.slice(0, 40)}` };
}

function generate(g: Gen): FuzzCase {
  const JSON_TYPE = "application/json";
  const kind = g.pick([
    "field",
    "field",
    "field",
    "field",
    "batch",
    "shape",
    "not-json",
    "truncated",
    "utf8",
    "content-type",
    "commit-header",
    "huge",
    "numbers",
  ] as const);
  switch (kind) {
    case "field": {
      const { report, label } = badReport(g);
      return { label, body: json(report), contentType: g.pick([JSON_TYPE, "application/json; charset=utf-8"]) };
    }
    case "batch": {
      const reports: unknown[] = Array.from({ length: g.int(0, 5) }, () => validReport(g));
      const bad = badReport(g);
      reports.splice(g.int(0, reports.length), 0, bad.report);
      return { label: `${reports.length} reports, one with ${bad.label}`, body: json(reports), contentType: JSON_TYPE };
    }
    case "shape": {
      const body = g.pick<() => string>([
        () => "[]",
        () => "null",
        () => "1",
        () => '"report"',
        () => "true",
        () => "{}",
        () => JSON.stringify([[validReport(g)]]),
        () => JSON.stringify({ reports: [validReport(g)] }),
        () => deepArrayText(g.int(100, 200_000)),
        () => JSON.stringify(Array.from({ length: 1_001 }, () => ({}))),
      ])();
      return { label: `shape ${body.slice(0, 40)}`, body: utf8(body), contentType: JSON_TYPE };
    }
    case "not-json": {
      const body = g.pick<() => string>([
        () => "",
        () => "{",
        () => `${JSON.stringify(validReport(g))}}`,
        () => JSON.stringify(validReport(g)).replace(/"version":"1.0"/, "'version':'1.0'"),
        () => `{"benchmark_type":"quantization",}`,
        () => g.unicode(1, 200),
        () => JSON.stringify(validReport(g)).replace(/:/, ":\u0000"),
      ])();
      return { label: `not JSON ${JSON.stringify(body.slice(0, 30))}`, body: utf8(body), contentType: JSON_TYPE };
    }
    case "truncated": {
      const full = json(g.chance(0.5) ? validReport(g) : [validReport(g), validReport(g)]);
      const body = truncated(g, full);
      return { label: `truncated to ${body.length} of ${full.length} bytes`, body, contentType: JSON_TYPE };
    }
    case "utf8":
      return { label: "invalid UTF-8", body: invalidUtf8(g, json(validReport(g))), contentType: JSON_TYPE };
    case "content-type": {
      const contentType = g.pick(BAD_CONTENT_TYPES.filter((c) => !c?.toLowerCase().startsWith("application/json;")));
      return { label: `Content-Type ${contentType}`, body: json(validReport(g)), contentType };
    }
    case "commit-header": {
      const report = validReport(g);
      delete report.commit_sha;
      const header = g.pick(["", "abc", "z".repeat(40), "0".repeat(39), "0".repeat(41), ...INJECTIONS.filter((s) => !/[\r\n\0]/.test(s))]);
      return { label: `X-Commit-Sha ${JSON.stringify(header.slice(0, 20))}`, body: json(report), contentType: JSON_TYPE, headers: { "x-commit-sha": header } };
    }
    case "huge": {
      const body = g.pick<() => string>([
        () => JSON.stringify({ ...validReport(g), padding: "x".repeat(1024 * 1024) }),
        () => JSON.stringify(Array.from({ length: 1_001 }, () => ({ benchmark_type: "quantization" }))),
      ])();
      return { label: `huge ${body.length} bytes`, body: utf8(body), contentType: JSON_TYPE };
    }
    case "numbers": {
      // Figures and counts as numbers JSON can carry but the contract cannot: 1e999 (Infinity), beyond 2^53.
      const report = validReport(g);
      const text = JSON.stringify(report).replace(/"version":"1\.0"/, `"version":${g.pick(["1e999", "-1e999", "1.0e0", "123456789012345678901234567890"])}`);
      return { label: `version ${text.match(/"version":([^,}]+)/)?.[1]}`, body: utf8(text), contentType: JSON_TYPE };
    }
  }
}

describe(`fuzzing POST /api/ingest/bench (${CASES} inputs, seed ${HARDENING_SEED})`, () => {
  it("answers every bad input with a 4xx JSON error, never throws, writes nothing", async () => {
    const g = new Gen(HARDENING_SEED + 1);
    const cases = Array.from({ length: CASES }, () => generate(g));
    const { failures, statuses } = await fuzzRoute({ route: "/api/ingest/bench", handler: postBench, server, cases, rows, seed: HARDENING_SEED + 1 });
    report(`fuzz /api/ingest/bench: ${cases.length} inputs, statuses ${JSON.stringify(statuses)}`);
    expect(failures.slice(0, 15)).toEqual([]);
  });

  // Regression: a report whose loosely validated extra fields nest a few thousand levels deep used
  // to pass validation and then overflow the stack in the recursive JSON.stringify behind its run id
  // (a bare 500 from a 6 KB body; the ingest agent, running the same validateReports, failed every
  // run). validateReports now refuses reports nested deeper than MAX_REPORT_DEPTH with a 400.
  it("a report with deeply nested extra fields is refused with a 400, never a throw", async () => {
    const g = new Gen(HARDENING_SEED + 2);
    const before = await rows();
    for (const where of ["top level", "environment", "model"] as const) {
      let report = validReport(g);
      while (where !== "top level" && report[where] === undefined) report = validReport(g); // a type that has this block
      const deep = deepArray(5_000);
      if (where === "top level") report.deep_extra = deep;
      else (report[where] as Record<string, unknown>).deep_extra = deep;
      const text = JSON.stringify(report, (_k, v: unknown) => (v === deep ? "__DEEP__" : v)).replace('"__DEEP__"', deepArrayText(5_000));
      const answer = await callHandler(
        postBench,
        new Request("http://localhost/api/ingest/bench", {
          method: "POST",
          headers: { authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`, "content-type": "application/json" },
          body: text,
        }),
      );
      if ("threw" in answer) throw new Error(`deep ${where}: the handler threw ${String(answer.threw)}`);
      expect(answer.status, `deep ${where}`).toBe(400);
      expect(isJsonError(answer)).toBe(true);
    }
    expect(await rows()).toBe(before);
  });
});
