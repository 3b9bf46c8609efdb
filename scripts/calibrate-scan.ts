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
 *   npx tsx scripts/calibrate-scan.ts
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_DETECTOR_OPTIONS, scanNullSample } from "../lib/analysis/changepoints";
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
type Job = { family: (typeof FAMILIES)[number]; statistic: (typeof STATISTICS)[number]; n: number };

/** One noise value of the family: standard Gaussian, or Student-t with 3 df (a Gaussian over √(χ²₃/3)). */
function noise(rng: () => number, family: Job["family"]): number {
  const z = gaussian(rng);
  if (family === "gaussian") return z;
  let chi = 0;
  for (let k = 0; k < 3; k++) chi += gaussian(rng) ** 2;
  return z / Math.sqrt(chi / 3);
}

/**
 * T's quantiles at PROBABILITIES for a scanned series of n values (the spread scan of n + 1 runs has n
 * differences), and the mean share of runs clipped.
 */
function row({ family, statistic, n }: Job): { quantiles: number[]; clipShare: number } {
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
  t.sort();
  return { quantiles: PROBABILITIES.map((p) => t[Math.max(0, Math.floor(p * b) - 1)]), clipShare: clipped / b };
}

const jobsArgument = process.argv.indexOf("--jobs");
if (jobsArgument > 0) {
  for (const job of JSON.parse(process.argv[jobsArgument + 1]) as Job[]) process.send!({ ...job, ...row(job) });
} else {
  const threads = Math.max(1, Math.min(os.availableParallelism(), 4));
  // Longest first, dealt round-robin, so the threads finish together.
  const order = FAMILIES.flatMap((family) => STATISTICS.flatMap((statistic) => LENGTHS.map((n) => ({ family, statistic, n })))).sort(
    (a, b) => b.n * replicates(b.n) - a.n * replicates(a.n),
  );
  const rows = new Map<string, number[]>();
  const shares = new Map<string, number>();
  await Promise.all(
    Array.from({ length: threads }, (_, w) => {
      const jobs = order.filter((_, i) => i % threads === w);
      const worker = fork(fileURLToPath(import.meta.url), ["--jobs", JSON.stringify(jobs)], { execArgv: ["--import", "tsx"] });
      worker.on("message", (m: Job & { quantiles: number[]; clipShare: number }) => {
        rows.set(`${m.family}:${m.statistic}:${m.n}`, m.quantiles);
        if (m.statistic === "level") shares.set(`${m.family}:${m.n}`, m.clipShare);
        process.stderr.write(`${m.family} ${m.statistic}, n = ${m.n}: ${replicates(m.n)} replicates, T at 1 % = ${m.quantiles[5].toExponential(3)}\n`);
      });
      return new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
      });
    }),
  );
  const table = (family: Job["family"], statistic: Job["statistic"]) => `    ${statistic}: {
    probabilities: ${JSON.stringify(PROBABILITIES)},
    lengths: ${JSON.stringify(LENGTHS)},
    replicates: ${JSON.stringify(LENGTHS.map(replicates))},
    quantiles: [
${LENGTHS.map(
  (n) =>
    `      [${rows
      .get(`${family}:${statistic}:${n}`)!
      .map((x) => x.toPrecision(4))
      .join(", ")}],`,
).join("\n")}
    ],
  },`;
  const out = `// Written by scripts/calibrate-scan.ts (seed ${SEED} + length); do not edit by hand.
/**
 * Quantiles of the smallest interval p-value of each change-point scan under no change, per noise family and length
 * of the scanned series.
 */
export const SCAN_NULL_TABLES = {
${FAMILIES.map((family) => `  ${family}: {\n${STATISTICS.map((statistic) => table(family, statistic)).join("\n")}\n  },`).join("\n")}
} as const;

/** The mean share of runs the level scan clips, per noise family and series length. */
export const CLIP_SHARES = {
  lengths: ${JSON.stringify(LENGTHS)},
${FAMILIES.map((family) => `  ${family}: [${LENGTHS.map((n) => shares.get(`${family}:${n}`)!.toPrecision(4)).join(", ")}],`).join("\n")}
} as const;
`;
  writeFileSync(path.join(import.meta.dirname, "..", "lib", "analysis", "scan-null-table.ts"), out);
}
