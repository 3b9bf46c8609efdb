import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * Benchmark series: one per (benchmark type, model, quant, variant, dataset,
 * device) and metric, its runs ordered by the upstream commit each belongs to
 * (the commit's time; runs of one commit by their own time). Report variants
 * (datasets, devices, backends) are never pooled: each is its own series, as
 * Otava and Bencher keep one series per benchmark and metric.
 */

export const SERIES_METRICS = ["latency_p95_ms", "latency_mean_ms", "tokens_per_sec", "memory_peak_mb", "latency_p99_ms", "accuracy", "loss"] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];

/** Higher is worse for latency, memory and loss; better for throughput and accuracy. */
export const HIGHER_IS_WORSE: Record<SeriesMetric, boolean> = {
  latency_p95_ms: true,
  latency_mean_ms: true,
  tokens_per_sec: false,
  memory_peak_mb: true,
  latency_p99_ms: true,
  accuracy: false,
  loss: true,
};

/**
 * The unit each metric's values are in (a fact unit, lib/episode/fact.ts). Accuracy is stored as the report's
 * fraction (0–1) and read into its series in points (× 100: 0.712 is 71.2 points), so a change of accuracy is said in
 * points; loss is a plain number (the report's own scale).
 */
export const METRIC_UNITS = {
  latency_p95_ms: "ms",
  latency_mean_ms: "ms",
  tokens_per_sec: "tokens/s",
  memory_peak_mb: "mb",
  latency_p99_ms: "ms",
  accuracy: "points",
  loss: "score",
} as const;

/** Quality metrics: their changes are judged by an absolute floor (METRIC_FLOORS), not the relative minChangePct. */
export const QUALITY_METRICS: readonly SeriesMetric[] = ["accuracy", "loss"];

/**
 * The noise floor of a metric in its own unit: a change smaller than this is not reported, however significant. The
 * detector's `minChangePct` is relative, which suits latency but not accuracy: 2 % of 72 points is 1.4 points, so a
 * 1.5-point loss of accuracy would sit at the edge and a 1-point one would be hidden. Quality metrics take an
 * absolute floor instead (docs/change-points.md): 0.3 accuracy points, 0.01 of loss. Metrics not listed use
 * `minChangePct` alone.
 */
export const METRIC_FLOORS: Partial<Record<SeriesMetric, number>> = { accuracy: 0.3, loss: 0.01 };

/** A column's value as its series holds it: accuracy fraction → points. */
export const SERIES_SCALE: Partial<Record<SeriesMetric, number>> = { accuracy: 100 };

export interface SeriesKey {
  benchmark_type: string;
  model: string;
  quant: string;
  variant: string;
  dataset: string;
  device: string;
  metric: SeriesMetric;
}

export interface SeriesPoint {
  run_id: string;
  run_ts: string;
  commit_sha: string;
  /** The commit's time (the run's own when the commit is not known). */
  commit_ts: string;
  value: number;
  /** The bisection request this run answered ('' for a scheduled run). */
  request_id: string;
}

export interface Series {
  key: SeriesKey;
  /**
   * In run order. A series loadSeries read makes its points when they are asked for (views of the read's columns,
   * frozen; see ReadPoint): read them once into a local to loop over them, copy a point field by field rather than
   * spreading it, and assign a new array rather than editing this one.
   */
  points: SeriesPoint[];
}

/**
 * The runs of every benchmark configuration in [from, to), grouped and ordered by ClickHouse (commit time, then
 * run time, then run id), one row per configuration. A year of nightlies over thousands of configurations is
 * millions of runs, so a row carries them column by column and mostly in binary: `run_ts` the runs' times as
 * ISO-8601 text, 24 characters each, back to back; `data` (base64) one RowBinary row of arrays — run ids (16 bytes
 * each, in the order of their text), commit keys (SERIES_COMMITS_SQL names their commits), commit times (epoch ms;
 * NaN when the commit is not known and the run's own time stands for it), then each metric of SERIES_METRICS as
 * Float64 with NaN for NULL (empty when NULL in every run); `request_at`/`request_ids` the runs (1-based) that
 * answered a bisection request. A run id's 16 bytes sort as its text does, so the order is the one of
 * (commit_ts, run_ts, toString(run_id)). Only main's runs: a pull request's runs (`pull_request` > 0, sql/019) are
 * compared with main at their merge base (lib/pull-requests/) and never enter a series.
 *
 * `do_not_merge_across_partitions_select_final`: FINAL collapses a run's rewrites within its day's partition only —
 * a run id is derived from its report, generated_at included (lib/ingest/reports/normalize.ts), so a run never has
 * rows in two partitions — and a partition of one merged part is then read as it is (FINAL over 2.5 million runs
 * took 5–10 s across partitions, 0.1 s so).
 */
export const SERIES_SQL = `
  SELECT benchmark_type, model, quant, variant, dataset, device,
         arrayStringConcat(arrayMap(r -> concat(replaceOne(toString(r.2), ' ', 'T'), 'Z'), runs)) AS run_ts,
         base64Encode(formatRowNoNewline('RowBinary', arrayMap(r -> r.3, runs), arrayMap(r -> r.4, runs), arrayMap(r -> r.5, runs),
           ${SERIES_METRICS.map((m, k) => `if(arrayExists(r -> isNotNull(r.${7 + k}), runs), arrayMap(r -> ifNull(r.${7 + k}, nan), runs), [])`).join(",\n           ")})) AS data,
         arrayFilter((i, r) -> r.6 != '', arrayEnumerate(runs), runs) AS request_at,
         arrayFilter(x -> x != '', arrayMap(r -> r.6, runs)) AS request_ids
    FROM (SELECT benchmark_type, model, quant, variant, dataset, device,
                 arraySort(r -> (r.1, r.2, r.3), groupArray((commit_ts, run_ts, run_id, commit_key, commit_ms, request_id,
                                                             ${SERIES_METRICS.join(", ")}))) AS runs
            FROM (SELECT b.benchmark_type AS benchmark_type, b.model AS model, b.quant AS quant, b.variant AS variant,
                         b.dataset AS dataset, b.device AS device, b.ts AS run_ts, if(c.sha = '', b.ts, c.ts) AS commit_ts,
                         UUIDStringToNum(toString(b.run_id)) AS run_id,
                         toFloat64(bitShiftRight(sipHash64(toString(b.commit_sha), {salt:UInt64}), 11)) AS commit_key,
                         if(c.sha = '', nan, toFloat64(toUnixTimestamp64Milli(c.ts))) AS commit_ms, b.request_id AS request_id,
                         ${SERIES_METRICS.map((m) => `b.${m} AS ${m}`).join(", ")}
                    FROM (SELECT * FROM bench_runs FINAL
                           WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND pull_request = {main:UInt32}) AS b
                    LEFT JOIN (SELECT toString(sha) AS sha, ts FROM upstream_commits FINAL WHERE repo = 'banterhearts') AS c
                      ON toString(b.commit_sha) = c.sha)
           GROUP BY benchmark_type, model, quant, variant, dataset, device)
   ORDER BY benchmark_type, model, quant, variant, dataset, device
   SETTINGS do_not_merge_across_partitions_select_final = 1`;

/**
 * The commits of the runs SERIES_SQL reads, by the key it gives each (53 bits of a salted SipHash of the sha: exact as
 * a JSON number and as a Float64). A superset is harmless, so no FINAL.
 */
export const SERIES_COMMITS_SQL = `
  SELECT DISTINCT toString(commit_sha) AS sha, toFloat64(bitShiftRight(sipHash64(toString(commit_sha), {salt:UInt64}), 11)) AS key
    FROM bench_runs
   WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND pull_request = {main:UInt32}`;

const configurationRow = z.object({
  benchmark_type: z.string(),
  model: z.string(),
  quant: z.string(),
  variant: z.string(),
  dataset: z.string(),
  device: z.string(),
  run_ts: z.string(),
  data: z.string(),
  request_at: z.array(z.number().int()),
  request_ids: z.array(z.string()),
});
type ConfigurationRow = z.infer<typeof configurationRow>;

const commitRow = z.object({ sha: z.string(), key: z.number() });

/** `bench_runs.pull_request` of main's runs (sql/019): every run of a series has it. */
export const MAIN_PULL_REQUEST = 0;

export const seriesId = (k: SeriesKey) => [k.benchmark_type, k.model, k.quant, k.variant, k.dataset, k.device, k.metric].join("|");

/** Two commits of the window share a key: read again with another salt. */
class CommitKeyCollision extends Error {}

/** "2025-01-01T00:00:00.000Z" */
const RUN_TS_CHARS = 24;
const RUN_ID_BYTES = 16;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * The strings one read shares across its configurations: each commit's sha once (runs hold its index), and each
 * commit time as text once.
 */
export class SeriesDictionary {
  readonly shas: string[] = [];
  readonly times: string[] = [];
  private readonly byKey = new Map<number, number>();
  private readonly byTime = new Map<number, number>();
  /** Indexes of keys met in runs before their commit. */
  readonly pending = new Set<number>();

  /** Commits by key (SERIES_COMMITS_SQL); a key already held by another sha is a collision. */
  add(commits: readonly { sha: string; key: number }[]): void {
    for (const { sha, key } of commits) {
      const at = this.byKey.get(key);
      if (at === undefined) {
        this.byKey.set(key, this.shas.push(sha) - 1);
      } else if (this.pending.has(at)) {
        this.shas[at] = sha;
        this.pending.delete(at);
      } else if (this.shas[at] !== sha) {
        throw new CommitKeyCollision(`commits ${this.shas[at]} and ${sha} share a key`);
      }
    }
  }

  commit(key: number): number {
    let at = this.byKey.get(key);
    if (at === undefined) {
      at = this.shas.push("") - 1;
      this.byKey.set(key, at);
      this.pending.add(at);
    }
    return at;
  }

  time(ms: number): number {
    let at = this.byTime.get(ms);
    if (at === undefined) {
      at = this.times.push(new Date(ms).toISOString()) - 1;
      this.byTime.set(ms, at);
    }
    return at;
  }
}

/** One configuration's runs, column by column, shared by its metrics' series. */
class ConfigurationRuns {
  constructor(
    readonly dictionary: SeriesDictionary,
    /** 16 bytes a run. */
    readonly ids: Buffer,
    /** RUN_TS_CHARS a run. */
    readonly runTs: string,
    /** Index into dictionary.shas. */
    readonly commits: Int32Array,
    /** Index into dictionary.times, −1 when the run's own time stands for its commit's. */
    readonly commitTimes: Int32Array,
    readonly requests: ReadonlyMap<number, string> | undefined,
  ) {}
}

/** One metric's values over a configuration's runs (scaled, NaN where the run has none). */
class MetricRuns {
  constructor(
    readonly runs: ConfigurationRuns,
    readonly values: Float64Array,
    /** Runs with a value. */
    readonly count: number,
  ) {}

  /** Its series' points, frozen (a read's series are never edited in place). */
  points(): SeriesPoint[] {
    const points = new Array<SeriesPoint>(this.count);
    if (this.count === this.values.length) for (let i = 0; i < this.count; i++) points[i] = new ReadPoint(this, i);
    else for (let i = 0, k = 0; i < this.values.length; i++) if (!Number.isNaN(this.values[i])) points[k++] = new ReadPoint(this, i);
    return Object.freeze(points) as SeriesPoint[];
  }
}

/**
 * The points of one read's series, made when a series' `points` is asked for and kept for the two series asked for
 * last (a loop over one series' points, or over two side by side, makes them once). A council run over 10,000 series
 * × 1,000 runs so never holds ten million point objects (half a gigabyte even as views), only the columns they view;
 * and points that die young cost next to nothing to make. (Kept in a Map, even for a few series, they lived long
 * enough to be promoted to the old generation: ten times the time and hundreds of megabytes.)
 */
class RecentPoints {
  private columns: [MetricRuns | undefined, MetricRuns | undefined] = [undefined, undefined];
  private points: [SeriesPoint[], SeriesPoint[]] = [[], []];
  private older = 0;

  of(column: MetricRuns): SeriesPoint[] {
    let slot = this.columns[0] === column ? 0 : this.columns[1] === column ? 1 : -1;
    if (slot < 0) {
      slot = this.older;
      this.columns[slot] = column;
      this.points[slot] = column.points();
    }
    this.older = 1 - slot;
    return this.points[slot];
  }
}

/**
 * A read's series: `points` is an own, enumerable accessor (so spreading a series, JSON.stringify and toEqual see it as
 * any series' points) that makes them from the columns when asked (RecentPoints). Assigning `points` replaces it with
 * the array assigned, as on any series.
 */
function columnSeries(key: SeriesKey, column: MetricRuns, recent: RecentPoints): Series {
  const series = { key } as Series;
  Object.defineProperty(series, "points", {
    enumerable: true,
    configurable: true,
    get: () => recent.of(column),
    set: (points: SeriesPoint[]) => Object.defineProperty(series, "points", { value: points, writable: true, enumerable: true, configurable: true }),
  });
  return series;
}

/**
 * A point as loadSeries reads it: a view of run `at` of its configuration, its fields read from the shared columns
 * (a plain object of six fields is 96 bytes, this one 40, and makes no string until one is read). The fields are
 * getters on the prototype: copy a point field by field, never by spreading it (`{ ...p }` would copy none of them);
 * JSON.stringify writes them (toJSON).
 */
class ReadPoint implements SeriesPoint {
  constructor(
    private readonly of: MetricRuns,
    private readonly at: number,
  ) {}

  get value(): number {
    return this.of.values[this.at];
  }

  get run_id(): string {
    const o = this.at * RUN_ID_BYTES;
    const h = this.of.runs.ids.toString("hex", o, o + RUN_ID_BYTES);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  get run_ts(): string {
    return this.of.runs.runTs.slice(this.at * RUN_TS_CHARS, (this.at + 1) * RUN_TS_CHARS);
  }

  get commit_sha(): string {
    const runs = this.of.runs;
    return runs.dictionary.shas[runs.commits[this.at]];
  }

  get commit_ts(): string {
    const runs = this.of.runs;
    const t = runs.commitTimes[this.at];
    return t < 0 ? this.run_ts : runs.dictionary.times[t];
  }

  get request_id(): string {
    return this.of.runs.requests?.get(this.at) ?? "";
  }

  toJSON(): SeriesPoint {
    return { run_id: this.run_id, run_ts: this.run_ts, commit_sha: this.commit_sha, commit_ts: this.commit_ts, value: this.value, request_id: this.request_id };
  }
}

/** Reads RowBinary arrays: a LEB128 length, then the items. */
class RowBinaryReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  private length(): number {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.offset >= this.bytes.length || shift > 28) throw new Error("series data: a truncated or oversized array length");
      const b = this.bytes[this.offset++];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
  }

  private take(bytes: number): Buffer {
    if (this.offset + bytes > this.bytes.length) throw new Error("series data: truncated");
    const part = this.bytes.subarray(this.offset, this.offset + bytes);
    this.offset += bytes;
    return part;
  }

  fixedStrings(width: number): Buffer {
    return Buffer.from(this.take(this.length() * width));
  }

  float64s(): Float64Array {
    const n = this.length();
    const part = this.take(n * 8);
    const out = new Float64Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(part);
    else for (let i = 0; i < n; i++) out[i] = part.readDoubleLE(i * 8);
    return out;
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new Error("series data: trailing bytes");
  }
}

/**
 * One configuration's row of SERIES_SQL as its metrics' series (appended to `out`): a metric's NULL runs are left
 * out of its series (and a non-finite value, as before), a metric with no value at all has no series.
 */
function decodeConfiguration(row: ConfigurationRow, dictionary: SeriesDictionary, recent: RecentPoints, out: Series[]): void {
  const { run_ts: runTs, data, request_at: requestAt, request_ids: requestIds, ...configuration } = row;
  const reader = new RowBinaryReader(Buffer.from(data, "base64"));
  const ids = reader.fixedStrings(RUN_ID_BYTES);
  const n = ids.length / RUN_ID_BYTES;
  const keys = reader.float64s();
  const commitMs = reader.float64s();
  if (keys.length !== n || commitMs.length !== n || runTs.length !== n * RUN_TS_CHARS || requestAt.length !== requestIds.length) {
    throw new Error(`series data: columns of unequal length for ${seriesLabel(configuration)}`);
  }
  const commits = new Int32Array(n);
  const commitTimes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    commits[i] = dictionary.commit(keys[i]);
    commitTimes[i] = Number.isNaN(commitMs[i]) ? -1 : dictionary.time(commitMs[i]);
  }
  const requests = requestAt.length ? new Map(requestAt.map((at, k) => [at - 1, requestIds[k]])) : undefined;
  const runs = new ConfigurationRuns(dictionary, ids, runTs, commits, commitTimes, requests);
  for (const metric of SERIES_METRICS) {
    const values = reader.float64s();
    if (values.length === 0) continue; // NULL in every run
    if (values.length !== n) throw new Error(`series data: ${metric} has ${values.length} values for ${n} runs`);
    const scale = SERIES_SCALE[metric] ?? 1;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const raw = values[i];
      if (Number.isFinite(raw)) {
        values[i] = raw * scale;
        count++;
      } else values[i] = NaN;
    }
    if (count === 0) continue;
    out.push(columnSeries({ ...configuration, metric }, new MetricRuns(runs, values, count), recent));
  }
  reader.end();
}

async function readOnce(db: Db, window: { from: Date; to: Date }, salt: number): Promise<Series[]> {
  const params = { from: window.from, to: window.to, main: MAIN_PULL_REQUEST, salt };
  const dictionary = new SeriesDictionary();
  dictionary.add(await db.query(SERIES_COMMITS_SQL, params, commitRow));
  const series: Series[] = [];
  const recent = new RecentPoints();
  await db.queryEach(SERIES_SQL, params, configurationRow, (row) => decodeConfiguration(row, dictionary, recent, series));
  // Runs written between the two reads may bring commits the first did not see.
  if (dictionary.pending.size) dictionary.add(await db.query(SERIES_COMMITS_SQL, params, commitRow));
  if (dictionary.pending.size) throw new Error(`${dictionary.pending.size} commit(s) of the series read were not found`);
  return series;
}

/**
 * Every series of the window (SERIES_SQL), its points in commit order. A read over 2.5 million runs sends about
 * 110 bytes a run instead of 230 as JSON tuples, and its points are views of shared columns (ReadPoint).
 */
export async function loadSeries(db: Db, window: { from: Date; to: Date }): Promise<Series[]> {
  for (let salt = 0; ; salt++) {
    try {
      return await readOnce(db, window, salt);
    } catch (error) {
      if (!(error instanceof CommitKeyCollision) || salt >= 3) throw error;
    }
  }
}

/** A short human name of a series: "quantization llama-3.1-8b int8 (wikitext, cuda)". */
export function seriesLabel(k: Omit<SeriesKey, "metric">): string {
  const parts = [k.benchmark_type, k.model, k.quant, k.variant && k.variant !== k.quant ? k.variant : ""].filter((p) => p && p !== "unknown");
  const where = [k.dataset, k.device].filter((p) => p && p !== "unknown");
  return `${parts.join(" ")}${where.length ? ` (${where.join(", ")})` : ""}`;
}
