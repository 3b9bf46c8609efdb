import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_DATADOG_DIR,
  DefinitionError,
  NOTIFY_PLACEHOLDER,
  confidenceKpiProblem,
  loadDefinitions,
  notifyHandlesFromEnv,
  silentTiers,
  syntheticTier,
  type Definitions,
} from "../lib/datadog/apply";
import { rumQueries } from "../lib/datadog/queries";
import { monitorTier, monitorWindowMinutes, museIdOf, type MonitorDefinition } from "../lib/datadog/schemas";
import { EnvError, parseEnv } from "../lib/env";

/**
 * Operations review of datadog/: monitors that can fire on missing data,
 * priorities and notification handles, Core Web Vitals from RUM, and the
 * confidence KPI against the publish gate.
 */

let defs: Definitions;
let dir: string;
const byId = (id: string): MonitorDefinition => defs.monitors.find((m) => museIdOf(m.tags) === id)!;

beforeAll(async () => {
  defs = await loadDefinitions();
  dir = await mkdtemp(path.join(tmpdir(), "muse-dd-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FILES = ["dashboard.json", "monitors.json", "synthetics.json", "slos.json"] as const;

/** datadog/ with one file edited (monitors.json unless named). */
async function loadEdited(edit: (items: Record<string, unknown>[]) => void, file: (typeof FILES)[number] = "monitors.json"): Promise<Definitions> {
  for (const f of FILES) await writeFile(path.join(dir, f), await readFile(path.join(DEFAULT_DATADOG_DIR, f)));
  const parsed = JSON.parse(await readFile(path.join(DEFAULT_DATADOG_DIR, file), "utf8")) as Record<string, unknown>;
  // dashboard.json is one object: the edit gets its widgets' groups.
  const items = Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : (parsed.widgets as Record<string, unknown>[]);
  edit(items);
  await writeFile(path.join(dir, file), JSON.stringify(parsed));
  return loadDefinitions(dir);
}
const idOf = (m: Record<string, unknown>) => museIdOf(m.tags as string[]);

describe("no data", () => {
  it("the watcher-success monitor waits at least its window before calling silence no data", () => {
    const m = byId("kpi-watcher-success");
    expect(m.options.notify_no_data).toBe(true);
    expect(monitorWindowMinutes(m.query)).toBe(240);
    expect(m.options.no_data_timeframe).toBeGreaterThanOrEqual(240);
  });

  it("the freshness monitor notifies on no data (a watcher that stopped reporting is not fresh)", () => {
    const m = byId("kpi-data-freshness");
    expect(m.options.notify_no_data).toBe(true);
    expect(m.options.no_data_timeframe).toBeGreaterThanOrEqual(monitorWindowMinutes(m.query)!);
    expect(m.message).toMatch(/\{\{#is_no_data\}\}.+\{\{\/is_no_data\}\}/);
  });

  it("every monitor with notify_no_data has a no-data timeframe of at least its window; a shorter one is refused", async () => {
    for (const m of defs.monitors.filter((x) => x.options.notify_no_data)) {
      expect(m.options.no_data_timeframe, museIdOf(m.tags)).toBeGreaterThanOrEqual(monitorWindowMinutes(m.query)!);
    }
    await expect(
      loadEdited((ms) => ((ms.find((m) => idOf(m) === "kpi-watcher-success")!.options as Record<string, unknown>).no_data_timeframe = 60)),
    ).rejects.toThrow(/no_data_timeframe \(60 min\) is shorter than the query's window \(240 min\)/);
  });
});

describe("priorities and notifications", () => {
  it("every monitor has a priority tier (critical P1, warning P3, info P5) named by its severity tag", () => {
    for (const m of defs.monitors) {
      expect([1, 3, 5], museIdOf(m.tags)).toContain(m.priority);
      expect(
        m.tags.filter((t) => t.startsWith("severity:")),
        museIdOf(m.tags),
      ).toEqual([`severity:${monitorTier(m)}`]);
    }
    const tiers = Object.fromEntries(defs.monitors.map((m) => [museIdOf(m.tags), monitorTier(m)]));
    for (const id of ["kpi-watcher-success", "kpi-data-freshness", "kpi-deployment-success", "clickhouse-write-errors", "publish-failures"])
      expect(tiers[id], id).toBe("critical");
    expect(tiers["agent-failures-council"]).toBe("warning");
    expect(tiers["open-regressions"]).toBe("info");
  });

  it("a priority without its tag, or a tier Muse does not use, is refused", async () => {
    await expect(loadEdited((ms) => (ms[0].tags = (ms[0].tags as string[]).filter((t) => !t.startsWith("severity:"))))).rejects.toThrow(
      /priority 1 needs exactly one tag severity:critical/,
    );
    await expect(loadEdited((ms) => (ms[0].priority = 2))).rejects.toThrow(DefinitionError);
  });

  it("monitors.json carries a placeholder for the handles; loading fills it with the tier's handles from the environment", async () => {
    const raw = JSON.parse(await readFile(path.join(DEFAULT_DATADOG_DIR, "monitors.json"), "utf8")) as { message: string }[];
    for (const m of raw) expect(m.message.split(NOTIFY_PLACEHOLDER)).toHaveLength(2);

    const env = parseEnv({ MUSE_DD_NOTIFY_CRITICAL: "@pagerduty-muse  @slack-muse-alerts", MUSE_DD_NOTIFY_WARNING: "@slack-muse-alerts" });
    const filled = await loadDefinitions(undefined, { notify: notifyHandlesFromEnv(env) });
    const message = (id: string) => filled.monitors.find((m) => museIdOf(m.tags) === id)!.message;
    expect(message("kpi-watcher-success")).toMatch(/\n\nNotify: @pagerduty-muse @slack-muse-alerts$/);
    expect(message("dlq-depth")).toMatch(/\n\nNotify: @slack-muse-alerts$/);
    expect(message("open-regressions")).not.toMatch(/Notify:|%%/);
    expect(silentTiers(filled.monitors, notifyHandlesFromEnv(env))).toEqual([{ tier: "info", monitors: 1 }]);
    // Unconfigured: the placeholder is gone, nobody is notified, and apply says so.
    for (const m of defs.monitors) expect(m.message).not.toContain("%%");
    expect(silentTiers(defs.monitors, {}).map((t) => t.tier)).toEqual(["critical", "warning", "info"]);

    expect(() => parseEnv({ MUSE_DD_NOTIFY_CRITICAL: "slack-muse" })).toThrow(EnvError);
    await expect(loadEdited((ms) => (ms[0].message = String(ms[0].message).replace(NOTIFY_PLACEHOLDER, "")))).rejects.toThrow(/must contain %%notify%% once/);
  });
});

describe("synthetic tests and the site's SLOs", () => {
  const synthetic = (key: string) => defs.synthetics.find((t) => museIdOf(t.tags) === key)!;

  it("check /api/health, the home page and an episode page for status 200, a body and under 1 s, as critical (P1) monitors", () => {
    expect(defs.synthetics.map((t) => [museIdOf(t.tags), t.config.request.url])).toEqual([
      ["synthetic-health", "/api/health"],
      ["synthetic-home", "/en"],
      ["synthetic-episode", "/en/episodes/chimera/ep-001"],
    ]);
    for (const t of defs.synthetics) {
      expect(t.config.assertions.map((a) => a.type).sort(), museIdOf(t.tags)).toEqual(["body", "responseTime", "statusCode"]);
      expect(t.config.assertions).toContainEqual({ type: "responseTime", operator: "lessThan", target: 1000 });
      expect(t.config.assertions).toContainEqual({ type: "statusCode", operator: "is", target: 200 });
      expect(syntheticTier(t)).toBe("critical");
    }
    expect(synthetic("synthetic-health").config.assertions).toContainEqual({ type: "body", operator: "contains", target: '"status":"ok"' });
  });

  it("notify their tier's handles, like the monitors; a missing placeholder is refused", async () => {
    const filled = await loadDefinitions(undefined, { notify: notifyHandlesFromEnv(parseEnv({ MUSE_DD_NOTIFY_CRITICAL: "@pagerduty-muse" })) });
    for (const t of filled.synthetics) expect(t.message).toMatch(/\n\nNotify: @pagerduty-muse$/);
    await expect(loadEdited((ts) => (ts[0].message = String(ts[0].message).replace(NOTIFY_PLACEHOLDER, "")), "synthetics.json")).rejects.toThrow(
      /synthetics\.json is not valid: synthetic-health: the message must contain %%notify%% once/,
    );
  });

  it("refuse what Datadog or `muse status` could not do with them", async () => {
    const refused = async (edit: (t: Record<string, Record<string, unknown>>) => void, message: RegExp) =>
      expect(loadEdited((ts) => edit(ts[0] as Record<string, Record<string, unknown>>), "synthetics.json")).rejects.toThrow(message);
    // A full URL: the site's URL comes from MUSE_SITE_URL (apply) or --site-url (status), never the file.
    await refused((t) => ((t.config.request as Record<string, unknown>).url = "https://muse.example.com/api/health"), /a path on the site/);
    // An assertion `muse status` cannot evaluate.
    await refused((t) => (t.config.assertions as unknown[]).push({ type: "header", operator: "contains", target: "x" }), /config\.assertions/);
    await refused((t) => (t.options.min_location_failed = 4), /min_location_failed \(4\) is more than the 3 location/);
    await refused((t) => ((t.config.request as Record<string, unknown>).timeout = 1), /timeout \(1 s\) must be longer than the response-time limit/);
    await refused((t) => (t.options.monitor_priority = 3), /priority 3 needs exactly one tag severity:warning/);
    // Hourly runs: one failure would keep the test down an hour, more than the uptime SLO allows in a week.
    await refused((t) => (t.options.tick_every = 3600), /synthetic-health: runs every 3600 s, more than slo-site-uptime's whole error budget \(604 s\)/);
  });

  it("a monitor SLO names tests or monitors that exist, and a dashboard SLO widget an SLO that exists", async () => {
    await expect(
      loadEdited((slos) => ((slos.find((s) => s.type === "monitor")!.monitor_ids as string[])[0] = "muse-id:synthetic-gone"), "slos.json"),
    ).rejects.toThrow(/monitor_ids: muse-id:synthetic-gone is no monitor or synthetic test/);
    await expect(
      loadEdited((groups) => {
        const health = (groups[0].definition as { widgets: { definition: Record<string, unknown> }[] }).widgets;
        health.find((w) => w.definition.type === "slo")!.definition.slo_id = "muse-id:slo-gone";
      }, "dashboard.json"),
    ).rejects.toThrow(/slo_id: muse-id:slo-gone is no SLO of slos\.json/);
    const uptime = defs.slos.find((s) => museIdOf(s.tags) === "slo-site-uptime")!;
    expect(uptime.type === "monitor" && uptime.monitor_ids).toEqual(defs.synthetics.map((t) => `muse-id:${museIdOf(t.tags)}`));
    expect(uptime.thresholds.map((t) => t.target)).toEqual([99.9, 99.9]);
  });
});

describe("Core Web Vitals (RUM)", () => {
  it("the dashboard charts the p75 of INP, LCP and CLS of the site's views", () => {
    const queries = rumQueries(defs);
    for (const metric of ["@view.interaction_to_next_paint", "@view.largest_contentful_paint", "@view.cumulative_layout_shift"]) {
      const found = queries.filter((q) => q.query.compute.metric === metric);
      expect(found.length, metric).toBeGreaterThanOrEqual(2);
      for (const { query } of found) {
        expect(query.compute.aggregation).toBe("pc75");
        expect(query.search.query).toMatch(/^@type:view service:muse \$env$/);
      }
    }
    const titles = queries.map((q) => q.title).join(" | ");
    expect(titles).toMatch(/LCP p75 \(good ≤ 2\.5 s\)/);
    expect(titles).toMatch(/INP p75 \(good ≤ 200 ms\)/);
    expect(titles).toMatch(/CLS p75 \(good ≤ 0\.1\)/);
  });
});

describe("confidence KPI and publish gate", () => {
  it("the KPI (0.7, daily average) sits above the publish gate (MUSE_PUBLISH_THRESHOLD, default 0.6), and the monitor says why", () => {
    const kpi = byId("kpi-content-confidence");
    const gate = parseEnv({}).MUSE_PUBLISH_THRESHOLD;
    expect(gate).toBe(0.6);
    expect(kpi.options.thresholds.critical).toBe(0.7);
    expect(kpi.options.thresholds.critical).toBeGreaterThan(gate);
    expect(kpi.message).toContain(`MUSE_PUBLISH_THRESHOLD (default ${gate})`);
    expect(kpi.message).toMatch(/scoreConfidence/);
    expect(confidenceKpiProblem(defs, gate)).toBeUndefined();
    expect(confidenceKpiProblem(defs, 0.7)).toMatch(/MUSE_PUBLISH_THRESHOLD \(0\.7\) is not below the confidence KPI \(0\.7/);
  });
});
