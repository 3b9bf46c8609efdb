/**
 * Writes lib/analysis/scan-null-table.ts: the null distribution of the change-point
 * scan's smallest interval p-value (lib/analysis/scan-null.ts), simulated on series of
 * independent noise with no change — Gaussian, and Student-t with 3 degrees of freedom —
 * for each series length, through the detector's own path (outliers, clipping, noise
 * estimate, two-pass seeded scan), with the mean share of runs the level scan clips
 * under each noise (how the detector tells which null a series' tails are closer to).
 * Deterministic: each length has its own seed, so the table does not depend on how the
 * lengths are shared among the worker processes (one per core). A few minutes on 2 cores.
 *
 *   npx tsx scripts/calibrate-scan.ts           the Gaussian and Student-t tables
 *   npx tsx scripts/calibrate-scan.ts --prior   lib/analysis/scan-null-prior-table.ts: the level scan of short
 *                                               series read through their family's φ (PhiPrior), simulated on
 *                                               Gaussian AR(1) noise at each of PRIOR_PHIS and on Student-t noise
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_DETECTOR_OPTIONS, PHI_PRIOR_RUNS, scanNullSample } from "../lib/analysis/changepoints";
import { gaussian, seededRandom } from "../lib/seed/random";

const SEED = 20261206;
const LENGTHS = [6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 170, 230, 300, 400, 550, 750, 1000, 1400, 2000];
const PROBABILITIES = [0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];

/** Fewer replicates for long series, whose tail is the steadiest (many nearly independent intervals) and the costliest to simulate. */
function replicates(n: number): number {
  if (n <= 100) return 20_000;
  if (n <= 300) return 5_000;
  if (n <= 1000) return 2_000;
  return 1_000;
}

const STATISTICS = ["level", "spread"] as const;
const FAMILIES = ["gaussian", "t3"] as const;
/**
 * The family φ the prior-read null is simulated at, on Gaussian AR(1) noise — and at φ 0 on Student-t noise, the
 * heavy-tailed null of a prior-read series (families with heavy tails read a φ near 0). The prior is used below
 * 4 × PHI_PRIOR_RUNS runs.
 */
const PRIOR_PHIS = [0, 0.25, 0.5, 0.75];
const PRIOR_LENGTHS = LENGTHS.filter((n) => n <= 300);
type Job = { family: (typeof FAMILIES)[number] | "ar1" | "t3-prior"; statistic: (typeof STATISTICS)[number]; n: number; phi?: number };

/** One noise value of the family: standard Gaussian, or Student-t with 3 df (a Gaussian over √(χ²₃/3)). */
function noise(rng: () => number, family: (typeof FAMILIES)[number]): number {
  const z = gaussian(rng);
  if (family === "gaussian") return z;
  let chi = 0;
  for (let k = 0; k < 3; k++) chi += gaussian(rng) ** 2;
  return z / Math.sqrt(chi / 3);
}

/** A stationary Gaussian AR(1) series of unit variance. */
function ar1(rng: () => number, n: number, phi: number): number[] {
  let state = gaussian(rng);
  const innovation = Math.sqrt(1 - phi * phi);
  return Array.from({ length: n }, (_, i) => (i === 0 ? state : (state = phi * state + innovation * gaussian(rng))));
}

/**
 * T's quantiles at PROBABILITIES for a scanned series of n values (the spread scan of n + 1 runs has n
 * differences), and the mean share of runs clipped.
 */
function row({ family, statistic, n, phi }: Job): { quantiles: number[]; clipShare: number } {
  if (family === "ar1" || family === "t3-prior") return priorRow(n, phi!, family);
  const rng = seededRandom(SEED + n + (statistic === "spread" ? 1_000_000 : 0) + (family === "t3" ? 2_000_000 : 0));
  const runs = statistic === "spread" ? n + 1 : n;
  const b = replicates(n);
  const t = new Float64Array(b);
  let clipped = 0;
  for (let k = 0; k < b; k++) {
    const sample = scanNullSample(
      Array.from({ length: runs }, () => noise(rng, family)),
      DEFAULT_DETECTOR_OPTIONS.minRunsEachSide,
      statistic,
    );
    t[k] = sample.t;
    clipped += sample.clipShare;
  }
  return { quantiles: quantilesOf(t), clipShare: clipped / b };
}

/** The simulated T's quantiles at PROBABILITIES (sorts `t`). */
function quantilesOf(t: Float64Array): number[] {
  t.sort();
  return PROBABILITIES.map((p) => t[Math.max(0, Math.floor(p * t.length) - 1)]);
}

/** T's quantiles for the level scan of n runs of AR(1) noise at φ (or Student-t noise), read through a family prior at that φ. */
function priorRow(n: number, phi: number, family: "ar1" | "t3-prior"): { quantiles: number[]; clipShare: number } {
  const rng = seededRandom(SEED + n + (family === "ar1" ? 3_000_000 : 4_000_000) + Math.round(phi * 100) * 10_000);
  const b = replicates(n);
  const t = new Float64Array(b);
  const series = () => (family === "ar1" ? ar1(rng, n, phi) : Array.from({ length: n }, () => noise(rng, "t3")));
  for (let k = 0; k < b; k++) t[k] = scanNullSample(series(), DEFAULT_DETECTOR_OPTIONS.minRunsEachSide, "level", { phi, runs: PHI_PRIOR_RUNS }).t;
  return { quantiles: quantilesOf(t), clipShare: NaN };
}

const jobsArgument = process.argv.indexOf("--jobs");
if (jobsArgument > 0) {
  for (const job of JSON.parse(process.argv[jobsArgument + 1]) as Job[]) process.send!({ ...job, ...row(job) });
} else {
  const threads = Math.max(1, Math.min(os.availableParallelism(), 4));
  const prior = process.argv.includes("--prior");
  const jobs: Job[] = prior
    ? [
        ...PRIOR_PHIS.flatMap((phi) => PRIOR_LENGTHS.map((n) => ({ family: "ar1" as const, statistic: "level" as const, n, phi }))),
        ...PRIOR_LENGTHS.map((n) => ({ family: "t3-prior" as const, statistic: "level" as const, n, phi: 0 })),
      ]
    : FAMILIES.flatMap((family) => STATISTICS.flatMap((statistic) => LENGTHS.map((n) => ({ family, statistic, n }))));
  // Longest first, dealt round-robin, so the threads finish together.
  const order = jobs.sort((a, b) => b.n * replicates(b.n) - a.n * replicates(a.n));
  const rows = new Map<string, number[]>();
  const shares = new Map<string, number>();
  await Promise.all(
    Array.from({ length: threads }, (_, w) => {
      const jobs = order.filter((_, i) => i % threads === w);
      const worker = fork(fileURLToPath(import.meta.url), ["--jobs", JSON.stringify(jobs)], { execArgv: ["--import", "tsx"] });
      worker.on("message", (m: Job & { quantiles: number[]; clipShare: number }) => {
        rows.set(`${m.family}:${m.statistic}:${m.n}${m.phi === undefined ? "" : `:${m.phi}`}`, m.quantiles);
        if (m.statistic === "level") shares.set(`${m.family}:${m.n}`, m.clipShare);
        process.stderr.write(
          `${m.family}${m.phi === undefined ? "" : ` φ ${m.phi}`} ${m.statistic}, n = ${m.n}: ${replicates(m.n)} replicates, T at 1 % = ${m.quantiles[5].toExponential(3)}\n`,
        );
      });
      return new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
      });
    }),
  );
  /** One null table as TypeScript (lengths, replicates and T's quantiles per length); prettier lays it out. */
  const tableText = (lengths: readonly number[], key: (n: number) => string) => `{
    probabilities: ${JSON.stringify(PROBABILITIES)},
    lengths: ${JSON.stringify(lengths)},
    replicates: ${JSON.stringify(lengths.map(replicates))},
    quantiles: [
${lengths
  .map(
    (n) =>
      `      [${rows
        .get(key(n))!
        .map((x) => x.toPrecision(4))
        .join(", ")}],`,
  )
  .join("\n")}
    ],
  }`;
  if (prior) {
    const out = `// Written by scripts/calibrate-scan.ts --prior (seed ${SEED} + length + φ); do not edit by hand.
/**
 * Quantiles of the level scan's smallest interval p-value under no change for short series read through their
 * family's φ (the prior worth PHI_PRIOR_RUNS runs), per series length: on Gaussian AR(1) noise at each φ, and on
 * Student-t noise (3 df) with the family's φ at 0.
 */
export const PRIOR_NULL_TABLES = {
  phis: ${JSON.stringify(PRIOR_PHIS)},
  level: [
${PRIOR_PHIS.map((phi) => `    ${tableText(PRIOR_LENGTHS, (n) => `ar1:level:${n}:${phi}`)},`).join("\n")}
  ],
  t3: ${tableText(PRIOR_LENGTHS, (n) => `t3-prior:level:${n}:0`)},
} as const;
`;
    writeFileSync(path.join(import.meta.dirname, "..", "lib", "analysis", "scan-null-prior-table.ts"), out);
    process.exit(0);
  }
  const out = `// Written by scripts/calibrate-scan.ts (seed ${SEED} + length); do not edit by hand.
/**
 * Quantiles of the smallest interval p-value of each change-point scan under no change, per noise family and length
 * of the scanned series.
 */
export const SCAN_NULL_TABLES = {
${FAMILIES.map(
  (family) =>
    `  ${family}: {\n${STATISTICS.map((statistic) => `    ${statistic}: ${tableText(LENGTHS, (n) => `${family}:${statistic}:${n}`)},`).join("\n")}\n  },`,
).join("\n")}
} as const;

/** The mean share of runs the level scan clips, per noise family and series length. */
export const CLIP_SHARES = {
  lengths: ${JSON.stringify(LENGTHS)},
${FAMILIES.map((family) => `  ${family}: [${LENGTHS.map((n) => shares.get(`${family}:${n}`)!.toPrecision(4)).join(", ")}],`).join("\n")}
} as const;
`;
  writeFileSync(path.join(import.meta.dirname, "..", "lib", "analysis", "scan-null-table.ts"), out);
}
