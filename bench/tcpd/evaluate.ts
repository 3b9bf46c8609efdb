import { loadTcpd, type TcpdData, type TcpdExclusion } from "./dataset";
import { cleanPredictions, coverScore, f1Score } from "./metrics";
import { messageOf } from "../../lib/error-message";

/**
 * A change-point detector on TCPD, scored as TCPDBench scores the published methods (default experiment: one
 * setting for every series).
 *
 * - Each series goes to the detector z-scored, as TCPDBench's loaders hand it to every method (R `scale()`,
 *   Python `(x − mean) / sd` with ddof = 1); `normalise: false` passes the raw values instead.
 * - The comparable series have no missing values (loadTcpd leaves out the one TCPD series that has some,
 *   uk_coal_employ, as TCPDBench does), so the detector always gets plain numbers.
 * - The detector returns 0-based indices, each the first point of a new segment, as the annotators mark them.
 *   Predictions at 0, at n − 1 or outside the series are dropped, duplicates merged (summarize.py `clean_cps`).
 * - A detector that throws on a series scores 0 there, as a failed method does in TCPDBench's tables; the error
 *   is kept in the result.
 */

/** values → 0-based indices of change points, each the first point of the new segment. */
export type Detector = (values: number[]) => number[];

export interface TcpdSeriesResult {
  name: string;
  nObs: number;
  f1: number;
  cover: number;
  /** Change points scored: the detector's, cleaned (distinct, within 1 … n − 2). */
  predicted: number;
  locations: number[];
  /** The detector's error, when it threw (then f1 = cover = 0). */
  error?: string;
}

export interface TcpdEvaluation {
  series: TcpdSeriesResult[];
  /** Means over `series`, failures counting 0. */
  mean: { f1: number; cover: number };
  failures: number;
  /** TCPD series not evaluated, and why (from loadTcpd). */
  excluded: TcpdExclusion[];
}

export interface EvaluateOptions {
  /** z-score each series first, as TCPDBench does (default true). */
  normalise?: boolean;
  /** The series to use; loadTcpd() by default. */
  data?: TcpdData;
}

/** (x − mean) / sample standard deviation (ddof = 1), as TCPDBench's loaders; a constant series is only centred. */
export function zNormalise(values: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return [];
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return values.map((v) => (sd > 0 ? (v - mean) / sd : v - mean));
}

export function evaluateOnTcpd(detect: Detector, options: EvaluateOptions = {}): TcpdEvaluation {
  const data = options.data ?? loadTcpd();
  const normalise = options.normalise ?? true;
  const series = data.series.map(({ name, values, nObs, annotations }): TcpdSeriesResult => {
    try {
      const locations = cleanPredictions(detect(normalise ? zNormalise(values) : [...values]), nObs);
      return {
        name,
        nObs,
        f1: f1Score(annotations, locations, nObs),
        cover: coverScore(annotations, locations, nObs),
        predicted: locations.length,
        locations,
      };
    } catch (error) {
      return { name, nObs, f1: 0, cover: 0, predicted: 0, locations: [], error: messageOf(error) };
    }
  });
  const n = series.length;
  return {
    series,
    mean: {
      f1: n ? series.reduce((sum, s) => sum + s.f1, 0) / n : Number.NaN,
      cover: n ? series.reduce((sum, s) => sum + s.cover, 0) / n : Number.NaN,
    },
    failures: series.filter((s) => s.error !== undefined).length,
    excluded: data.excluded,
  };
}
