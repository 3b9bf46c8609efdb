import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DATADOG_DIR, loadDefinitions, type Definitions } from "../lib/datadog/apply";
import { allQueries, parseMetricQuery, type MetricRef } from "../lib/datadog/queries";
import { MANAGED_TAG, museIdOf } from "../lib/datadog/schemas";
import { SYNTHETICS_METRICS } from "../lib/datadog/synthetics";
import { METRICS, metricSpec } from "../lib/metrics/names";

/**
 * The dashboard, monitors and SLOs in datadog/ may only query what Muse emits:
 * names from lib/metrics/names.ts, filtered and grouped by tags those metrics
 * carry (plus the base tags service and env), and every emitted metric is
 * charted or alerted on somewhere, or listed in datadog/unused-metrics.json
 * with the reason. The one exception is what Muse's synthetic tests make
 * Datadog emit (SYNTHETICS_METRICS): those carry the tests' own tags.
 */

const BASE_TAGS = ["service", "env"];
const SECTIONS = [
  "System health",
  "Agent pipeline",
  "Data layer",
  "Content generation",
  "Deployments",
  "LLM cost and usage",
  "Reader experience (Core Web Vitals)",
  "Benchmarks",
  "Users",
];

let defs: Definitions;
let unused: Record<string, string>;
let refs: { where: string; ref: MetricRef; templateVariables: Map<string, string> }[];
/** A metric's type and the tag keys a query may use on it: Muse's own, or a synthetic test's. */
let specOf: (metric: string) => { type: string; tags: readonly string[] } | undefined;

beforeAll(async () => {
  defs = await loadDefinitions();
  unused = JSON.parse(await readFile(path.join(DEFAULT_DATADOG_DIR, "unused-metrics.json"), "utf8")).metrics;
  refs = allQueries(defs).flatMap(({ where, query, templateVariables }) => {
    const parsed = parseMetricQuery(query);
    if (parsed.leftovers.length) throw new Error(`${where}: could not read ${parsed.leftovers.join(", ")} in ${query}`);
    if (parsed.refs.length === 0) throw new Error(`${where}: no metric in ${query}`);
    return parsed.refs.map((ref) => ({ where, ref, templateVariables }));
  });
  const syntheticTags = [...new Set(defs.synthetics.flatMap((t) => t.tags.map((tag) => tag.split(":")[0])))];
  specOf = (metric) => {
    const synthetic = SYNTHETICS_METRICS.find((m) => m.name === metric);
    return synthetic ? { type: synthetic.type, tags: syntheticTags } : metricSpec(metric);
  };
});

describe("the query parser", () => {
  it("reads every reference of a monitor formula, with filters, groups and modifiers", () => {
    const { refs: found, leftovers } = parseMetricQuery(
      "sum(last_4h):sum:muse.watch.runs{status:ok,!trigger:cli} by {env}.as_count() / (sum:muse.watch.runs{*} by {env,source}.as_count() + max:muse.dlq.depth{$env}) * 100 < 95",
    );
    expect(leftovers).toEqual([]);
    expect(found.map((r) => [r.metric, r.aggregator, r.tagKeys, r.templateVariables, r.groupBy, r.modifier])).toEqual([
      ["muse.watch.runs", "sum", ["status", "trigger"], [], ["env"], "as_count"],
      ["muse.watch.runs", "sum", [], [], ["env", "source"], "as_count"],
      ["muse.dlq.depth", "max", [], ["env"], [], undefined],
    ]);
  });

  it("reads boolean scopes and reports what it could not read", () => {
    expect(parseMetricQuery("sum:muse.ingest.requests{route:events AND (status:503 OR NOT status:500)}.as_count()").refs[0].tagKeys).toEqual([
      "route",
      "status",
      "status",
    ]);
    expect(parseMetricQuery("avg:muse.watch.lag_seconds").leftovers).toEqual(["muse.watch.lag_seconds"]);
    expect(parseMetricQuery("avg:muse.watch.lag_seconds{source:x} by source}").leftovers).toContain("}");
    expect(parseMetricQuery("system.cpu.user{*}").refs[0].metric).toBe("system.cpu.user");
  });
});

describe("datadog/ definitions", () => {
  it("are one dashboard of 9 sections and at least 22 widgets, with env and agent template variables", () => {
    const groups = defs.dashboard.widgets.map((w) => w.definition);
    expect(groups.map((g) => (g.type === "group" ? g.title : `(${g.type} outside a group)`))).toEqual(SECTIONS);
    const leaves = groups.flatMap((g) => (g.type === "group" ? g.widgets : []));
    expect(leaves.length).toBeGreaterThanOrEqual(22);
    expect(defs.dashboard.template_variables?.map((v) => [v.name, v.prefix])).toEqual([
      ["env", "env"],
      ["agent", "agent"],
    ]);
  });

  it("have a monitor for each KPI and for agent failures, ClickHouse write errors, the dead-letter depth and publish failures", () => {
    const ids = defs.monitors.map((m) => museIdOf(m.tags));
    expect(ids).toEqual(
      expect.arrayContaining([
        "kpi-watcher-success",
        "kpi-data-freshness",
        "kpi-content-confidence",
        "kpi-deployment-success",
        "clickhouse-write-errors",
        "dlq-depth",
        "publish-failures",
        "open-regressions",
        "accuracy-below-gate",
        ...["ingest", "collect", "watch", "council", "translate", "publish"].map((a) => `agent-failures-${a}`),
      ]),
    );
    const byId = Object.fromEntries(defs.monitors.map((m) => [museIdOf(m.tags), m]));
    // The KPI thresholds of the issue, exactly.
    expect(byId["kpi-watcher-success"].query).toMatch(/< 95$/);
    expect(byId["kpi-data-freshness"].query).toMatch(/> 14400$/);
    expect(byId["kpi-content-confidence"].query).toMatch(/< 0\.7$/);
    expect(byId["kpi-deployment-success"].query).toMatch(/< 99$/);
    // Open regressions: alerts when the fewest open in the last 24 h is above 0, i.e. some stayed open all day.
    expect(byId["open-regressions"].query).toBe("min(last_1d):max:muse.changes.open_regressions{*} by {env} > 0");
  });

  it("have metric SLOs for watcher availability, freshness and deployment success; the site's uptime and latency from the synthetic tests", () => {
    const types = Object.fromEntries(defs.slos.map((s) => [museIdOf(s.tags), s.type]));
    for (const id of ["slo-watcher-availability", "slo-data-freshness", "slo-deployment-success", "slo-ingest-availability"])
      expect(types[id], id).toBe("metric");
    expect(types["slo-site-uptime"]).toBe("monitor");
    expect(types["slo-site-latency"]).toBe("time_slice");
  });
});

describe("every query against lib/metrics/names.ts", () => {
  it("queries only metric names Muse emits (or its synthetic tests make Datadog emit)", () => {
    const unknown = refs.filter(({ ref }) => !specOf(ref.metric)).map(({ where, ref }) => `${where}: ${ref.metric}`);
    expect(unknown).toEqual([]);
  });

  it("reads the synthetic tests' metrics of Muse's own tests only (filtered on managed-by:muse)", () => {
    const synthetic = refs.filter(({ ref }) => SYNTHETICS_METRICS.some((m) => m.name === ref.metric));
    expect(synthetic.map(({ where }) => where)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^slo muse-id:slo-site-latency/), expect.stringMatching(/^dashboard/)]),
    );
    for (const { where, ref } of synthetic) expect(ref.text, where).toContain(`{${MANAGED_TAG}`);
  });

  it("filters and groups only by tags the metric carries (or service/env)", () => {
    const problems: string[] = [];
    for (const { where, ref, templateVariables } of refs) {
      const spec = specOf(ref.metric);
      if (!spec) continue;
      const allowed = new Set([...BASE_TAGS, ...spec.tags]);
      for (const key of ref.tagKeys) if (!allowed.has(key)) problems.push(`${where}: ${ref.metric} has no tag ${key}`);
      for (const key of ref.groupBy) if (!allowed.has(key)) problems.push(`${where}: ${ref.metric} cannot be grouped by ${key}`);
      for (const name of ref.templateVariables) {
        const prefix = templateVariables.get(name);
        if (prefix === undefined) problems.push(`${where}: $${name} is not a template variable here`);
        else if (!allowed.has(prefix)) problems.push(`${where}: $${name} filters on ${prefix}, which ${ref.metric} does not carry`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("counts are summed as counts, gauges are never counted", () => {
    const problems: string[] = [];
    for (const { where, ref } of refs) {
      const spec = specOf(ref.metric);
      if (!spec) continue;
      if (spec.type === "count" && (ref.aggregator !== "sum" || ref.modifier !== "as_count"))
        problems.push(`${where}: count ${ref.metric} must be sum:...as_count() (${ref.text})`);
      if (spec.type === "gauge" && (ref.modifier || ref.aggregator === "sum" || ref.aggregator === "count"))
        problems.push(`${where}: gauge ${ref.metric} summed or counted (${ref.text})`);
    }
    expect(problems).toEqual([]);
  });

  it("every emitted metric is used somewhere, or listed once as intentionally unused with a reason", () => {
    const used = new Set(refs.map(({ ref }) => ref.metric));
    const unaccounted = METRICS.map((m) => m.name).filter((name) => !used.has(name) && !(name in unused));
    expect(unaccounted).toEqual([]);
    for (const [name, reason] of Object.entries(unused)) {
      expect(metricSpec(name), `${name} in unused-metrics.json is not a metric`).toBeDefined();
      expect(used.has(name), `${name} is listed as unused but is queried`).toBe(false);
      expect(typeof reason === "string" && reason.trim().length > 10, `${name} needs a reason`).toBe(true);
    }
  });
});

describe("the confidence monitor follows the one definition of confidence", () => {
  it("names every score scoreConfidence takes the weakest of, and the publish gate it sits above", async () => {
    const { scoreConfidence } = await import("../lib/analysis/facts");
    const parts = scoreConfidence({
      joinedDays: 7,
      windowDays: 7,
      newestDataAgeSeconds: 0,
      freshSeconds: 3600,
      benchRows: 1,
      events: 1,
      benchRowsExpected: 1,
      eventsExpected: 1,
      storyQValues: [],
      coverage: 1,
    });
    const components = Object.keys(parts).filter((k) => k !== "value" && k !== "limiting");
    expect(components.length).toBeGreaterThanOrEqual(6);
    const monitor = defs.monitors.find((m) => museIdOf(m.tags) === "kpi-content-confidence");
    expect(monitor).toBeDefined();
    for (const component of components) expect(monitor!.message, component).toContain(component);
    expect(monitor!.message).toContain("MUSE_PUBLISH_THRESHOLD");
    expect(monitor!.message).toContain("not the probability");
  });
});
