import { readFile } from "node:fs/promises";
import path from "node:path";
import { retry } from "../retry";
import { z } from "zod";
import type { Env } from "../env";
import { projectRoot } from "../local-clickhouse/launcher";
import { datadogApiUrl } from "../metrics";
import {
  MANAGED_TAG,
  dashboardDefinition,
  dashboardResponse,
  dashboardSummaryList,
  monitorDefinition,
  monitorList,
  monitorResponse,
  MONITOR_TIERS,
  monitorTier,
  museIdOf,
  sloDefinition,
  sloList,
  sloResponse,
  type DashboardDefinition,
  type MonitorDefinition,
  type MonitorTier,
  type SloDefinition,
} from "./schemas";

/**
 * `muse datadog apply`: makes Datadog hold what datadog/*.json defines, and
 * nothing else changes. Objects are matched by a stable identity (the
 * dashboard by its title; monitors and SLOs by their `muse-id:<key>` tag,
 * among those tagged managed-by:muse), then created when missing, updated in
 * place (PUT, same id) when a field we define differs, and left alone when
 * equal. Fields Datadog adds (ids, dates, defaults we do not set) are not
 * compared. Objects tagged managed-by:muse whose key is no longer defined are
 * reported, never deleted.
 */

export const DEFAULT_DATADOG_DIR = path.join(projectRoot, "datadog");

export interface Definitions {
  dashboard: DashboardDefinition;
  monitors: MonitorDefinition[];
  slos: SloDefinition[];
}

export class DefinitionError extends Error {
  constructor(file: string, issues: string[]) {
    super(`${file} is not valid: ${issues.slice(0, 10).join("; ")}${issues.length > 10 ? ` (and ${issues.length - 10} more)` : ""}`);
    this.name = "DefinitionError";
  }
}

async function readJson<S extends z.ZodType>(dir: string, file: string, schema: S): Promise<z.output<S>> {
  const full = path.join(dir, file);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(full, "utf8"));
  } catch (error) {
    throw new DefinitionError(file, [error instanceof Error ? error.message : String(error)]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new DefinitionError(
      file,
      parsed.error.issues.map((i) => `${z.core.toDotPath(i.path) || "(root)"}: ${i.message}`),
    );
  return parsed.data;
}

const keysUnique = <T>(items: T[], keyOf: (t: T) => string | undefined) => new Set(items.map(keyOf)).size === items.length;

/**
 * Where a monitor's notification handles go: every message in monitors.json
 * ends with this placeholder, which loadDefinitions replaces with the handles
 * of the monitor's tier (MUSE_DD_NOTIFY_CRITICAL / _WARNING / _INFO), or
 * removes when the tier has none. Datadog never sees it.
 */
export const NOTIFY_PLACEHOLDER = "%%notify%%";

/** @handles per monitor tier (each a space-separated list, or empty). */
export type NotifyHandles = Partial<Record<MonitorTier, string>>;

export function notifyHandlesFromEnv(env: Pick<Env, "MUSE_DD_NOTIFY_CRITICAL" | "MUSE_DD_NOTIFY_WARNING" | "MUSE_DD_NOTIFY_INFO">): NotifyHandles {
  return { critical: env.MUSE_DD_NOTIFY_CRITICAL, warning: env.MUSE_DD_NOTIFY_WARNING, info: env.MUSE_DD_NOTIFY_INFO };
}

function withHandles(monitor: MonitorDefinition, notify: NotifyHandles): MonitorDefinition {
  const handles = (notify[monitorTier(monitor)] ?? "").trim().split(/\s+/).filter(Boolean).join(" ");
  const message = handles ? monitor.message.replace(NOTIFY_PLACEHOLDER, `Notify: ${handles}`) : monitor.message.replace(NOTIFY_PLACEHOLDER, "").trimEnd();
  return { ...monitor, message };
}

/** Monitor tiers that notify nobody (no handles configured), with how many monitors each has. */
export function silentTiers(monitors: readonly MonitorDefinition[], notify: NotifyHandles): { tier: MonitorTier; monitors: number }[] {
  return MONITOR_TIERS.map((tier) => ({ tier, monitors: monitors.filter((m) => monitorTier(m) === tier).length })).filter(
    ({ tier, monitors }) => monitors > 0 && !(notify[tier] ?? "").trim(),
  );
}

/**
 * Reads and validates datadog/dashboard.json, monitors.json and slos.json;
 * fills each monitor's notification placeholder with its tier's handles.
 */
export async function loadDefinitions(dir = DEFAULT_DATADOG_DIR, options: { notify?: NotifyHandles } = {}): Promise<Definitions> {
  const [dashboard, monitors, slos] = await Promise.all([
    readJson(dir, "dashboard.json", dashboardDefinition),
    readJson(dir, "monitors.json", z.array(monitorDefinition)),
    readJson(dir, "slos.json", z.array(sloDefinition)),
  ]);
  if (!keysUnique(monitors, (m) => museIdOf(m.tags))) throw new DefinitionError("monitors.json", ["two monitors share a muse-id"]);
  if (!keysUnique(slos, (s) => museIdOf(s.tags))) throw new DefinitionError("slos.json", ["two SLOs share a muse-id"]);
  const placeholders = monitors.filter((m) => m.message.split(NOTIFY_PLACEHOLDER).length !== 2);
  if (placeholders.length) {
    throw new DefinitionError(
      "monitors.json",
      placeholders.map((m) => `${museIdOf(m.tags)}: the message must contain ${NOTIFY_PLACEHOLDER} once (where its tier's handles go)`),
    );
  }
  return { dashboard, monitors: monitors.map((m) => withHandles(m, options.notify ?? {})), slos };
}

/**
 * The confidence KPI (kpi-content-confidence) against the publish gate
 * (MUSE_PUBLISH_THRESHOLD): the KPI is a target for the daily average set
 * above the gate, so it warns while drafts still pass. A gate at or above the
 * KPI makes the monitor meaningless (drafts under it are no longer
 * published); this says so.
 */
export function confidenceKpiProblem(defs: Definitions, publishThreshold: number): string | undefined {
  const kpi = defs.monitors.find((m) => museIdOf(m.tags) === "kpi-content-confidence");
  if (!kpi) return undefined;
  const target = kpi.options.thresholds.critical;
  if (publishThreshold < target) return undefined;
  return `MUSE_PUBLISH_THRESHOLD (${publishThreshold}) is not below the confidence KPI (${target}, monitor kpi-content-confidence): the monitor would only fire for averages of drafts that are no longer published; raise the KPI in datadog/monitors.json above the gate`;
}

// ---------------------------------------------------------------------------
// The API client

export class MissingDatadogKeysError extends Error {
  constructor(readonly missing: string[]) {
    super(
      `${missing.join(" and ")} must be set: \`muse datadog apply\` uses the Datadog API key (DD_API_KEY) and an application key (DD_APP_KEY) with dashboards, monitors and SLOs write access`,
    );
    this.name = "MissingDatadogKeysError";
  }
}

export class DatadogApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    body: string,
  ) {
    super(`Datadog answered ${status} to ${method} ${path}: ${body.slice(0, 300)}`);
    this.name = "DatadogApiError";
  }
}

/** A 2xx answer whose body is not what the API documents (not worth retrying). */
class UnexpectedAnswer extends Error {}

export interface DatadogClientOptions {
  apiUrl: string;
  apiKey: string;
  appKey: string;
  fetch?: typeof fetch;
  retries?: number;
  retryDelayMs?: number;
}

export interface DatadogClient {
  request<S extends z.ZodType>(
    method: "GET" | "POST" | "PUT",
    path: string,
    options: { query?: Record<string, string | number>; body?: unknown; schema: S },
  ): Promise<z.output<S>>;
}

export function datadogClient(options: DatadogClientOptions): DatadogClient {
  const doFetch = options.fetch ?? fetch;
  return {
    async request(method, apiPath, { query, body, schema }) {
      const url = new URL(apiPath, options.apiUrl);
      for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
      const attempt = async () => {
        const res = await doFetch(url, {
          method,
          headers: {
            Accept: "application/json",
            "DD-API-KEY": options.apiKey,
            "DD-APPLICATION-KEY": options.appKey,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (!res.ok) throw new DatadogApiError(method, apiPath, res.status, text);
        const parsed = schema.safeParse(text ? JSON.parse(text) : {});
        if (!parsed.success) throw new UnexpectedAnswer(`unexpected answer to ${method} ${apiPath}: ${parsed.error.issues[0]?.message}`);
        return parsed.data;
      };
      // A create is not retried (a lost answer would make a duplicate); nor is a 4xx but 429, nor an answer of the wrong shape.
      const isRetryable = (error: unknown) =>
        !(error instanceof UnexpectedAnswer) && !(error instanceof DatadogApiError && error.status < 500 && error.status !== 429);
      return retry(attempt, { isRetryable, retries: method === "POST" ? 0 : (options.retries ?? 2), minTimeoutMs: options.retryDelayMs ?? 500 });
    },
  };
}

/** The client from DD_API_KEY, DD_APP_KEY and DD_API_URL (or https://api.<DD_SITE>). */
export function datadogClientFromEnv(env: Env): DatadogClient {
  const missing = [!env.DD_API_KEY && "DD_API_KEY", !env.DD_APP_KEY && "DD_APP_KEY"].filter((m): m is string => Boolean(m));
  if (missing.length) throw new MissingDatadogKeysError(missing);
  return datadogClient({ apiUrl: datadogApiUrl(env), apiKey: env.DD_API_KEY!, appKey: env.DD_APP_KEY! });
}

// ---------------------------------------------------------------------------
// Comparing

function sameScalar(a: unknown, b: unknown): boolean {
  return typeof a === "number" && typeof b === "number" ? Math.abs(a - b) < 1e-9 : a === b;
}

/**
 * Whether `actual` (what Datadog holds) has every field of `desired` with the
 * same value. Extra fields in `actual` are Datadog's (ids, dates, defaults).
 * Tag lists compare as sets: Datadog does not keep their order.
 */
export function differences(desired: unknown, actual: unknown, at = ""): string[] {
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual)) return [at || "(root)"];
    if (at.endsWith("tags") && desired.every((t) => typeof t === "string")) {
      const a = new Set(actual as unknown[]);
      return desired.length === a.size && desired.every((t) => a.has(t)) ? [] : [at];
    }
    if (desired.length !== actual.length) return [at];
    return desired.flatMap((d, i) => differences(d, actual[i], `${at}[${i}]`));
  }
  if (desired !== null && typeof desired === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return [at || "(root)"];
    return Object.entries(desired as Record<string, unknown>).flatMap(([k, v]) =>
      v === undefined ? [] : differences(v, (actual as Record<string, unknown>)[k], at ? `${at}.${k}` : k),
    );
  }
  return sameScalar(desired, actual) ? [] : [at || "(root)"];
}

// ---------------------------------------------------------------------------
// Planning and applying

export type ObjectKind = "dashboard" | "monitor" | "slo";
export type Action = "create" | "update" | "unchanged" | "orphan";

export interface PlanItem {
  kind: ObjectKind;
  /** The stable identity: the dashboard's title, or the muse-id of a monitor or SLO. */
  key: string;
  name: string;
  action: Action;
  /** Datadog's id (after a create, the new one; unset in a dry run's creates). */
  id?: string;
  /** The fields that differ (updates). */
  changed?: string[];
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** Progress lines (the plan as it is made). */
  onItem?: (item: PlanItem) => void;
}

async function listMonitors(client: DatadogClient) {
  const all: z.output<typeof monitorList> = [];
  const pageSize = 100;
  for (let page = 0; ; page++) {
    const batch = await client.request("GET", "/api/v1/monitor", { query: { monitor_tags: MANAGED_TAG, page, page_size: pageSize }, schema: monitorList });
    all.push(...batch);
    if (batch.length < pageSize) return all;
  }
}

async function listSlos(client: DatadogClient) {
  const all: z.output<typeof sloResponse>[] = [];
  const limit = 100;
  for (let offset = 0; ; offset += limit) {
    const batch = (await client.request("GET", "/api/v1/slo", { query: { tags_query: MANAGED_TAG, limit, offset }, schema: sloList })).data ?? [];
    all.push(...batch);
    if (batch.length < limit) return all;
  }
}

async function findDashboards(client: DatadogClient, title: string) {
  const found: { id: string; title: string }[] = [];
  const count = 100;
  for (let start = 0; ; start += count) {
    const { dashboards } = await client.request("GET", "/api/v1/dashboard", { query: { count, start }, schema: dashboardSummaryList });
    found.push(...dashboards.filter((d) => d.title === title));
    if (dashboards.length < count) return found;
  }
}

function byMuseId<T extends { tags?: string[] | null; id: string | number }>(kind: ObjectKind, existing: T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of existing) {
    const key = museIdOf(item.tags);
    if (!key) continue;
    if (map.has(key))
      throw new Error(`two Datadog ${kind}s carry muse-id:${key} (ids ${map.get(key)!.id} and ${item.id}): delete one by hand, then apply again`);
    map.set(key, item);
  }
  return map;
}

/**
 * Plans and (unless dryRun) applies: SLOs and monitors first, the dashboard
 * last. A dry run sends only GETs.
 */
export async function applyDatadog(client: DatadogClient, defs: Definitions, options: ApplyOptions = {}): Promise<PlanItem[]> {
  const plan: PlanItem[] = [];
  const emit = (item: PlanItem) => {
    plan.push(item);
    options.onItem?.(item);
  };

  // SLOs
  const slos = byMuseId("slo", await listSlos(client));
  for (const desired of defs.slos) {
    const key = museIdOf(desired.tags)!;
    const current = slos.get(key);
    slos.delete(key);
    if (!current) {
      let id: string | undefined;
      if (!options.dryRun) id = (await client.request("POST", "/api/v1/slo", { body: desired, schema: sloList })).data?.[0]?.id;
      emit({ kind: "slo", key, name: desired.name, action: "create", id });
      continue;
    }
    const changed = differences(desired, current);
    if (changed.length && !options.dryRun) await client.request("PUT", `/api/v1/slo/${encodeURIComponent(current.id)}`, { body: desired, schema: sloList });
    emit({ kind: "slo", key, name: desired.name, action: changed.length ? "update" : "unchanged", id: current.id, ...(changed.length ? { changed } : {}) });
  }
  for (const [key, orphan] of slos) emit({ kind: "slo", key, name: orphan.name, action: "orphan", id: orphan.id });

  // Monitors
  const monitors = byMuseId("monitor", await listMonitors(client));
  for (const desired of defs.monitors) {
    const key = museIdOf(desired.tags)!;
    const current = monitors.get(key);
    monitors.delete(key);
    if (!current) {
      let id: string | undefined;
      if (!options.dryRun) id = String((await client.request("POST", "/api/v1/monitor", { body: desired, schema: monitorResponse })).id);
      emit({ kind: "monitor", key, name: desired.name, action: "create", id });
      continue;
    }
    const changed = differences(desired, current);
    if (changed.length && !options.dryRun) await client.request("PUT", `/api/v1/monitor/${current.id}`, { body: desired, schema: monitorResponse });
    emit({
      kind: "monitor",
      key,
      name: desired.name,
      action: changed.length ? "update" : "unchanged",
      id: String(current.id),
      ...(changed.length ? { changed } : {}),
    });
  }
  for (const [key, orphan] of monitors) emit({ kind: "monitor", key, name: orphan.name, action: "orphan", id: String(orphan.id) });

  // The dashboard, by title
  const desired = defs.dashboard;
  const matches = await findDashboards(client, desired.title);
  if (matches.length > 1) {
    throw new Error(
      `${matches.length} dashboards are titled ${JSON.stringify(desired.title)} (ids ${matches.map((d) => d.id).join(", ")}): delete the extra ones, then apply again`,
    );
  }
  if (matches.length === 0) {
    let id: string | undefined;
    if (!options.dryRun) id = (await client.request("POST", "/api/v1/dashboard", { body: desired, schema: dashboardResponse })).id;
    emit({ kind: "dashboard", key: desired.title, name: desired.title, action: "create", id });
  } else {
    const id = matches[0].id;
    const current = await client.request("GET", `/api/v1/dashboard/${encodeURIComponent(id)}`, { schema: dashboardResponse });
    const changed = differences(desired, current);
    if (changed.length && !options.dryRun)
      await client.request("PUT", `/api/v1/dashboard/${encodeURIComponent(id)}`, { body: desired, schema: dashboardResponse });
    emit({
      kind: "dashboard",
      key: desired.title,
      name: desired.title,
      action: changed.length ? "update" : "unchanged",
      id,
      ...(changed.length ? { changed } : {}),
    });
  }
  return plan;
}

/** One line of the printed plan. */
export function formatPlanItem(item: PlanItem): string {
  const what = item.action === "orphan" ? "orphan (not in datadog/, left alone)" : item.action;
  const changed = item.changed?.length ? ` [${item.changed.slice(0, 4).join(", ")}${item.changed.length > 4 ? ", ..." : ""}]` : "";
  const id = item.id ? ` (id ${item.id})` : "";
  return `${what.padEnd(10)} ${item.kind.padEnd(9)} ${item.key}${item.kind === "dashboard" ? "" : `  ${JSON.stringify(item.name)}`}${id}${changed}`;
}

export function planSummary(plan: readonly PlanItem[]): string {
  const n = (a: Action) => plan.filter((p) => p.action === a).length;
  return `${n("create")} to create, ${n("update")} to update, ${n("unchanged")} unchanged${n("orphan") ? `, ${n("orphan")} orphaned` : ""}`;
}
