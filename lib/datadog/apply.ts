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
  museRefKey,
  sloDefinition,
  sloList,
  sloResponse,
  syntheticDefinition,
  syntheticList,
  syntheticResponse,
  type DashboardDefinition,
  type LeafWidgetDefinition,
  type MonitorDefinition,
  type MonitorTier,
  type SloDefinition,
  type SloRequest,
  type SyntheticDefinition,
  type Widget,
} from "./schemas";
import { renderSynthetic, siteUrlProblem } from "./synthetics";
import { messageOf } from "../error-message";

/**
 * `muse datadog apply`: makes Datadog hold what datadog/*.json defines, and
 * nothing else changes. Objects are matched by a stable identity (the
 * dashboard by its title; monitors, synthetic tests and SLOs by their
 * `muse-id:<key>` tag, among those tagged managed-by:muse), then created when
 * missing, updated in place (PUT, same id) when a field we define differs, and
 * left alone when equal. Fields Datadog adds (ids, dates, defaults we do not
 * set) are not compared. Objects tagged managed-by:muse whose key is no longer
 * defined are reported, never deleted.
 */

export const DEFAULT_DATADOG_DIR = path.join(projectRoot, "datadog");

export interface Definitions {
  dashboard: DashboardDefinition;
  monitors: MonitorDefinition[];
  /** Paths on the site; applyDatadog puts the site's URL before them. */
  synthetics: SyntheticDefinition[];
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
    throw new DefinitionError(file, [messageOf(error)]);
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
 * and synthetics.json ends with this placeholder, which loadDefinitions
 * replaces with the handles of the monitor's tier (MUSE_DD_NOTIFY_CRITICAL /
 * _WARNING / _INFO), or removes when the tier has none. Datadog never sees it.
 */
export const NOTIFY_PLACEHOLDER = "%%notify%%";

/** @handles per monitor tier (each a space-separated list, or empty). */
export type NotifyHandles = Partial<Record<MonitorTier, string>>;

export function notifyHandlesFromEnv(env: Pick<Env, "MUSE_DD_NOTIFY_CRITICAL" | "MUSE_DD_NOTIFY_WARNING" | "MUSE_DD_NOTIFY_INFO">): NotifyHandles {
  return { critical: env.MUSE_DD_NOTIFY_CRITICAL, warning: env.MUSE_DD_NOTIFY_WARNING, info: env.MUSE_DD_NOTIFY_INFO };
}

function withHandles(message: string, tier: MonitorTier, notify: NotifyHandles): string {
  const handles = (notify[tier] ?? "").trim().split(/\s+/).filter(Boolean).join(" ");
  return handles ? message.replace(NOTIFY_PLACEHOLDER, `Notify: ${handles}`) : message.replace(NOTIFY_PLACEHOLDER, "").trimEnd();
}

/** A synthetic test's monitor is in the tier of its priority, like a monitor of monitors.json. */
export const syntheticTier = (test: SyntheticDefinition): MonitorTier => monitorTier({ priority: test.options.monitor_priority });

/** Monitor tiers that notify nobody (no handles configured), with how many monitors each has. */
export function silentTiers(monitors: readonly MonitorDefinition[], notify: NotifyHandles): { tier: MonitorTier; monitors: number }[] {
  return MONITOR_TIERS.map((tier) => ({ tier, monitors: monitors.filter((m) => monitorTier(m) === tier).length })).filter(
    ({ tier, monitors }) => monitors > 0 && !(notify[tier] ?? "").trim(),
  );
}

/** Reads and validates datadog/synthetics.json (also what `npm run muse -- status` checks). */
export async function loadSynthetics(dir = DEFAULT_DATADOG_DIR): Promise<SyntheticDefinition[]> {
  const synthetics = await readJson(dir, "synthetics.json", z.array(syntheticDefinition));
  if (!keysUnique(synthetics, (t) => museIdOf(t.tags))) throw new DefinitionError("synthetics.json", ["two synthetic tests share a muse-id"]);
  return synthetics;
}

/** The muse-id an SLO widget's slo_id names, for every SLO widget of the dashboard. */
function sloWidgetRefs(dashboard: DashboardDefinition): string[] {
  return dashboard.widgets
    .flatMap((w) => (w.definition.type === "group" ? w.definition.widgets : [w]))
    .flatMap((w) => (w.definition.type === "slo" ? [w.definition.slo_id] : []));
}

/**
 * Reads and validates datadog/dashboard.json, monitors.json, synthetics.json
 * and slos.json; fills each monitor's and synthetic test's notification
 * placeholder with its tier's handles; checks that every `muse-id:<key>`
 * standing for an id names an object of the files.
 */
export async function loadDefinitions(dir = DEFAULT_DATADOG_DIR, options: { notify?: NotifyHandles } = {}): Promise<Definitions> {
  const [dashboard, monitors, synthetics, slos] = await Promise.all([
    readJson(dir, "dashboard.json", dashboardDefinition),
    readJson(dir, "monitors.json", z.array(monitorDefinition)),
    loadSynthetics(dir),
    readJson(dir, "slos.json", z.array(sloDefinition)),
  ]);
  if (!keysUnique(monitors, (m) => museIdOf(m.tags))) throw new DefinitionError("monitors.json", ["two monitors share a muse-id"]);
  if (!keysUnique(slos, (s) => museIdOf(s.tags))) throw new DefinitionError("slos.json", ["two SLOs share a muse-id"]);
  // A monitor SLO names its monitors by muse-id, which must say one thing: a synthetic test's or a monitor's.
  const shared = synthetics.map((t) => museIdOf(t.tags)!).filter((key) => monitors.some((m) => museIdOf(m.tags) === key));
  if (shared.length)
    throw new DefinitionError(
      "synthetics.json",
      shared.map((key) => `muse-id:${key} is also a monitor's in monitors.json`),
    );
  const placeholders = [
    ...monitors.map((m) => ({ file: "monitors.json", tags: m.tags, message: m.message })),
    ...synthetics.map((t) => ({ file: "synthetics.json", tags: t.tags, message: t.message })),
  ].filter((m) => m.message.split(NOTIFY_PLACEHOLDER).length !== 2);
  if (placeholders.length) {
    throw new DefinitionError(
      placeholders[0].file,
      placeholders.map((m) => `${museIdOf(m.tags)}: the message must contain ${NOTIFY_PLACEHOLDER} once (where its tier's handles go)`),
    );
  }
  const monitorKeys = new Set([...monitors, ...synthetics].map((m) => museIdOf(m.tags)));
  const unknownMonitors = slos.flatMap((s) => (s.type === "monitor" ? s.monitor_ids.filter((ref) => !monitorKeys.has(museRefKey(ref))) : []));
  if (unknownMonitors.length)
    throw new DefinitionError(
      "slos.json",
      unknownMonitors.map((ref) => `monitor_ids: ${ref} is no monitor or synthetic test of datadog/`),
    );
  // A failed run keeps a test alerting until its next run: one that runs less often than an SLO over it allows
  // downtime would breach that SLO with a single failure.
  const tooRare = slos.flatMap((s) => {
    if (s.type !== "monitor") return [];
    const budget = Math.min(...s.thresholds.map((t) => (Number.parseInt(t.timeframe, 10) * 86_400 * (100 - t.target)) / 100));
    return synthetics
      .filter((t) => s.monitor_ids.includes(`muse-id:${museIdOf(t.tags)}`) && t.options.tick_every > budget)
      .map((t) => `${museIdOf(t.tags)}: runs every ${t.options.tick_every} s, more than ${museIdOf(s.tags)}'s whole error budget (${Math.floor(budget)} s)`);
  });
  if (tooRare.length) throw new DefinitionError("synthetics.json", tooRare);
  const sloKeys = new Set(slos.map((s) => museIdOf(s.tags)));
  const unknownSlos = sloWidgetRefs(dashboard).filter((ref) => !sloKeys.has(museRefKey(ref)));
  if (unknownSlos.length)
    throw new DefinitionError(
      "dashboard.json",
      unknownSlos.map((ref) => `slo_id: ${ref} is no SLO of slos.json`),
    );
  const notify = options.notify ?? {};
  return {
    dashboard,
    monitors: monitors.map((m) => ({ ...m, message: withHandles(m.message, monitorTier(m), notify) })),
    synthetics: synthetics.map((t) => ({ ...t, message: withHandles(t.message, syntheticTier(t), notify) })),
    slos,
  };
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
      `${missing.join(" and ")} must be set: \`muse datadog apply\` uses the Datadog API key (DD_API_KEY) and an application key (DD_APP_KEY) with dashboards, monitors, SLOs and synthetics write access`,
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

/** The synthetic tests cannot be created for this site URL. */
export class SiteUrlError extends Error {
  constructor(problem: string) {
    super(`the synthetic tests of datadog/synthetics.json need the site's public URL: ${problem}`);
    this.name = "SiteUrlError";
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
 * Tag (and location) lists compare as sets: Datadog does not keep their order.
 */
export function differences(desired: unknown, actual: unknown, at = ""): string[] {
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual)) return [at || "(root)"];
    // A synthetic test's locations are a set too.
    if ((at.endsWith("tags") || at.endsWith("locations")) && desired.every((t) => typeof t === "string")) {
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

export type ObjectKind = "dashboard" | "monitor" | "synthetic" | "slo";
export type Action = "create" | "update" | "unchanged" | "orphan";

export interface PlanItem {
  kind: ObjectKind;
  /** The stable identity: the dashboard's title, or the muse-id of a monitor, synthetic test or SLO. */
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
  /** The site's public URL the synthetic tests request (MUSE_SITE_URL); needed when there are synthetic tests. */
  siteUrl?: string;
  /** Progress lines (the plan as it is made). */
  onItem?: (item: PlanItem) => void;
}

/**
 * Monitors tagged managed-by:muse, but not synthetic tests' own monitors ("synthetics alert"): Datadog gives those
 * the test's tags, muse-id included, and they are the test's, created and changed with it.
 */
async function listMonitors(client: DatadogClient) {
  const all: z.output<typeof monitorList> = [];
  const pageSize = 100;
  for (let page = 0; ; page++) {
    const batch = await client.request("GET", "/api/v1/monitor", { query: { monitor_tags: MANAGED_TAG, page, page_size: pageSize }, schema: monitorList });
    all.push(...batch.filter((m) => m.type !== "synthetics alert"));
    if (batch.length < pageSize) return all;
  }
}

/** Synthetic tests tagged managed-by:muse (the list cannot be filtered by tag: every page is read). */
async function listSynthetics(client: DatadogClient) {
  const all: z.output<typeof syntheticResponse>[] = [];
  const seen = new Set<string>();
  const pageSize = 100;
  for (let page = 0; ; page++) {
    const { tests } = await client.request("GET", "/api/v1/synthetics/tests", { query: { page_size: pageSize, page_number: page }, schema: syntheticList });
    // An API that ignored the paging would answer the same page forever.
    const fresh = tests.filter((t) => !seen.has(t.public_id));
    for (const t of fresh) seen.add(t.public_id);
    all.push(...fresh.filter((t) => (t.tags ?? []).includes(MANAGED_TAG)));
    if (tests.length < pageSize || fresh.length === 0) return all;
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

function byMuseId<T extends { tags?: string[] | null }>(kind: ObjectKind, existing: T[], idOf: (item: T) => string | number): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of existing) {
    const key = museIdOf(item.tags);
    if (!key) continue;
    if (map.has(key))
      throw new Error(`two Datadog ${kind}s carry muse-id:${key} (ids ${idOf(map.get(key)!)} and ${idOf(item)}): delete one by hand, then apply again`);
    map.set(key, item);
  }
  return map;
}

/**
 * `muse-id:<key>` → the id Datadog gave that object. In a dry run an object still to be created has none: the
 * reference stays as written (nothing is sent), and the object referring to it shows as changed.
 */
function resolver(kind: string, ids: Map<string, string | number>, dryRun: boolean) {
  return (ref: string) => {
    const id = ids.get(museRefKey(ref) ?? "");
    if (id !== undefined) return id;
    if (dryRun) return ref;
    throw new Error(`no Datadog id for ${kind} ${ref}: it was neither found nor created`);
  };
}

/** A monitor SLO with its monitors' ids for their muse-ids. */
function withMonitorIds(slo: SloDefinition, resolve: (ref: string) => string | number): SloRequest {
  return slo.type === "monitor" ? ({ ...slo, monitor_ids: slo.monitor_ids.map(resolve) } as SloRequest) : slo;
}

/** The dashboard with its SLO widgets' ids for their muse-ids. */
function withSloIds(dashboard: DashboardDefinition, resolve: (ref: string) => string | number): DashboardDefinition {
  const leaf = (def: LeafWidgetDefinition): LeafWidgetDefinition => (def.type === "slo" ? { ...def, slo_id: String(resolve(def.slo_id)) } : def);
  const widgets = dashboard.widgets.map((w): Widget => {
    const d = w.definition;
    return d.type === "group" ? { definition: { ...d, widgets: d.widgets.map((c) => ({ definition: leaf(c.definition) })) } } : { definition: leaf(d) };
  });
  return { ...dashboard, widgets };
}

/**
 * Plans and (unless dryRun) applies: monitors and synthetic tests first, then
 * the SLOs (a monitor SLO needs its monitors' ids), the dashboard last (its
 * SLO widgets need the SLOs' ids). A dry run sends only GETs.
 */
export async function applyDatadog(client: DatadogClient, defs: Definitions, options: ApplyOptions = {}): Promise<PlanItem[]> {
  const plan: PlanItem[] = [];
  const emit = (item: PlanItem) => {
    plan.push(item);
    options.onItem?.(item);
  };
  const dryRun = Boolean(options.dryRun);
  const siteUrl = options.siteUrl;
  if (defs.synthetics.length) {
    // Checked before anything is sent: a test against an unreachable URL fails from every location and pages.
    const problem = siteUrl === undefined ? "no site URL was given (MUSE_SITE_URL)" : siteUrlProblem(siteUrl);
    if (problem) throw new SiteUrlError(problem);
  }
  /** muse-id → the id of its monitor (a synthetic test's is the monitor Datadog made for it). */
  const monitorIds = new Map<string, number>();

  // Monitors
  const monitors = byMuseId("monitor", await listMonitors(client), (m) => m.id);
  for (const desired of defs.monitors) {
    const key = museIdOf(desired.tags)!;
    const current = monitors.get(key);
    monitors.delete(key);
    if (!current) {
      let id: string | undefined;
      if (!dryRun) {
        const created = await client.request("POST", "/api/v1/monitor", { body: desired, schema: monitorResponse });
        monitorIds.set(key, created.id);
        id = String(created.id);
      }
      emit({ kind: "monitor", key, name: desired.name, action: "create", id });
      continue;
    }
    monitorIds.set(key, current.id);
    const changed = differences(desired, current);
    if (changed.length && !dryRun) await client.request("PUT", `/api/v1/monitor/${current.id}`, { body: desired, schema: monitorResponse });
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

  // Synthetic tests: the list has every test; the one we compare is read whole, as the dashboard is.
  const tests = byMuseId("synthetic", await listSynthetics(client), (t) => t.public_id);
  for (const definition of defs.synthetics) {
    const key = museIdOf(definition.tags)!;
    const desired = renderSynthetic(definition, siteUrl!);
    const current = tests.get(key);
    tests.delete(key);
    const monitorOf = (test: z.output<typeof syntheticResponse>) => {
      if (test.monitor_id == null) throw new Error(`Datadog gave synthetic test ${test.public_id} (muse-id:${key}) no monitor_id`);
      monitorIds.set(key, test.monitor_id);
    };
    if (!current) {
      let id: string | undefined;
      if (!dryRun) {
        const created = await client.request("POST", "/api/v1/synthetics/tests/api", { body: desired, schema: syntheticResponse });
        monitorOf(created);
        id = created.public_id;
      }
      emit({ kind: "synthetic", key, name: desired.name, action: "create", id });
      continue;
    }
    const path = `/api/v1/synthetics/tests/api/${encodeURIComponent(current.public_id)}`;
    const full = await client.request("GET", path, { schema: syntheticResponse });
    monitorOf(full);
    const changed = differences(desired, full);
    if (changed.length && !dryRun) await client.request("PUT", path, { body: desired, schema: syntheticResponse });
    emit({
      kind: "synthetic",
      key,
      name: desired.name,
      action: changed.length ? "update" : "unchanged",
      id: current.public_id,
      ...(changed.length ? { changed } : {}),
    });
  }
  for (const [key, orphan] of tests) emit({ kind: "synthetic", key, name: orphan.name, action: "orphan", id: orphan.public_id });

  // SLOs
  const sloIds = new Map<string, string>();
  const monitorId = resolver("monitor", monitorIds, dryRun);
  const slos = byMuseId("slo", await listSlos(client), (s) => s.id);
  for (const definition of defs.slos) {
    const key = museIdOf(definition.tags)!;
    const desired = withMonitorIds(definition, monitorId);
    const current = slos.get(key);
    slos.delete(key);
    if (!current) {
      let id: string | undefined;
      if (!dryRun) {
        id = (await client.request("POST", "/api/v1/slo", { body: desired, schema: sloList })).data?.[0]?.id;
        if (id) sloIds.set(key, id);
      }
      emit({ kind: "slo", key, name: desired.name, action: "create", id });
      continue;
    }
    sloIds.set(key, current.id);
    const changed = differences(desired, current);
    if (changed.length && !dryRun) await client.request("PUT", `/api/v1/slo/${encodeURIComponent(current.id)}`, { body: desired, schema: sloList });
    emit({ kind: "slo", key, name: desired.name, action: changed.length ? "update" : "unchanged", id: current.id, ...(changed.length ? { changed } : {}) });
  }
  for (const [key, orphan] of slos) emit({ kind: "slo", key, name: orphan.name, action: "orphan", id: orphan.id });

  // The dashboard, by title
  const desired = withSloIds(defs.dashboard, resolver("SLO", sloIds, dryRun));
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
