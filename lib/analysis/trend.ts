import { CholeskyDecomposition, Matrix } from "ml-matrix";

/**
 * Piecewise-linear trends: a level that may jump at steps and whose slope may change at kinks, fitted by least
 * squares. The detector (changepoints.ts) uses it to tell a series that creeps — and maybe stops creeping, or creeps
 * faster from some run on — from one that steps: "p95 creeping up 0.4 %/run since c0ffee1, flat again since
 * d00dfee" is two kinks, not a staircase of steps.
 *
 * The model, for runs i = 0 … n − 1:
 *
 *     x_i = a + Σ_steps c_s·[i ≥ s] + Σ_kinks b_k·max(0, i − k) + noise
 *
 * A kink k is the run where the slope changes (the vertex); a kink at 0 is a slope from the first run on (a plain
 * line). The line is continuous at a kink; a jump there is a step of its own.
 *
 * Kinks are chosen by forward selection: each round adds the kink that lowers the residual sum of squares the most,
 * while that drop exceeds the penalty a kink costs (its slope and its location). The drop for every candidate comes
 * in O(n·p²) for a design of p columns: the residual is orthogonal to the design, so the drop is
 * (r·h)² / (|h|² − g·(DᵀD)⁻¹·g) with g = Dᵀh, and every inner product with a hinge max(0, i − k) is read off
 * suffix sums of the column and of i times it.
 */

export interface PiecewiseFit {
  /** Coefficients in design order: intercept, one per step, one per kink. */
  beta: number[];
  /** (DᵀD)⁻¹: times the noise variance (inflated for dependence), the coefficients' covariance. */
  inverse: Matrix;
  rss: number;
  /** The fitted trend without the steps and intercept: Σ_kinks b_k·max(0, i − k). */
  slopePart: Float64Array;
  fitted: Float64Array;
  /** The design's columns, in the order of beta. */
  columns: Float64Array[];
}

function designColumns(n: number, steps: readonly number[], kinks: readonly number[]): Float64Array[] {
  const columns = [new Float64Array(n).fill(1)];
  for (const s of steps) columns.push(Float64Array.from({ length: n }, (_, i) => (i >= s ? 1 : 0)));
  for (const k of kinks) columns.push(Float64Array.from({ length: n }, (_, i) => (i > k ? i - k : 0)));
  return columns;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Least squares of x on the design; undefined when the design is singular (two columns alike). */
export function fitPiecewise(x: ArrayLike<number>, steps: readonly number[], kinks: readonly number[]): PiecewiseFit | undefined {
  const n = x.length;
  const columns = designColumns(n, steps, kinks);
  const p = columns.length;
  const gram = Matrix.zeros(p, p);
  for (let a = 0; a < p; a++) for (let b = a; b < p; b++) gram.set(a, b, dot(columns[a], columns[b])).set(b, a, gram.get(a, b));
  const cholesky = new CholeskyDecomposition(gram);
  if (!cholesky.isPositiveDefinite()) return undefined;
  const beta = cholesky.solve(Matrix.columnVector(columns.map((c) => dot(c, x)))).getColumn(0);
  const inverse = cholesky.solve(Matrix.eye(p));
  const fitted = new Float64Array(n);
  const slopePart = new Float64Array(n);
  columns.forEach((c, j) => {
    for (let i = 0; i < n; i++) fitted[i] += beta[j] * c[i];
    if (j > steps.length) for (let i = 0; i < n; i++) slopePart[i] += beta[j] * c[i];
  });
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (x[i] - fitted[i]) ** 2;
  return { beta, inverse, rss, slopePart, fitted, columns };
}

/** Σ_{i>k} (i − k)·v_i for every k, from suffix sums of v and of i·v. */
function hingeProducts(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  let [sum, weighted] = [0, 0];
  for (let k = n - 1; k >= 0; k--) {
    out[k] = weighted - k * sum;
    sum += v[k];
    weighted += k * v[k];
  }
  return out;
}

export interface KinkSearch {
  /** A kink may sit at run k (k > 0) only where this is 1 (a change between commits, not within one). */
  allowed: ArrayLike<number>;
  /** Runs required on each side of a kink, and between two kinks. */
  minRuns: number;
  /** Residual-sum-of-squares drop one kink must buy (the penalty of its two parameters). */
  penalty: number;
  /** At most this many kinks. */
  maxKinks: number;
}

/**
 * For every run the search allows in [from, to], how much a kink there would lower the residual sum of squares of the
 * fit with `kinks` (NaN where no kink may sit); undefined when that fit is singular.
 */
function kinkDrops(
  x: ArrayLike<number>,
  steps: readonly number[],
  kinks: readonly number[],
  search: KinkSearch,
  from: number,
  to: number,
): Float64Array | undefined {
  const n = x.length;
  const fit = fitPiecewise(x, steps, kinks);
  if (!fit) return undefined;
  const residual = Float64Array.from(x, (v, i) => v - fit.fitted[i]);
  const products = fit.columns.map(hingeProducts);
  const residualProducts = hingeProducts(residual);
  const g = new Float64Array(products.length);
  const drops = new Float64Array(n).fill(NaN);
  for (let k = Math.max(0, from); k <= Math.min(to, n - 1 - search.minRuns); k++) {
    if (k > 0 && !(search.allowed[k] && k >= search.minRuns)) continue;
    if (kinks.some((c) => Math.abs(c - k) < search.minRuns)) continue;
    const m = n - 1 - k;
    const hh = (m * (m + 1) * (2 * m + 1)) / 6;
    for (let j = 0; j < g.length; j++) g[j] = products[j][k];
    let projected = 0;
    for (let a = 0; a < g.length; a++) for (let b = 0; b < g.length; b++) projected += g[a] * fit.inverse.get(a, b) * g[b];
    const den = hh - projected;
    if (!(den > 1e-9 * hh)) continue;
    drops[k] = residualProducts[k] ** 2 / den;
  }
  return drops;
}

/**
 * The kink, among the runs `search` allows in [from, to], that lowers the residual sum of squares of the fit with
 * `kinks` the most, and by how much.
 */
function bestKink(x: ArrayLike<number>, steps: readonly number[], kinks: readonly number[], search: KinkSearch, from: number, to: number) {
  const drops = kinkDrops(x, steps, kinks, search, from, to);
  let best: { kink: number; drop: number } | undefined;
  if (drops) for (let k = 0; k < drops.length; k++) if (drops[k] > (best?.drop ?? -Infinity)) best = { kink: k, drop: drops[k] };
  return best;
}

/**
 * Where kink j of `kinks` could sit: the first and last run between its neighbours at which the fit, the other kinks
 * held, is within `slack` of its best residual sum of squares (a profile-likelihood set for the kink's location; with
 * slack χ²₁ at 95 % times the noise variance, a 95 % set). A drift that starts sharply has a narrow set; one that
 * eases in, or a smooth curve read as a line with a bend, a wide one.
 */
export function kinkLocationSet(
  x: ArrayLike<number>,
  steps: readonly number[],
  kinks: readonly number[],
  j: number,
  search: KinkSearch,
  slack: number,
): [number, number] {
  const kink = kinks[j];
  if (kink === 0) return [0, 0];
  const others = kinks.filter((_, i) => i !== j);
  const [from, to] = [j > 0 ? kinks[j - 1] + 1 : 1, j + 1 < kinks.length ? kinks[j + 1] - 1 : x.length - 1];
  const drops = kinkDrops(x, steps, others, search, from, to);
  if (!drops) return [kink, kink];
  let best = -Infinity;
  for (let k = from; k <= to; k++) if (drops[k] > best) best = drops[k];
  let [first, last] = [kink, kink];
  for (let k = from; k <= to; k++) {
    if (!(drops[k] >= best - slack)) continue;
    first = Math.min(first, k);
    last = Math.max(last, k);
  }
  return [first, last];
}

/**
 * Forward selection of kinks given the steps: returns them sorted. After each addition every kink moves to its best
 * run between its neighbours (a first kink placed alone sits between two real ones). Deterministic: ties go to the
 * earliest run.
 */
export function selectKinks(x: ArrayLike<number>, steps: readonly number[], search: KinkSearch): number[] {
  const n = x.length;
  let kinks: number[] = [];
  while (kinks.length < search.maxKinks) {
    const best = bestKink(x, steps, kinks, search, 0, n - 1);
    // A kink at 0 is one parameter (no location); any other, two.
    if (!best || !(best.drop > search.penalty * (best.kink === 0 ? 1 : 2))) break;
    kinks = [...kinks, best.kink].sort((a, b) => a - b);
    for (let round = 0; round < 2 * kinks.length; round++) {
      let moved = false;
      for (let j = 0; j < kinks.length; j++) {
        if (kinks[j] === 0) continue;
        const others = kinks.filter((_, i) => i !== j);
        const [from, to] = [j > 0 ? kinks[j - 1] + 1 : 1, j + 1 < kinks.length ? kinks[j + 1] - 1 : n - 1];
        const placed = bestKink(x, steps, others, search, from, to);
        if (placed && placed.kink !== kinks[j]) [kinks[j], moved] = [placed.kink, true];
      }
      if (!moved) break;
    }
  }
  return kinks;
}
