/**
 * TCPDBench's scoring, ported from bench/data/tcpd/tcpdbench/analysis/scripts/metrics.py (MIT, The Alan Turing
 * Institute) so that a score computed here equals, to the last bit, the one TCPDBench publishes:
 *
 * - F1 (`f_measure`): index 0 is added to every annotator's set and to the predictions; precision counts the
 *   predictions matched to the union of all annotators' points, recall is the mean over annotators of the share of
 *   their points matched; a match is within `margin` (5) points, each prediction matched at most once (greedily).
 * - Segmentation covering (`covering`, Arbelaez et al. 2010, eq. 8): each annotator's segmentation is covered by the
 *   predicted one (segment length × best Jaccard overlap, over the series length), averaged over annotators.
 * - TCPDBench's summaries (analysis/scripts/summarize.py `clean_cps`) first drop predictions outside 1 … n − 2 and
 *   duplicates: many methods report 0 or n − 1 by default. {@link f1Score} and {@link coverScore} do that first.
 *
 * One detail makes an exact port more than the formulas: the greedy matching walks a Python set, and when two true
 * points compete for one prediction the first one walked claims it. CPython iterates a set of ints in hash-table
 * slot order, not in sorted order ({0, 6, 10} is walked 0, 10, 6), so {@link pythonSetOrder} rebuilds that order.
 *
 * Annotators are taken in the object's key order. TCPD's ids are integer strings, which JavaScript orders
 * ascending — the order of annotations.json for every series — so the sums run in Python's order too.
 */

/** Annotator id → 0-based indices of the change points they marked (each the first point of a new segment). */
export type Annotations = Readonly<Record<string, readonly number[]>>;

/** TCPDBench's margin: a prediction within 5 points of a true change point matches it. */
export const DEFAULT_MARGIN = 5;

// CPython's Objects/setobject.c (3.x): 9 linear probes past the home slot, then the perturbed jump.
const LINEAR_PROBES = 9;
const PERTURB_DIVISOR = 32; // perturb >>= PERTURB_SHIFT (5)
const SET_MINSIZE = 8;

function assertIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be non-negative integers, got ${value}`);
}

/** The slot of `key` in an open-addressing table of `size` slots, probing as CPython's set_add_entry / set_insert_clean do. */
function probeSlot(table: readonly (number | undefined)[], key: number): { slot: number; present: boolean } {
  const size = table.length;
  const mask = size - 1;
  // hash(n) == n for a non-negative int below 2**61 - 1; `& mask` is `% size` for a power of two.
  let i = key % size;
  let perturb = key;
  for (;;) {
    const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
    for (let j = 0; j <= probes; j++) {
      const entry = table[i + j];
      if (entry === undefined) return { slot: i + j, present: false };
      if (entry === key) return { slot: i + j, present: true };
    }
    perturb = Math.floor(perturb / PERTURB_DIVISOR);
    i = (i * 5 + 1 + perturb) % size;
  }
}

/**
 * The order in which CPython 3 iterates a set of non-negative ints built by adding `keys` one at a time to an
 * empty set (what `set(a_list)` and `s.add(x)` do): slot order of its hash table, which grows ×4 once 60 % full.
 */
export function pythonSetOrder(keys: Iterable<number>): number[] {
  let table: (number | undefined)[] = new Array(SET_MINSIZE).fill(undefined);
  let fill = 0;
  for (const key of keys) {
    assertIndex(key, "set elements");
    const { slot, present } = probeSlot(table, key);
    if (present) continue;
    table[slot] = key;
    fill++;
    const mask = table.length - 1;
    if (fill * 5 < mask * 3) continue;
    // set_table_resize(so, used > 50000 ? used * 2 : used * 4): the smallest power of two above that; the old
    // slots re-inserted in slot order.
    const minUsed = fill > 50000 ? fill * 2 : fill * 4;
    let size = SET_MINSIZE;
    while (size <= minUsed) size *= 2;
    const next: (number | undefined)[] = new Array(size).fill(undefined);
    for (const old of table) if (old !== undefined) next[probeSlot(next, old).slot] = old;
    table = next;
  }
  return table.filter((entry): entry is number => entry !== undefined);
}

/**
 * metrics.py `true_positives`: the points of `truth` (walked in the given order) matched to a distinct prediction
 * within `margin`; each takes the nearest free prediction, the smaller one on a tie.
 */
export function truePositives(truth: readonly number[], predictions: Iterable<number>, margin = DEFAULT_MARGIN): number[] {
  const free = new Set(predictions);
  const matched: number[] = [];
  for (const tau of truth) {
    let best: number | undefined;
    let bestDistance = Infinity;
    for (const x of free) {
      const distance = Math.abs(tau - x);
      if (distance > margin) continue;
      if (distance < bestDistance || (distance === bestDistance && best !== undefined && x < best)) {
        best = x;
        bestDistance = distance;
      }
    }
    if (best === undefined) continue;
    matched.push(tau);
    free.delete(best);
  }
  return matched;
}

export interface FMeasure {
  f: number;
  precision: number;
  recall: number;
}

/** metrics.py `f_measure` (with `return_PR`): predictions as given, no cleaning. `alpha` 0.5 is F1. */
export function fMeasure(annotations: Annotations, predictions: readonly number[], margin = DEFAULT_MARGIN, alpha = 0.5): FMeasure {
  const annotators = Object.keys(annotations);
  if (annotators.length === 0) throw new RangeError("f_measure needs at least one annotator");
  for (const p of predictions) assertIndex(p, "predictions");
  // Tks[k] = set(annotations[uid]); Tk.add(0)
  const perAnnotator = annotators.map((id) => pythonSetOrder([...annotations[id], 0]));
  // X = set(predictions); X.add(0) — its order does not matter: the nearest free prediction is taken.
  const x = new Set([...predictions, 0]);
  // Tstar: every Tk's points added in turn, walked in its own set order.
  const union = pythonSetOrder(perAnnotator.flat());
  const k = annotators.length;
  const precision = truePositives(union, x, margin).length / x.size;
  let recallSum = 0;
  for (const tk of perAnnotator) recallSum += truePositives(tk, x, margin).length / tk.length;
  const recall = (1 / k) * recallSum;
  const f = (precision * recall) / (alpha * recall + (1 - alpha) * precision);
  return { f, precision, recall };
}

/** A segment [start, end) of 0-based indices. */
export type Segment = readonly [start: number, end: number];

/**
 * metrics.py `partition_from_cps`: the segments of 0 … nObs − 1 that the change points start. Like the Python, it
 * walks the sorted distinct locations with one cursor, so a location that is never reached (negative, say) stops
 * the later ones from being used.
 */
export function partitionFromCps(locations: readonly number[], nObs: number): Segment[] {
  const cps = [...new Set(locations)].sort((a, b) => a - b);
  const segments: Segment[] = [];
  let cursor = 0;
  let start = 0;
  for (let i = 0; i < nObs; i++) {
    if (cursor < cps.length && i === cps[cursor]) {
      if (i > start) segments.push([start, i]);
      start = i;
      cursor++;
    }
  }
  segments.push([start, nObs]);
  return segments;
}

const length = ([start, end]: Segment) => end - start;

/** metrics.py `overlap`: the Jaccard index of two segments. */
function overlap(a: Segment, b: Segment): number {
  const shared = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  return shared / (length(a) + length(b) - shared);
}

/** metrics.py `cover_single`: how well the segmentation `covering` covers `covered` (both of the same series). */
export function coverSingle(covered: readonly Segment[], covering: readonly Segment[]): number {
  const total = covering.reduce((sum, segment) => sum + length(segment), 0);
  if (total === 0 || total !== covered.reduce((sum, segment) => sum + length(segment), 0)) {
    throw new RangeError("cover_single needs two segmentations of the same non-empty series");
  }
  let cover = 0;
  for (const segment of covered) cover += length(segment) * Math.max(...covering.map((other) => overlap(segment, other)));
  return cover / total;
}

/** metrics.py `covering`: the mean over annotators of their segmentation's cover by the predicted one. No cleaning. */
export function covering(annotations: Annotations, predictions: readonly number[], nObs: number): number {
  const annotators = Object.keys(annotations);
  if (annotators.length === 0) throw new RangeError("covering needs at least one annotator");
  const predicted = partitionFromCps(predictions, nObs);
  let sum = 0;
  for (const id of annotators) sum += coverSingle(partitionFromCps(annotations[id], nObs), predicted);
  return sum / annotators.length;
}

/** summarize.py `clean_cps`: distinct predictions within 1 … nObs − 2, sorted (0 and nObs − 1 mean nothing). */
export function cleanPredictions(predictions: readonly number[], nObs: number): number[] {
  for (const p of predictions) if (!Number.isInteger(p)) throw new RangeError(`predictions must be integers, got ${p}`);
  return [...new Set(predictions.filter((p) => p >= 1 && p < nObs - 1))].sort((a, b) => a - b);
}

/** TCPDBench's F1 of one series: predictions cleaned as its summaries do, then `f_measure` with the margin. */
export function f1Score(annotations: Annotations, predictions: readonly number[], nObs: number, margin = DEFAULT_MARGIN): number {
  return fMeasure(annotations, cleanPredictions(predictions, nObs), margin).f;
}

/** TCPDBench's segmentation cover of one series: predictions cleaned as its summaries do, then `covering`. */
export function coverScore(annotations: Annotations, predictions: readonly number[], nObs: number): number {
  return covering(annotations, cleanPredictions(predictions, nObs), nObs);
}
