import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { z } from "zod";
import { BENCHMARK_TYPES, type BenchmarkType } from "../ingest/reports/schemas";
import { GitWriter } from "./git-writer";
import { gaussian, pick, seededRandom } from "./random";
import { generateReport, SAMPLE_MODELS } from "./reports";
import { HEARTS_RELEASES, loadFactor, type QuantEffect, type Release } from "./timeline";

/**
 * Banterhearts as LLM-inference teams run it: people commit code during the
 * day (features, fixes, a dependency bump, docs, a branch merged with
 * `--no-ff`, now and then a commit whose clock is off), and a benchmark bot
 * runs every model once a night on the head of main and commits the reports.
 * Between two nightly runs there are several code commits, so a change the
 * nightlies show is a range that bisection has to narrow.
 *
 * The measured performance of a run is the product of
 * - the code it measured: the planted releases (lib/seed/timeline.ts) that
 *   are ancestors of that commit;
 * - the day: the shared weekly load cycle and a machine drift that wanders
 *   from night to night (AR(1), φ 0.6, σ 1.5 %);
 * - bad nights: about one in forty runs lands on a noisy neighbour (+15–30 %);
 * - the report generator's own run-to-run noise.
 * The world is written to `<dir>.sample-world.json` beside the repository so
 * the demo's benchmark runner (lib/seed/runner.ts) can answer bisection
 * requests with the same performance model — as a real runner would, by
 * building and running the commit.
 */

export const BENCH_BOT = "banterhearts-bench-bot <bench-bot@banterhearts.invalid>";
const PEOPLE = ["Asha Rao <asha@banterhearts.invalid>", "Jonas Weber <jonas@banterhearts.invalid>", "Mei Lin <mei@banterhearts.invalid>"];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Code commits that change nothing measurable (what most commits are). */
const NEUTRAL_CODE = [
  { message: "refactor(scheduler): split the batching loop", files: ["banterhearts/scheduler/batching.py"] },
  { message: "test(quant): cover per-channel scales", files: ["tests/test_quant.py"] },
  { message: "fix(tokenizer): strip a byte-order mark from prompts", files: ["banterhearts/tokenizer.py"] },
  { message: "feat(api): expose the model's context length", files: ["banterhearts/api/models.py"] },
  { message: "ci: cache pip downloads", files: [".github/workflows/ci.yml"] },
  { message: "chore(deps): bump torch from 2.4.1 to 2.5.0", files: ["requirements.txt", "pyproject.toml"] },
  { message: "fix(loader): close safetensors handles", files: ["banterhearts/models/loader.py"] },
  { message: "refactor(metrics): one timer for prefill and decode", files: ["banterhearts/metrics/timer.py"] },
  { message: "feat(cli): --warmup option for the benchmark harness", files: ["banterhearts/cli.py"] },
  { message: "test: flaky decode test gets a fixed seed", files: ["tests/test_decode.py"] },
];
const DOCS = [
  { message: "docs: explain the quantization presets", files: ["docs/quantization.md"] },
  { message: "docs(readme): how to run one benchmark locally", files: ["README.md"] },
  { message: "docs: changelog for the week", files: ["CHANGELOG.md"] },
];
const BRANCH = {
  name: "feature/paged-kv-cache",
  commits: [
    { message: "feat(kv): paged KV cache behind a flag", files: ["banterhearts/kv/paged.py"] },
    { message: "test(kv): paged cache round trip", files: ["tests/test_paged_kv.py"] },
    { message: "docs(kv): the paged cache flag", files: ["docs/kv-cache.md"] },
  ],
};

export const sampleWorld = z.object({
  /** Planted releases by sha: a run at a commit that has one as an ancestor (or is it) runs at its factor. */
  releases: z.array(
    z.object({
      sha: z.string(),
      factor: z.number(),
      message: z.string(),
      ts: z.string(),
      /** An effect on one quantization method only (lib/seed/timeline.ts QuantEffect). */
      quant: z.object({ quant: z.string(), latency: z.number(), accuracyPoints: z.number(), loss: z.number().optional() }).optional(),
    }),
  ),
  /** Machine drift per UTC day (multiplier), from the seed; days not listed drift 1. */
  drift: z.record(z.string(), z.number()),
  seed: z.number(),
});
export type SampleWorld = z.infer<typeof sampleWorld>;

export const worldFile = (heartsDir: string) => `${heartsDir.replace(/\/+$/, "")}.sample-world.json`;

export async function readSampleWorld(heartsDir: string): Promise<SampleWorld> {
  return sampleWorld.parse(JSON.parse(await readFile(worldFile(heartsDir), "utf8")));
}

/** Which report types a nightly run produces: model-level ones always, one more suite in rotation so all nine appear. */
function nightlyTypes(night: number): BenchmarkType[] {
  const rotating = BENCHMARK_TYPES.filter((t) => t !== "quantization" && t !== "compilation");
  return ["quantization", "compilation", rotating[night % rotating.length]];
}

/** A report of `type` for `model`, as the harness writes it; without commit_sha unless given (the bot's commit adds it). */
export function sampleReport(
  type: BenchmarkType,
  model: string,
  time: Date,
  performance: number,
  rng: () => number,
  extra: { commitSha?: string; requestId?: string; quantEffects?: readonly QuantEffect[] } = {},
): Record<string, unknown> {
  const report = generateReport(type, {
    generatedAt: time,
    commitSha: extra.commitSha ?? "0".repeat(40),
    model,
    performance,
    rng,
    quantEffects: extra.quantEffects,
  }) as Record<string, unknown>;
  if (!extra.commitSha) delete report.commit_sha;
  if (extra.requestId) report.request_id = extra.requestId;
  report.tags = [...((report.tags as string[] | undefined) ?? []), "sample"];
  return report;
}

/** The performance multiplier of one run: the code's releases × the day × a bad night now and then. */
export function runPerformance(codeFactor: number, time: Date, world: Pick<SampleWorld, "drift">, rng: () => number): number {
  const drift = world.drift[time.toISOString().slice(0, 10)] ?? 1;
  const badNight = rng() < 0.025 ? 1.15 + rng() * 0.15 : 1;
  return codeFactor * loadFactor(time) * drift * badNight;
}

export interface HeartsWorldSummary {
  commits: number;
  code_commits: number;
  nights: number;
  reports: number;
  latest: string;
  releases: SampleWorld["releases"];
}

/**
 * Writes the Banterhearts repository for [from, to): code commits by day, the bot's nightly runs at about 02:00 UTC,
 * the planted releases among a day's code commits (never the first or last of the day, so a nightly range holds
 * several code commits around each).
 */
export async function writeHeartsWorld(options: {
  dir: string;
  from: Date;
  to: Date;
  seed: number;
  /** The releases to plant; [] is a world where nothing was released (issue 27 item 6). Default: HEARTS_RELEASES. */
  releases?: readonly Release[];
  progress?: (message: string) => void;
}): Promise<HeartsWorldSummary> {
  const { from, to } = options;
  const rng = seededRandom(options.seed * 7919 + 1);
  const hearts = await GitWriter.create(options.dir);
  let commits = 0;
  let codeCommits = 0;
  let reports = 0;
  await hearts.commit("chore: initial import of the benchmark harness", new Date(from.getTime() - 30 * HOUR), {
    "README.md": "# Banterhearts (sample data)\n\nBenchmark reports generated by Muse's seed command. Not real measurements.\n",
    "banterhearts/__init__.py": "# sample source tree\n",
  });
  commits += 1;

  // Machine drift per day: AR(1) around 1.
  const drift: Record<string, number> = {};
  let level = 0;
  for (let t = from.getTime() - 2 * DAY; t < to.getTime() + 2 * DAY; t += DAY) {
    level = 0.6 * level + gaussian(rng, 0, 0.015);
    drift[new Date(t).toISOString().slice(0, 10)] = 1 + level;
  }
  const world: SampleWorld = { releases: [], drift, seed: options.seed };

  const days = Math.round((to.getTime() - from.getTime()) / DAY);
  const firstDay = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  const plantedDay = new Map((options.releases ?? HEARTS_RELEASES).map((r) => [Math.min(days - 2, Math.max(1, Math.floor(r.at * days))), r]));
  const branchDay = Math.floor(0.62 * days);
  const skewDay = Math.floor(0.45 * days);
  let codeFactor = 1;
  const quantEffects: QuantEffect[] = [];
  let night = 0;
  let counter = 0;
  const source = (file: string, message: string, time: Date) => `# ${message}\n# sample source file, revision ${++counter} (${time.toISOString()})\n`;

  for (let d = 0; d <= days; d++) {
    const dayStart = firstDay + d * DAY;
    // The nightly run at about 02:00 measures main as the day before left it.
    const nightAt = new Date(dayStart + 2 * HOUR + Math.round(gaussian(rng, 0, 0.2) * HOUR));
    if (nightAt > from && nightAt < to) {
      const files: Record<string, string> = {};
      const types = nightlyTypes(night);
      for (const [m, model] of SAMPLE_MODELS.entries()) {
        for (const [k, type] of types.entries()) {
          if (k >= 2 && m !== night % SAMPLE_MODELS.length) continue;
          const report = sampleReport(type, model, nightAt, runPerformance(codeFactor, nightAt, world, rng), rng, { quantEffects });
          files[`reports/${type}/${nightAt.toISOString().slice(0, 10)}-${model}.json`] = `${JSON.stringify(report, null, 2)}\n`;
          reports += 1;
        }
      }
      await hearts.commit(`bench: nightly run ${nightAt.toISOString().slice(0, 10)}`, nightAt, files, BENCH_BOT);
      commits += 1;
      night += 1;
    }

    // The day's commits, between 08:00 and 20:00.
    const planted = plantedDay.get(d);
    const count = planted ? 5 + Math.floor(rng() * 3) : 2 + Math.floor(rng() * 4);
    const plantedAt = planted ? 1 + Math.floor(rng() * (count - 2)) : -1;
    const times = Array.from({ length: count }, (_, i) => dayStart + 8 * HOUR + ((i + rng() * 0.8) * 12 * HOUR) / count).filter((t) => t < to.getTime());
    for (const [i, t] of times.entries()) {
      let time = new Date(t);
      const author = pick(rng, PEOPLE);
      if (i === plantedAt && planted) {
        const files = Object.fromEntries(planted.files.map((f) => [f, source(f, planted.message, time)]));
        const sha = await hearts.commit(planted.message, time, files, author);
        codeFactor *= planted.factor;
        if (planted.quant) quantEffects.push(planted.quant);
        world.releases.push({
          sha,
          factor: planted.factor,
          message: planted.message,
          ts: time.toISOString(),
          ...(planted.quant ? { quant: planted.quant } : {}),
        });
        commits += 1;
        codeCommits += 1;
        continue;
      }
      if (d === branchDay && i === count - 1) {
        // A feature branch from this morning's main, merged at the end of the day.
        await hearts.branch(BRANCH.name);
        await hearts.checkout(BRANCH.name);
        for (const [j, c] of BRANCH.commits.entries()) {
          const at = new Date(t - (BRANCH.commits.length - j) * 20 * 60_000);
          await hearts.commit(c.message, at, Object.fromEntries(c.files.map((f) => [f, source(f, c.message, at)])), author);
          commits += 1;
        }
        await hearts.checkout("main");
        await hearts.merge(BRANCH.name, `Merge branch '${BRANCH.name}'`, time, author);
        commits += 1;
        codeCommits += 1;
        continue;
      }
      // A commit whose author's clock was three hours behind (or a rebase kept an old date): history, not time, decides.
      // At least an hour before its parent, however the day's commits are spaced, so the skew is always there.
      if (d === skewDay && i === 1) time = new Date(Math.min(t - 3 * HOUR, times[0] - HOUR));
      const change = rng() < 0.2 ? pick(rng, DOCS) : pick(rng, NEUTRAL_CODE);
      await hearts.commit(change.message, time, Object.fromEntries(change.files.map((f) => [f, source(f, change.message, time)])), author);
      commits += 1;
      if (!DOCS.includes(change)) codeCommits += 1;
    }
    if (d % 5 === 0) options.progress?.(`Banterhearts: day ${d + 1}/${days + 1}, ${commits} commits, ${reports} reports`);
  }

  // The bot's last run, shortly before now, so the upstream is fresh.
  const last = new Date(to.getTime() - 10 * 60_000);
  const files: Record<string, string> = {};
  for (const model of SAMPLE_MODELS) {
    for (const type of ["quantization", "compilation"] as const) {
      files[`reports/${type}/${last.toISOString().replace(/[:.]/g, "-")}-${model}.json`] =
        `${JSON.stringify(sampleReport(type, model, last, runPerformance(codeFactor, last, world, rng), rng, { quantEffects }), null, 2)}\n`;
      reports += 1;
    }
  }
  const latest = await hearts.commit("bench: scheduled run", last, files, BENCH_BOT);
  commits += 1;
  await writeFile(worldFile(options.dir), `${JSON.stringify(world, null, 2)}\n`);
  return { commits, code_commits: codeCommits, nights: night, reports, latest, releases: world.releases };
}

const run = promisify(execFile);

/** The factor of the code at `sha`: the product of the planted releases it contains (git decides ancestry). */
export async function codeFactorAt(heartsDir: string, world: SampleWorld, sha: string): Promise<number> {
  return (await codeAt(heartsDir, world, sha)).factor;
}

/** The code at `sha`: its factor and the per-method effects of the planted releases it contains. */
export async function codeAt(heartsDir: string, world: SampleWorld, sha: string): Promise<{ factor: number; quantEffects: QuantEffect[] }> {
  let factor = 1;
  const quantEffects: QuantEffect[] = [];
  for (const release of world.releases) {
    const contains = await run("git", ["merge-base", "--is-ancestor", release.sha, sha], { cwd: heartsDir }).then(
      () => true,
      () => false,
    );
    if (!contains) continue;
    factor *= release.factor;
    if (release.quant) quantEffects.push(release.quant);
  }
  return { factor, quantEffects };
}

/** What users of the overlay run against at time t: the releases committed by then (deployed on merge). */
export function deployedFactor(world: Pick<SampleWorld, "releases">, time: Date): number {
  return world.releases.filter((r) => Date.parse(r.ts) <= time.getTime()).reduce((f, r) => f * r.factor, 1);
}

/** A seeded generator for one request or run, so the demo's runner is reproducible too. */
export function runRng(key: string): () => number {
  let h = 2166136261;
  for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return seededRandom(h >>> 0);
}
