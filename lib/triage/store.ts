import { randomUUID } from "node:crypto";
import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { seriesId, type SeriesKey } from "../analysis/series";
import { benchEventRow, NO_TRIAGE, toRow, triageFields, withTriageEffects, type BenchEventRow, type TriageFields } from "../lifecycle/events";

/**
 * Triage of events by maintainers (docs/triage.md): every action is appended
 * to `event_triage` (who, when, why, from where: sql/016), and the event's
 * effective triage — folded from the whole log — is written into its
 * `bench_events` row, so the status page, GET /api/changes, the
 * open-regressions metric and the stories all honour it. Council runs carry
 * it forward (the event id is stable) and overlay the log again.
 */

export const TRIAGE_ACTIONS = ["expected", "invalid", "ack", "reopen", "blame", "mute", "unmute"] as const;
export type TriageAction = (typeof TRIAGE_ACTIONS)[number];
export const TRIAGE_SOURCES = ["github-comment", "api", "cli"] as const;
export type TriageSource = (typeof TRIAGE_SOURCES)[number];

/** What each action does, for help texts and the docs. */
export const TRIAGE_HELP: Record<TriageAction, string> = {
  expected: "the accepted cost of a feature: told as accepted, not counted as open",
  invalid: "not real (noise, a runner swap): left out of stories, counts, the status page and the metric",
  ack: "acknowledged: still open, told as acknowledged",
  reopen: "clears expected, invalid or ack",
  blame: "blame <sha>: the event's commit, overriding bisection (which stops)",
  mute: "mute [series]: a noisy benchmark; its changes are no longer told (default: the event's lead series)",
  unmute: "unmute [series]: tells its changes again",
};

const ACTION_NAMESPACE = "6a0d3c57-2f4e-4b8a-9d61-0c7e5b2a9f13";
export const SHA_PREFIX = /^[0-9a-f]{7,40}$/i;
export const MAX_REASON = 2_000;
export const MAX_ACTOR = 100;

const timestamp = z.string().transform((v) => new Date(v.includes("T") ? v : `${v.replace(" ", "T")}Z`).toISOString());

export const triageActionRow = z.object({
  action_id: z.string(),
  event_id: z.string(),
  action: z.enum(TRIAGE_ACTIONS),
  argument: z.string(),
  reason: z.string(),
  actor: z.string(),
  source: z.enum(TRIAGE_SOURCES),
  delivery_id: z.string(),
  created_at: timestamp,
});
export type TriageActionRow = z.infer<typeof triageActionRow>;

export interface TriageInput {
  event_id: string;
  action: TriageAction;
  /** blame: the sha; mute/unmute: the series id (default: the event's lead series). */
  argument?: string;
  reason?: string;
  actor: string;
  source: TriageSource;
  /** GitHub's X-GitHub-Delivery, or an API Idempotency-Key. */
  delivery_id?: string;
  /** Deterministic id (a redelivery writes the same row); default from source and delivery id, else random. */
  action_id?: string;
}

export type TriageOutcome =
  | { ok: true; duplicate: boolean; action: TriageActionRow; event: BenchEventRow }
  | { ok: false; reason: "unknown_event" | "invalid"; field?: string; detail: string };

/** The deterministic action id of one command of one delivery. */
export function deliveryActionId(source: TriageSource, deliveryId: string, index = 0): string {
  return uuidv5(`${source}:${deliveryId}:${index}`, ACTION_NAMESPACE);
}

/** The series id of an event's lead series (what `mute` without an argument mutes). */
export function leadSeriesId(e: BenchEventRow): string {
  return seriesId({ ...e, metric: e.metric as SeriesKey["metric"] });
}

export async function loadEvent(db: Db, eventId: string): Promise<BenchEventRow | undefined> {
  return db.queryOne(`SELECT * FROM bench_events FINAL WHERE event_id = {id:String} LIMIT 1`, { id: eventId }, benchEventRow);
}

/** Checks an action's shape; the message names the field. */
export function validateTriage(input: TriageInput): { field: string; detail: string } | undefined {
  if (!(TRIAGE_ACTIONS as readonly string[]).includes(input.action)) return { field: "action", detail: `expected one of ${TRIAGE_ACTIONS.join(", ")}` };
  const actor = input.actor?.trim() ?? "";
  if (!actor || actor.length > MAX_ACTOR) return { field: "actor", detail: `expected 1–${MAX_ACTOR} characters naming who triages` };
  if ((input.reason ?? "").length > MAX_REASON) return { field: "reason", detail: `at most ${MAX_REASON} characters` };
  if (input.action === "blame" && !SHA_PREFIX.test(input.argument ?? "")) return { field: "sha", detail: "blame needs a commit sha (7–40 hex characters)" };
  if ((input.action === "mute" || input.action === "unmute") && (input.argument ?? "").length > 500)
    return { field: "series", detail: "at most 500 characters" };
  return undefined;
}

/**
 * Records one triage action and writes the event's effective triage into its row. Idempotent on the action id
 * (and so on a GitHub delivery): a replay records nothing new and answers `duplicate`.
 */
export async function applyTriage(db: Db, input: TriageInput, options: { now?: Date } = {}): Promise<TriageOutcome> {
  const bad = validateTriage(input);
  if (bad) return { ok: false, reason: "invalid", ...bad };
  const event = await loadEvent(db, input.event_id);
  if (!event) return { ok: false, reason: "unknown_event", field: "event_id", detail: `no event ${JSON.stringify(input.event_id)}` };
  const now = options.now ?? new Date();
  const actionId = input.action_id ?? (input.delivery_id ? deliveryActionId(input.source, input.delivery_id) : randomUUID());
  const existing = await db.queryOne(`SELECT * FROM event_triage FINAL WHERE action_id = {id:String} LIMIT 1`, { id: actionId }, triageActionRow);
  let row: TriageActionRow;
  if (existing) row = existing;
  else {
    const argument =
      input.action === "blame"
        ? await fullSha(db, input.argument!.toLowerCase(), event)
        : input.action === "mute" || input.action === "unmute"
          ? input.argument?.trim() || leadSeriesId(event)
          : "";
    row = triageActionRow.parse({
      action_id: actionId,
      event_id: event.event_id,
      action: input.action,
      argument,
      reason: (input.reason ?? "").trim(),
      actor: input.actor.trim(),
      source: input.source,
      delivery_id: input.delivery_id ?? "",
      created_at: now.toISOString(),
    });
    await db.insert("event_triage", [row]);
    if (row.action === "mute" || row.action === "unmute") {
      await db.insert("series_mutes", [
        {
          series_id: row.argument,
          event_id: row.event_id,
          actor: row.actor,
          reason: row.reason,
          source: row.source,
          created_at: row.created_at,
          active: row.action === "mute" ? 1 : 0,
        },
      ]);
    }
  }
  // The row again from the whole log (also after a replay: the first delivery may have stopped before this write).
  const fields = (await triageOf(db, [event.event_id])).get(event.event_id) ?? { ...NO_TRIAGE };
  const next = withTriageEffects({ ...event, ...fields });
  if (!sameTriage(event, next)) {
    const version = new Date(Math.max(now.getTime(), Date.parse(event.updated_at) + 1)).toISOString();
    await db.insert("bench_events", [toRow({ ...next, updated_at: version })]);
  }
  return { ok: true, duplicate: existing !== undefined, action: row, event: next };
}

/** A sha prefix as the full sha: one of the event's code commits, else the one Banterhearts commit it names; else as given. */
async function fullSha(db: Db, prefix: string, event: BenchEventRow): Promise<string> {
  const inRange = event.code_commits.filter((sha) => sha.startsWith(prefix));
  if (inRange.length === 1 || prefix.length === 40) return inRange[0] ?? prefix;
  const known = await db.query<{ sha: string }>(
    `SELECT DISTINCT sha FROM upstream_commits WHERE repo = 'banterhearts' AND startsWith(sha, {prefix:String}) LIMIT 2`,
    { prefix },
  );
  return known.length === 1 ? known[0].sha : prefix;
}

function sameTriage(a: BenchEventRow, b: BenchEventRow): boolean {
  const keys: (keyof BenchEventRow)[] = [...(Object.keys(NO_TRIAGE) as (keyof TriageFields)[]), "blamed_sha", "bisection_status"];
  return keys.every((k) => a[k] === b[k]);
}

/** The effective triage of an event from its log (oldest first): the latest of expected/invalid/ack/reopen, the latest blame. */
export function foldTriage(actions: readonly TriageActionRow[]): TriageFields {
  const out = { ...NO_TRIAGE };
  const ordered = [...actions].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.action_id.localeCompare(b.action_id));
  for (const a of ordered) {
    if (a.action === "expected" || a.action === "invalid" || a.action === "ack") {
      Object.assign(out, { triage: a.action, triage_reason: a.reason, triage_actor: a.actor, triage_source: a.source, triage_at: a.created_at });
    } else if (a.action === "reopen") {
      Object.assign(out, { triage: "", triage_reason: "", triage_actor: "", triage_source: "", triage_at: null });
    } else if (a.action === "blame") {
      Object.assign(out, { blame_sha: a.argument, blame_actor: a.actor, blame_reason: a.reason });
    }
  }
  return triageFields(out);
}

/** The latest effective triage per event (events without any action are absent). */
export async function triageOf(db: Db, eventIds: readonly string[]): Promise<Map<string, TriageFields>> {
  const out = new Map<string, TriageFields>();
  if (eventIds.length === 0) return out;
  const rows = await db.query(
    `SELECT * FROM event_triage FINAL WHERE event_id IN {ids:Array(String)} AND action NOT IN ('mute', 'unmute') ORDER BY created_at, action_id`,
    { ids: [...new Set(eventIds)] },
    triageActionRow,
  );
  const byEvent = new Map<string, TriageActionRow[]>();
  for (const r of rows) byEvent.set(r.event_id, [...(byEvent.get(r.event_id) ?? []), r]);
  for (const [id, actions] of byEvent) out.set(id, foldTriage(actions));
  return out;
}

export const seriesMuteRow = z.object({
  series_id: z.string(),
  event_id: z.string(),
  actor: z.string(),
  reason: z.string(),
  source: z.string(),
  created_at: timestamp,
  active: z.coerce.number().transform((v) => v === 1),
});
export type SeriesMuteRow = z.infer<typeof seriesMuteRow>;

/** Series muted now (series ids, lib/analysis/series.ts). */
export async function mutedSeries(db: Db): Promise<Set<string>> {
  const rows = await listMutes(db);
  return new Set(rows.map((r) => r.series_id));
}

export async function listMutes(db: Db): Promise<SeriesMuteRow[]> {
  return db.query(`SELECT * FROM series_mutes FINAL WHERE active = 1 ORDER BY series_id`, {}, seriesMuteRow);
}

/** The latest triage actions, newest first (the CLI's `triage --list`). */
export async function recentTriage(db: Db, limit = 50): Promise<TriageActionRow[]> {
  return db.query(`SELECT * FROM event_triage FINAL ORDER BY created_at DESC, action_id LIMIT {limit:UInt32}`, { limit }, triageActionRow);
}

/** Actions already recorded for a delivery (source, delivery id). */
export async function actionsOfDelivery(db: Db, source: TriageSource, deliveryId: string): Promise<TriageActionRow[]> {
  return db.query(
    `SELECT * FROM event_triage FINAL WHERE source = {source:String} AND delivery_id = {delivery:String} ORDER BY created_at, action_id`,
    { source, delivery: deliveryId },
    triageActionRow,
  );
}

/** Drops the changes of muted series (before events are grouped). */
export function withoutMuted<T extends { key: SeriesKey }>(changes: readonly T[], muted: ReadonlySet<string>): T[] {
  return muted.size === 0 ? [...changes] : changes.filter((c) => !muted.has(seriesId(c.key)));
}
