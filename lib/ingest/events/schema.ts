import { z } from "zod";
import { nestedDeeperThan } from "../json-depth";

/**
 * One UI event of POST /api/ingest/events (docs/api.md, "POST /api/ingest/events").
 *
 * Unknown top-level keys are ignored and never stored: the overlay may add
 * fields before Muse knows them, and rejecting a whole batch for that would
 * lose telemetry without protecting anything (only the fields below are
 * written). `now` is injected so the "not in the future" rule is testable.
 */

export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Earlier timestamps are almost always epoch seconds sent as milliseconds (they would land in 1970). */
export const MIN_EVENT_TS_MS = Date.UTC(2000, 0, 1);
export const MAX_LATENCY_MS = 3_600_000;
/** Longer strings are not user agents; the stored value is a reduced family string anyway. */
export const MAX_USER_AGENT_LENGTH = 2048;
export const MAX_METADATA_BYTES = 16 * 1024;
/** Deeper nesting has no use in UI telemetry and only costs recursion in the scrubber. */
export const MAX_METADATA_DEPTH = 32;

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Epoch milliseconds of an ISO 8601 timestamp with a zone; a message when it is not one. */
export function parseIsoWithZone(text: string): number | string {
  const m = ISO_WITH_ZONE.exec(text);
  if (!m) {
    return /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
      ? "ts needs a time zone (Z or ±hh:mm)"
      : "ts must be an ISO 8601 timestamp with a zone or epoch milliseconds";
  }
  const [, year, month, day, hour, minute, second = "0", fraction = "", zulu, sign, offsetHours, offsetMinutes] = m;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  const local = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.slice(0, 3).padEnd(3, "0")));
  // Date.UTC rolls 2026-02-30 over to March: a round trip catches impossible dates.
  const check = new Date(local);
  const valid = check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d && h <= 23 && mi <= 59 && s <= 59;
  if (!valid) return "ts is not a valid calendar date and time";
  if (zulu) return local;
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return "ts has an invalid zone offset";
  return sign === "+" ? local - offsetMs : local + offsetMs;
}

function timestampSchema(now: Date) {
  const latest = now.getTime() + MAX_FUTURE_SKEW_MS;
  return z.unknown().transform((value, ctx): string => {
    let ms: number;
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) {
        ctx.issues.push({ code: "custom", input: value, message: "ts as a number must be integer epoch milliseconds" });
        return z.NEVER;
      }
      ms = value;
    } else if (typeof value === "string") {
      const parsed = parseIsoWithZone(value);
      if (typeof parsed === "string") {
        ctx.issues.push({ code: "custom", input: value, message: parsed });
        return z.NEVER;
      }
      ms = parsed;
    } else {
      ctx.issues.push({
        code: "custom",
        input: value,
        message: value === undefined ? "ts is required" : "ts must be an ISO 8601 string with a zone or epoch milliseconds",
      });
      return z.NEVER;
    }
    if (ms < MIN_EVENT_TS_MS) {
      ctx.issues.push({ code: "custom", input: value, message: "ts is before 2000-01-01 (epoch seconds sent instead of milliseconds?)" });
      return z.NEVER;
    }
    if (ms > latest) {
      ctx.issues.push({ code: "custom", input: value, message: "ts is more than 5 minutes in the future" });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const metadataSchema = z
  .unknown()
  .refine(isPlainObject, { message: "metadata must be a JSON object" })
  .transform((value, ctx) => {
    const object = value as Record<string, unknown>;
    // Depth first: JSON.stringify of a pathologically deep value would overflow the stack.
    if (nestedDeeperThan(object, MAX_METADATA_DEPTH)) {
      ctx.issues.push({ code: "custom", input: value, message: `metadata is nested deeper than ${MAX_METADATA_DEPTH} levels` });
      return z.NEVER;
    }
    const text = JSON.stringify(object);
    if (Buffer.byteLength(text, "utf8") > MAX_METADATA_BYTES) {
      ctx.issues.push({ code: "custom", input: value, message: `metadata is larger than ${MAX_METADATA_BYTES} bytes serialized` });
      return z.NEVER;
    }
    // As it will be stored: plain JSON (a Date becomes its ISO string, undefined and functions go, NaN is null).
    return JSON.parse(text) as Record<string, unknown>;
  });

const required = (field: string, expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`;

export function eventSchema(now: Date) {
  return z.object({
    ts: timestampSchema(now),
    session_id: z.uuid({ error: required("session_id", "a UUID") }).transform((s) => s.toLowerCase()),
    commit_sha: z
      .string({ error: required("commit_sha", "a string") })
      .regex(/^[0-9a-fA-F]{40}$/, { error: "commit_sha must be 40 hex characters" })
      .transform((s) => s.toLowerCase()),
    event_type: z.string({ error: required("event_type", "a string") }).regex(/^[a-z0-9_.]{1,64}$/, { error: "event_type must match [a-z0-9_.]{1,64}" }),
    latency_ms: z
      .number({ error: required("latency_ms", "a number") })
      .int({ error: "latency_ms must be an integer" })
      .min(0, { error: "latency_ms must be at least 0" })
      .max(MAX_LATENCY_MS, { error: `latency_ms must be at most ${MAX_LATENCY_MS}` }),
    // null is treated as absent: the overlay sends it when the browser hides the UA.
    user_agent: z
      .string({ error: "user_agent must be a string" })
      .max(MAX_USER_AGENT_LENGTH, { error: `user_agent is longer than ${MAX_USER_AGENT_LENGTH} characters` })
      .nullish()
      .transform((v) => v ?? undefined),
    metadata: metadataSchema.nullish().transform((v) => v ?? undefined),
  });
}

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Epoch milliseconds of a CANONICAL_ISO string, NaN when it names no instant
 * (2026-02-30, 24:00): the digits read in place, without Date.parse and a
 * toISOString round trip (a third of validation's time on a large batch).
 */
function canonicalIsoMs(ts: string): number {
  const year = digitsAt(ts, 0, 4);
  const month = digitsAt(ts, 5, 7);
  const day = digitsAt(ts, 8, 10);
  const hour = digitsAt(ts, 11, 13);
  const minute = digitsAt(ts, 14, 16);
  const second = digitsAt(ts, 17, 19);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  // Years below 100 would be read by Date.UTC as 19xx; they are before MIN_EVENT_TS_MS anyway.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, digitsAt(ts, 20, 23));
}

/** The number the ASCII digits text[from, to) spell (CANONICAL_ISO has checked they are digits). */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}
const FAST_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const FAST_SHA = /^[0-9a-fA-F]{40}$/;
const FAST_EVENT_TYPE = /^[a-z0-9_.]{1,64}$/;

/**
 * Certainly within MAX_METADATA_DEPTH and MAX_METADATA_BYTES, by one walk of
 * a parsed JSON value (iterative: no stack to overflow) that bounds its
 * serialized size from above (6 bytes per string code unit: a \uXXXX escape;
 * 24 per number). false: over the depth limit, not plain JSON (a Date, a
 * number JSON writes otherwise: NaN, ±Infinity, -0), or too close to the size
 * limit to tell — the schema then decides exactly.
 */
function smallAndShallow(value: Record<string, unknown>): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let bound = 0;
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current === "string") bound += 6 * current.length + 2;
    else if ((typeof current === "number" && Number.isFinite(current) && !Object.is(current, -0)) || typeof current === "boolean" || current === null)
      bound += 24;
    else if (Array.isArray(current)) {
      if (depth >= MAX_METADATA_DEPTH) return false;
      bound += 2 + current.length;
      for (const child of current) pending.push({ value: child, depth: depth + 1 });
    } else if (isPlainObject(current)) {
      if (depth >= MAX_METADATA_DEPTH) return false;
      bound += 2;
      for (const key of Object.keys(current)) {
        bound += 6 * key.length + 4;
        pending.push({ value: current[key], depth: depth + 1 });
      }
    } else return false;
    if (bound > MAX_METADATA_BYTES) return false;
  }
  return true;
}

/**
 * The common case without zod: an event that is valid is returned exactly as
 * `eventSchema(now).parse` returns it (tests/ingest-fast-path.test.ts compares
 * the two on valid and invalid events); anything else — any doubt — is
 * `undefined`, and the caller runs the schema for the messages. The schema
 * stays the definition of what is valid; this only accepts a subset of it,
 * ~10× faster, which is most of validation's share of ingest time.
 */
export function fastValidEvent(item: Record<string, unknown>, latestMs: number): ValidEvent | undefined {
  const { ts, session_id, commit_sha, event_type, latency_ms, user_agent, metadata } = item;
  let ms: number;
  let iso: string | undefined;
  if (typeof ts === "number") {
    if (!Number.isSafeInteger(ts)) return undefined;
    ms = ts;
  } else if (typeof ts === "string") {
    if (CANONICAL_ISO.test(ts)) {
      // What senders send (Date#toISOString), already in the form it is stored in.
      ms = canonicalIsoMs(ts);
      if (Number.isNaN(ms)) return undefined;
      iso = ts;
    } else {
      const parsed = parseIsoWithZone(ts);
      if (typeof parsed === "string") return undefined;
      ms = parsed;
    }
  } else return undefined;
  if (ms < MIN_EVENT_TS_MS || ms > latestMs) return undefined;
  if (typeof session_id !== "string" || !FAST_UUID.test(session_id)) return undefined;
  if (typeof commit_sha !== "string" || !FAST_SHA.test(commit_sha)) return undefined;
  if (typeof event_type !== "string" || !FAST_EVENT_TYPE.test(event_type)) return undefined;
  if (typeof latency_ms !== "number" || !Number.isInteger(latency_ms) || latency_ms < 0 || latency_ms > MAX_LATENCY_MS) return undefined;
  if (user_agent !== undefined && user_agent !== null && (typeof user_agent !== "string" || user_agent.length > MAX_USER_AGENT_LENGTH)) return undefined;
  if (metadata !== undefined && metadata !== null) {
    if (!isPlainObject(metadata) || !smallAndShallow(metadata)) return undefined;
  }
  const event: Partial<Pick<ValidEvent, "user_agent" | "metadata">> & Omit<ValidEvent, "user_agent" | "metadata"> = {
    ts: iso ?? new Date(ms).toISOString(),
    session_id: session_id.toLowerCase(),
    commit_sha: commit_sha.toLowerCase(),
    event_type,
    latency_ms,
  };
  if (Object.hasOwn(item, "user_agent")) event.user_agent = user_agent ?? undefined;
  if (Object.hasOwn(item, "metadata")) event.metadata = (metadata ?? undefined) as ValidEvent["metadata"];
  // As zod: a key absent from the input is absent from the output.
  return event as ValidEvent;
}

/**
 * A validated event, still raw: PII is scrubbed when the row is built
 * (ingest.ts), so nothing can reach ui_events without passing the scrubber.
 * `ts` is normalized to ISO 8601 UTC with milliseconds.
 */
export type ValidEvent = z.output<ReturnType<typeof eventSchema>>;
