import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * What Muse last told each channel about an event (sql/015): the GitHub issue
 * of a regression event (`event_issues`) and the fingerprint of the last
 * Slack message or Datadog event about it (`event_notifications`). Both are
 * ReplacingMergeTree tables read FINAL; a write is a newer version.
 */

const timestamp = z.string().transform((v) => new Date(v.includes("T") ? v : `${v.replace(" ", "T")}Z`).toISOString());

export const ISSUE_STATES = ["open", "bisecting", "partly_fixed", "fixed", "withdrawn"] as const;
export type IssueState = (typeof ISSUE_STATES)[number];

export const eventIssueRow = z.object({
  event_id: z.string(),
  issue_number: z.number().int().min(1),
  state: z.enum(ISSUE_STATES),
  body_sha256: z.string(),
  labels: z.array(z.string()),
  updated_at: timestamp,
});
export type EventIssueRow = z.infer<typeof eventIssueRow>;

export async function loadEventIssues(db: Db, eventIds: readonly string[]): Promise<Map<string, EventIssueRow>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db.query(
    `SELECT event_id, issue_number, state, body_sha256, labels, updated_at FROM event_issues FINAL WHERE event_id IN {ids:Array(String)}`,
    { ids: [...eventIds] },
    eventIssueRow,
  );
  return new Map(rows.map((r) => [r.event_id, r]));
}

export async function saveEventIssue(db: Db, row: Omit<EventIssueRow, "updated_at"> & { updated_at: Date }): Promise<void> {
  await db.insert("event_issues", [{ ...row, updated_at: row.updated_at.toISOString() }]);
}

export const NOTIFICATION_CHANNELS = ["slack", "datadog"] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

const notificationRow = z.object({ event_id: z.string(), fingerprint: z.string() });

/** event_id → the fingerprint of the last notice sent on this channel. */
export async function loadNotified(db: Db, channel: NotificationChannel, eventIds: readonly string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db.query(
    `SELECT event_id, fingerprint FROM event_notifications FINAL WHERE channel = {channel:String} AND event_id IN {ids:Array(String)}`,
    { channel, ids: [...eventIds] },
    notificationRow,
  );
  return new Map(rows.map((r) => [r.event_id, r.fingerprint]));
}

export async function saveNotified(db: Db, channel: NotificationChannel, eventId: string, fingerprint: string, now: Date): Promise<void> {
  await db.insert("event_notifications", [{ channel, event_id: eventId, fingerprint, sent_at: now.toISOString() }]);
}
