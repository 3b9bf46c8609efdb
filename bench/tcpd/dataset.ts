import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * The Turing change-point benchmark (TCPD, van den Burg & Williams 2020) as vendored in bench/data/tcpd (its
 * README gives the protocol, the sources and the licences): the series, their annotations, and TCPDBench's
 * published scores, each JSON file checked with zod on the way in.
 *
 * The comparable set is TCPDBench's univariate default experiment on the files whose MD5 is the one in TCPD's
 * checksums.json: every univariate series but `uk_coal_employ` (TCPDBench leaves it out: it has missing values)
 * and any whose file is absent or differs (`ratner_stock` in the build this was taken from) — 36 series when all
 * files are present. A comparable series has no missing value, so its values are plain numbers.
 */

export const TCPD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../data/tcpd");

/** TCPDBench leaves these out of every univariate table: the only series with missing values. */
export const PROTOCOL_EXCLUDED: Readonly<Record<string, string>> = {
  uk_coal_employ: "left out as TCPDBench does: it has missing values, which most methods cannot take",
};

/**
 * Simulated series with a known change, made to check the annotators. TCPDBench scores them (they are in the
 * score files and in the 36), but the paper's aggregate table (aggregate_scores_wide.tex) leaves them out.
 */
export const QUALITY_CONTROL_SERIES = ["quality_control_1", "quality_control_2", "quality_control_3", "quality_control_4", "quality_control_5"] as const;

export interface TcpdSeries {
  name: string;
  /** The series as in the file (raw, not normalised; evaluateOnTcpd z-scores it as TCPDBench does). */
  values: number[];
  nObs: number;
  /** Annotator id → 0-based indices of the change points they marked (first point of the new segment). */
  annotations: Record<string, number[]>;
}

export interface TcpdExclusion {
  name: string;
  reason: string;
}

export interface TcpdData {
  /** The comparable series, by name. */
  series: TcpdSeries[];
  /** Every other TCPD series, and why it is not compared. */
  excluded: TcpdExclusion[];
}

export interface TcpdOptions {
  /** The vendored folder; bench/data/tcpd by default. */
  dir?: string;
}

const index = z.number().int().nonnegative();
const md5Hex = z.string().regex(/^[0-9a-f]{32}$/);

const seriesInfoFile = z.record(z.string(), z.object({ nObs: z.number().int().positive(), dims: z.number().int().positive(), vendored: z.boolean() }));
const checksumsFile = z.object({ kind: z.literal("md5"), checksums: z.record(z.string(), z.union([md5Hex, z.array(md5Hex).min(1)])) });
const annotationsFile = z.record(z.string(), z.record(z.string(), z.array(index)));
const datasetFile = z.object({
  name: z.string(),
  n_obs: z.number().int().positive(),
  n_dim: z.number().int().positive(),
  time: z.object({ index: z.array(z.number().int()) }),
  series: z.array(z.object({ raw: z.array(z.number().nullable()) })).min(1),
});
const scoreFile = z.record(z.string(), z.record(z.string(), z.number().nullable()));

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The MD5 of a file's bytes, as TCPD's checksums.json holds them. */
export function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** bench/data/tcpd/series.json: every TCPD series' length and dimensions, and whether its file is in the repository. */
export function tcpdSeriesInfo(options: TcpdOptions = {}): Record<string, { nObs: number; dims: number; vendored: boolean }> {
  return readJson(path.join(options.dir ?? TCPD_DIR, "series.json"), seriesInfoFile);
}

/** annotations.json: series → annotator id → 0-based change-point indices. */
export function tcpdAnnotations(options: TcpdOptions = {}): Record<string, Record<string, number[]>> {
  return readJson(path.join(options.dir ?? TCPD_DIR, "annotations.json"), annotationsFile);
}

/** Why one dataset file cannot be compared, or its values when it can. */
function readSeries(file: string, name: string, nObs: number, expected: readonly string[]): { values: number[] } | { reason: string } {
  const bytes = readFileSync(file);
  const actual = md5(bytes);
  if (!expected.includes(actual)) return { reason: `checksum mismatch: MD5 ${actual}, checksums.json has ${expected.join(" or ")}` };
  const parsed = datasetFile.safeParse(JSON.parse(bytes.toString("utf8")));
  if (!parsed.success) return { reason: `not a TCPD dataset file: ${z.prettifyError(parsed.error)}` };
  const data = parsed.data;
  if (data.name !== name || data.n_obs !== nObs || data.n_dim !== 1 || data.series.length !== 1) {
    return { reason: `file says ${data.name}, ${data.n_obs} observations, ${data.n_dim} dimensions; expected ${name}, ${nObs}, 1` };
  }
  const raw = data.series[0].raw;
  if (raw.length !== nObs || data.time.index.some((t, i) => t !== i) || data.time.index.length !== nObs) {
    return { reason: "time index is not 0 … n_obs − 1 (TCPDBench's loader refuses such a series)" };
  }
  const missing = raw.filter((v) => v === null).length;
  if (missing > 0) return { reason: `${missing} missing values` };
  return { values: raw.filter((v): v is number => v !== null) };
}

/**
 * The comparable TCPD series (univariate, checksum verified, not left out by TCPDBench), in name order, and every
 * other series of TCPD with the reason it is left out. A file that should be in the repository and is not throws.
 */
export function loadTcpd(options: TcpdOptions = {}): TcpdData {
  const dir = options.dir ?? TCPD_DIR;
  const info = tcpdSeriesInfo({ dir });
  const { checksums } = readJson(path.join(dir, "checksums.json"), checksumsFile);
  const annotations = tcpdAnnotations({ dir });
  const series: TcpdSeries[] = [];
  const excluded: TcpdExclusion[] = [];
  for (const name of Object.keys(info).sort()) {
    const { nObs, dims, vendored } = info[name];
    const file = path.join(dir, "datasets", `${name}.json`);
    const expected = checksums[`${name}.json`];
    let reason: string | undefined;
    if (dims > 1) reason = `multivariate (${dims} dimensions): TCPDBench scores those separately`;
    else if (PROTOCOL_EXCLUDED[name]) reason = PROTOCOL_EXCLUDED[name];
    else if (!annotations[name]) reason = "no annotations";
    else if (expected === undefined) reason = "not in checksums.json";
    else if (!existsSync(file)) {
      if (vendored) throw new Error(`${file} is missing: it is part of the repository`);
      reason = "not in the repository (TCPD does not redistribute it): put TCPD's build of it in bench/data/tcpd/datasets/";
    } else {
      const read = readSeries(file, name, nObs, typeof expected === "string" ? [expected] : expected);
      if ("reason" in read) reason = read.reason;
      else series.push({ name, values: read.values, nObs, annotations: annotations[name] });
    }
    if (reason) excluded.push({ name, reason });
  }
  return { series, excluded };
}

export type TcpdExperiment = "default" | "oracle";

/** A published score; null where the method failed (or could not run) on the series. */
export interface TcpdScore {
  f1: number | null;
  cover: number | null;
}

/**
 * TCPDBench's published scores (analysis/output/scores/<experiment>_{f1,cover}_scores.json), method → series →
 * {f1, cover}. default: the method's default settings, one run; oracle: the best over its parameter grid, per series.
 */
export function publishedScores(experiment: TcpdExperiment, options: TcpdOptions = {}): Record<string, Record<string, TcpdScore>> {
  const scores = path.join(options.dir ?? TCPD_DIR, "tcpdbench/analysis/output/scores");
  const f1 = readJson(path.join(scores, `${experiment}_f1_scores.json`), scoreFile);
  const cover = readJson(path.join(scores, `${experiment}_cover_scores.json`), scoreFile);
  const byMethod: Record<string, Record<string, TcpdScore>> = {};
  for (const name of Object.keys(f1).sort()) {
    for (const method of Object.keys(f1[name]).sort()) {
      byMethod[method] ??= {};
      byMethod[method][name] = { f1: f1[name][method], cover: cover[name]?.[method] ?? null };
    }
  }
  return byMethod;
}

export interface TcpdMean {
  f1: number;
  cover: number;
  /** Series without a score (failed, timed out, or absent), scored 0 in the means. */
  failures: number;
  /** Series averaged over. */
  series: number;
}

/**
 * The mean F1 and cover of one method over `series`, a missing or failed score counting 0 — TCPDBench's
 * aggregation (analysis/scripts/common.py `filter_scores`, strategies "zero" and "zero_no_coal").
 */
export function meanScores(perSeries: Readonly<Record<string, TcpdScore>>, series: readonly string[]): TcpdMean {
  let f1 = 0;
  let cover = 0;
  let failures = 0;
  for (const name of series) {
    const score = perSeries[name];
    if (score?.f1 == null || score.cover == null) failures++;
    f1 += score?.f1 ?? 0;
    cover += score?.cover ?? 0;
  }
  const n = series.length;
  return { f1: n ? f1 / n : Number.NaN, cover: n ? cover / n : Number.NaN, failures, series: n };
}

/** Every published method's mean over `series` — by default the comparable series of {@link loadTcpd}. */
export function publishedMeans(experiment: TcpdExperiment, series?: readonly string[], options: TcpdOptions = {}): Record<string, TcpdMean> {
  const names = series ?? loadTcpd(options).series.map((s) => s.name);
  const scores = publishedScores(experiment, options);
  return Object.fromEntries(Object.entries(scores).map(([method, perSeries]) => [method, meanScores(perSeries, names)]));
}
