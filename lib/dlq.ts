import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Db } from "./clickhouse/client";
import { TABLES } from "./clickhouse/tables";
import type { Logger } from "./log";

/**
 * The dead-letter store: a write that could not be completed after its
 * retries (ClickHouse down during an ingest, Datadog down during a metrics
 * flush) is kept here, with its error, until `muse dlq replay` completes it.
 *
 * One JSON file per entry in MUSE_DLQ_DIR (default .muse/dlq), written
 * atomically (temp file, fsync, rename). Entries are keyed by what they carry,
 * so spooling the same payload twice leaves one entry, and what they carry is
 * already final: ClickHouse rows with their deterministic ids (ui_events
 * event_id, bench_runs run_id, llm_events event_id), Datadog points with their
 * original timestamps. Replaying twice therefore writes the same keys twice
 * (ReplacingMergeTree collapses them; Datadog keeps the last value for a
 * timestamp). An entry is removed only after its replay succeeded.
 *
 * The store is as durable as the disk under it. On a serverless platform the
 * default directory is read-only, and a writable one (`/tmp`) belongs to one
 * short-lived instance: an entry there is lost with the instance, and nobody
 * replays it. So `dlqDurability` decides whether the routes may queue at all
 * (never on a serverless platform unless MUSE_DLQ_DURABLE=true says the
 * directory is durable storage); without it they answer 503 + Retry-After
 * and the sender keeps its batch.
 *
 * The store is capped (MUSE_DLQ_MAX_ENTRIES, MUSE_DLQ_MAX_BYTES): a new entry
 * that would pass the cap is refused with a DlqFullError naming the cap, and
 * the routes answer 503 saying so. Refreshing an existing entry is always
 * allowed (it does not grow the store by more than its own difference).
 */

export const DEFAULT_DLQ_MAX_ENTRIES = 10_000;
export const DEFAULT_DLQ_MAX_BYTES = 256 * 1024 * 1024;

export class DlqFullError extends Error {
  constructor(
    readonly depth: number,
    readonly bytes: number,
    readonly limit: { maxEntries: number; maxBytes: number },
  ) {
    super(
      `the dead-letter store is full (${depth} entries, ${bytes} bytes; caps MUSE_DLQ_MAX_ENTRIES=${limit.maxEntries}, MUSE_DLQ_MAX_BYTES=${limit.maxBytes}): ` +
        "replay it (`muse dlq replay`) once ClickHouse is back",
    );
    this.name = "DlqFullError";
  }
}

/** The platform variables that mark a serverless instance (its files are per-instance and temporary). */
const SERVERLESS_MARKERS = ["VERCEL", "AWS_LAMBDA_FUNCTION_NAME", "NETLIFY", "K_SERVICE", "FUNCTIONS_WORKER_RUNTIME"] as const;

export type DlqDurability = { durable: true } | { durable: false; reason: string };

/**
 * May a route queue writes in the dead-letter store here? `setting` is
 * MUSE_DLQ_DURABLE: "true" (the directory is durable storage shared by the
 * instances: a mounted volume), "false", or "auto": durable except on a
 * serverless platform (detected from `processEnv`).
 */
export function dlqDurability(setting: "auto" | "true" | "false", processEnv: Record<string, string | undefined> = process.env): DlqDurability {
  if (setting === "true") return { durable: true };
  if (setting === "false") return { durable: false, reason: "MUSE_DLQ_DURABLE=false" };
  const marker = SERVERLESS_MARKERS.find((name) => (processEnv[name] ?? "") !== "");
  if (marker) {
    return {
      durable: false,
      reason: `a serverless instance (${marker} is set): its files are per-instance and temporary; set MUSE_DLQ_DURABLE=true only for durable shared storage`,
    };
  }
  return { durable: true };
}

export const DEFAULT_DLQ_DIR = ".muse/dlq";

const KEY = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const tableName = z.string().refine((t) => Object.hasOwn(TABLES, t), "not one of Muse's tables");

const insertPayload = z.object({
  inserts: z
    .array(
      z.object({
        table: tableName,
        rows: z.array(z.record(z.string(), z.unknown())).min(1),
        deduplication_token: z.string().optional(),
      }),
    )
    .min(1),
});

const seriesPayload = z.object({
  series: z
    .array(
      z.object({
        metric: z.string(),
        type: z.union([z.literal(1), z.literal(3)]),
        points: z.array(z.object({ timestamp: z.number().int(), value: z.number() })).min(1),
        tags: z.array(z.string()),
        unit: z.string().optional(),
        interval: z.number().int().optional(),
      }),
    )
    .min(1),
});

const common = {
  version: z.literal(1),
  id: z.string().regex(KEY),
  /** Where the write came from: a route, `metrics`, an agent. */
  source: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  /** Replays tried and failed so far. */
  attempts: z.number().int().min(0),
  /** The error of the original write, then of the latest failed replay. */
  last_error: z.string(),
};

export const dlqEntry = z.discriminatedUnion("kind", [
  z.object({ ...common, kind: z.literal("clickhouse.insert"), payload: insertPayload }),
  z.object({ ...common, kind: z.literal("datadog.series"), payload: seriesPayload }),
]);
export type DlqEntry = z.infer<typeof dlqEntry>;
export type DlqKind = DlqEntry["kind"];
export type InsertPayload = z.infer<typeof insertPayload>;
export type SeriesPayload = z.infer<typeof seriesPayload>;

export type NewDlqEntry =
  | { kind: "clickhouse.insert"; key: string; source: string; error: unknown; payload: InsertPayload }
  | { kind: "datadog.series"; key: string; source: string; error: unknown; payload: SeriesPayload };

/** How one kind of entry is written for real. */
export type ReplayHandlers = {
  "clickhouse.insert"?: (payload: InsertPayload) => Promise<void>;
  "datadog.series"?: (payload: SeriesPayload) => Promise<void>;
};

export interface ReplayResult {
  replayed: string[];
  failed: { id: string; error: string }[];
  /** Entries no handler was given for (e.g. Datadog entries without DD_API_KEY): left as they are. */
  skipped: { id: string; kind: DlqKind }[];
  depth: number;
}

export interface DeadLetterQueue {
  readonly dir: string;
  /** Stores (or refreshes) an entry; throws when the store cannot be written. */
  add(entry: NewDlqEntry): Promise<DlqEntry>;
  list(): Promise<{ entries: DlqEntry[]; unreadable: { file: string; error: string }[] }>;
  depth(): Promise<number>;
  replay(handlers: ReplayHandlers, options?: { ids?: readonly string[] }): Promise<ReplayResult>;
}

export interface DlqOptions {
  dir?: string;
  log?: Logger;
  /** Called with the number of entries after every add, list and replay (the `muse.dlq.depth` gauge). */
  onDepth?: (depth: number) => void;
  clock?: () => Date;
  /** Cap on the number of entries (default 10 000). */
  maxEntries?: number;
  /** Cap on the bytes of all entries (default 256 MiB). */
  maxBytes?: number;
}

export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}` : String(error);
  return text.split("\n")[0].slice(0, 1_000);
}

/** A filename-safe key from any identity (`prefix-<32 hex>`). */
export function dlqKey(prefix: string, identity: string): string {
  return `${prefix}-${createHash("sha256").update(identity).digest("hex").slice(0, 32)}`;
}

// The store's directory is runtime data, never part of a deployment: the
// turbopackIgnore comments keep Next's file tracing from pulling the whole
// project into the ingest functions.
export function createDlq(options: DlqOptions = {}): DeadLetterQueue {
  const dir = path.resolve(/*turbopackIgnore: true*/ options.dir ?? DEFAULT_DLQ_DIR);
  const now = options.clock ?? (() => new Date());
  const fileOf = (id: string) => path.join(/*turbopackIgnore: true*/ dir, `${id}.json`);

  async function writeAtomic(file: string, text: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const tmp = path.join(/*turbopackIgnore: true*/ dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, file);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    // The rename itself survives a crash once the directory is synced (not every platform allows it).
    try {
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      /* best effort */
    }
  }

  async function read(id: string): Promise<DlqEntry | undefined> {
    let text: string;
    try {
      text = await readFile(fileOf(id), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return dlqEntry.parse(JSON.parse(text));
  }

  async function entryFiles(): Promise<string[]> {
    try {
      return (await readdir(dir)).filter((f) => f.endsWith(".json") && !f.startsWith("."));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  /** Temp files older than an hour were left by a crash mid-write: nothing refers to them. */
  async function sweepTemp(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((f) => f.startsWith(".tmp-"));
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(/*turbopackIgnore: true*/ dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now().getTime() - info.mtimeMs > 3_600_000) await rm(file, { force: true });
    }
  }

  async function depth(): Promise<number> {
    return (await entryFiles()).length;
  }

  const maxEntries = options.maxEntries ?? DEFAULT_DLQ_MAX_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_DLQ_MAX_BYTES;

  /** Refuses a new entry that would take the store past its caps. */
  async function ensureRoom(input: NewDlqEntry): Promise<void> {
    const files = await entryFiles();
    let bytes = 0;
    for (const file of files) bytes += (await stat(path.join(/*turbopackIgnore: true*/ dir, file)).catch(() => undefined))?.size ?? 0;
    const incoming = Buffer.byteLength(JSON.stringify(input.payload));
    if (files.length + 1 > maxEntries || bytes + incoming > maxBytes) {
      options.onDepth?.(files.length);
      options.log?.error("dead-letter store full: write refused", { dlq_depth: files.length, dlq_bytes: bytes, max_entries: maxEntries, max_bytes: maxBytes });
      throw new DlqFullError(files.length, bytes, { maxEntries, maxBytes });
    }
  }

  async function reportDepth(): Promise<number> {
    const n = await depth();
    options.onDepth?.(n);
    return n;
  }

  async function list() {
    await sweepTemp();
    const entries: DlqEntry[] = [];
    const unreadable: { file: string; error: string }[] = [];
    for (const file of await entryFiles()) {
      try {
        entries.push(dlqEntry.parse(JSON.parse(await readFile(path.join(/*turbopackIgnore: true*/ dir, file), "utf8"))));
      } catch (error) {
        unreadable.push({ file, error: errorText(error) });
      }
    }
    entries.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    options.onDepth?.(entries.length + unreadable.length);
    return { entries, unreadable };
  }

  return {
    dir,
    depth,
    list,

    async add(input) {
      if (!KEY.test(input.key)) throw new Error(`invalid dead-letter key ${JSON.stringify(input.key)}`);
      const at = now().toISOString();
      const previous = await read(input.key).catch(() => undefined);
      if (!previous) await ensureRoom(input);
      const entry = dlqEntry.parse({
        version: 1,
        id: input.key,
        kind: input.kind,
        source: input.source,
        created_at: previous?.created_at ?? at,
        updated_at: at,
        attempts: previous?.attempts ?? 0,
        last_error: errorText(input.error),
        payload: input.payload,
      });
      await writeAtomic(fileOf(entry.id), `${JSON.stringify(entry)}\n`);
      const n = await reportDepth();
      options.log?.warn("write queued in the dead-letter store", {
        dlq_id: entry.id,
        kind: entry.kind,
        source: entry.source,
        error: entry.last_error,
        dlq_depth: n,
      });
      return entry;
    },

    async replay(handlers, replayOptions = {}) {
      const { entries } = await list();
      const wanted = replayOptions.ids ? new Set(replayOptions.ids) : undefined;
      const result: ReplayResult = { replayed: [], failed: [], skipped: [], depth: 0 };
      for (const entry of entries) {
        if (wanted && !wanted.has(entry.id)) continue;
        const handler = handlers[entry.kind] as ((payload: unknown) => Promise<void>) | undefined;
        if (!handler) {
          result.skipped.push({ id: entry.id, kind: entry.kind });
          continue;
        }
        try {
          await handler(entry.payload);
        } catch (error) {
          const failed = { ...entry, attempts: entry.attempts + 1, last_error: errorText(error), updated_at: now().toISOString() };
          await writeAtomic(fileOf(entry.id), `${JSON.stringify(failed)}\n`);
          result.failed.push({ id: entry.id, error: failed.last_error });
          options.log?.warn("dead-letter replay failed; the entry stays", {
            dlq_id: entry.id,
            kind: entry.kind,
            attempts: failed.attempts,
            error: failed.last_error,
          });
          continue;
        }
        // Only now, after the write succeeded, does the entry go.
        await rm(fileOf(entry.id), { force: true });
        result.replayed.push(entry.id);
        options.log?.info("dead-letter entry replayed", { dlq_id: entry.id, kind: entry.kind });
      }
      result.depth = await reportDepth();
      return result;
    },
  };
}

/** The store as the routes configure it from the environment, or why they may not queue here. */
export function routeDlq(
  env: { MUSE_DLQ_DIR: string; MUSE_DLQ_DURABLE: "auto" | "true" | "false"; MUSE_DLQ_MAX_ENTRIES: number; MUSE_DLQ_MAX_BYTES: number },
  options: Pick<DlqOptions, "log" | "onDepth"> & { processEnv?: Record<string, string | undefined> } = {},
): { dlq: DeadLetterQueue } | { dlq: undefined; reason: string } {
  const durability = dlqDurability(env.MUSE_DLQ_DURABLE, options.processEnv);
  if (!durability.durable) return { dlq: undefined, reason: durability.reason };
  return {
    dlq: createDlq({
      dir: env.MUSE_DLQ_DIR,
      log: options.log,
      onDepth: options.onDepth,
      maxEntries: env.MUSE_DLQ_MAX_ENTRIES,
      maxBytes: env.MUSE_DLQ_MAX_BYTES,
    }),
  };
}

/** Replays `clickhouse.insert` entries: the same rows, in order, with the same deduplication tokens. */
export function clickHouseReplayer(db: Db): (payload: InsertPayload) => Promise<void> {
  return async (payload) => {
    for (const insert of payload.inserts) {
      await db.insert(insert.table, insert.rows, insert.deduplication_token ? { deduplicationToken: insert.deduplication_token } : {});
    }
  };
}
