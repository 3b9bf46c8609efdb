/**
 * Writes lib/analysis/scan-null-table.ts: the null distribution of the change-point
 * scan's smallest interval p-value (lib/analysis/scan-null.ts), simulated on series of
 * independent Gaussian noise with no change, for each series length, through the
 * detector's own path (outliers, clipping, noise estimate, two-pass seeded scan).
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
import { DEFAULT_DETECTOR_OPTIONS, smallestIntervalP } from "../lib/analysis/changepoints";
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
type Job = { statistic: (typeof STATISTICS)[number]; n: number };

/** T's quantiles at PROBABILITIES for a scanned series of n values (the spread scan of n + 1 runs has n differences). */
function row({ statistic, n }: Job): number[] {
  const rng = seededRandom(SEED + n + (statistic === "spread" ? 1_000_000 : 0));
  const runs = statistic === "spread" ? n + 1 : n;
  const b = replicates(n);
  const t = new Float64Array(b);
  for (let k = 0; k < b; k++)
    t[k] = smallestIntervalP(
      Array.from({ length: runs }, () => gaussian(rng)),
      DEFAULT_DETECTOR_OPTIONS.minRunsEachSide,
      statistic,
    );
  t.sort();
  return PROBABILITIES.map((p) => t[Math.max(0, Math.floor(p * b) - 1)]);
}

const jobsArgument = process.argv.indexOf("--jobs");
if (jobsArgument > 0) {
  for (const job of JSON.parse(process.argv[jobsArgument + 1]) as Job[]) process.send!({ ...job, quantiles: row(job) });
} else {
  const threads = Math.max(1, Math.min(os.availableParallelism(), 4));
  // Longest first, dealt round-robin, so the threads finish together.
  const order = STATISTICS.flatMap((statistic) => LENGTHS.map((n) => ({ statistic, n }))).sort((a, b) => b.n * replicates(b.n) - a.n * replicates(a.n));
  const rows = new Map<string, number[]>();
  await Promise.all(
    Array.from({ length: threads }, (_, w) => {
      const jobs = order.filter((_, i) => i % threads === w);
      const worker = fork(fileURLToPath(import.meta.url), ["--jobs", JSON.stringify(jobs)], { execArgv: ["--import", "tsx"] });
      worker.on("message", (m: Job & { quantiles: number[] }) => {
        rows.set(`${m.statistic}:${m.n}`, m.quantiles);
        process.stderr.write(`${m.statistic}, n = ${m.n}: ${replicates(m.n)} replicates, T at 1 % = ${m.quantiles[5].toExponential(3)}\n`);
      });
      return new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
      });
    }),
  );
  const table = (statistic: Job["statistic"]) => `  ${statistic}: {
    probabilities: ${JSON.stringify(PROBABILITIES)},
    lengths: ${JSON.stringify(LENGTHS)},
    replicates: ${JSON.stringify(LENGTHS.map(replicates))},
    quantiles: [
${LENGTHS.map(
  (n) =>
    `      [${rows
      .get(`${statistic}:${n}`)!
      .map((x) => x.toPrecision(4))
      .join(", ")}],`,
).join("\n")}
    ],
  },`;
  const out = `// Written by scripts/calibrate-scan.ts (seed ${SEED} + length); do not edit by hand.
/** Quantiles of the smallest interval p-value of each change-point scan under no change, per length of the scanned series. */
export const SCAN_NULL_TABLES = {
${STATISTICS.map(table).join("\n")}
} as const;
`;
  writeFileSync(path.join(import.meta.dirname, "..", "lib", "analysis", "scan-null-table.ts"), out);
}
