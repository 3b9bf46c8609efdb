import path from "node:path";
import type { Db } from "../clickhouse/client";
import { ingestEvents, sha256Hex, validateEvents, MAX_EVENTS_PER_REQUEST } from "../ingest/events/ingest";
import { GitWriter } from "./git-writer";
import { deployedFactor, writeHeartsWorld } from "./hearts-world";
import { simulateOverlay } from "./overlay";
import { gaussian, seededRandom } from "./random";
import { HEARTS_RELEASES, loadFactor } from "./timeline";

/**
 * `npm run muse -- seed --days N`: sample data, honestly labelled. It creates
 * two local upstream repositories under .muse/ — Banterhearts, where people
 * commit code by day and a bot commits nightly benchmark reports of every
 * type (lib/seed/hearts-world.ts), and Banterpacks,
 * whose commits change the overlay — and sends simulated overlay sessions
 * through the real events ingest path. Reports are tagged "sample" and events
 * carry `metadata.sample = true`.
 *
 * Both follow one performance story (lib/seed/timeline.ts), so there are
 * correlations, regressions and improvements for the council to find.
 */

export interface SeedOptions {
  days: number;
  now: Date;
  heartsDir: string;
  packsDir: string;
  db: Db;
  seed?: number;
  peakSessionsPerHour?: number;
  /**
   * "planted" (the default): the releases of lib/seed/timeline.ts. "none": a world where nothing was released — the
   * same daily and weekly cycles, machine drift, bad nights, nightly cadence and code commits, but no release and no
   * per-method effect, so every change Muse reports in it is a false one (docs/statistics.md, tests/null-world.test.ts).
   */
  releases?: "planted" | "none";
  progress?: (message: string) => void;
}

export interface SeedSummary {
  hearts: { dir: string; commits: number; reports: number; latest: string };
  packs: { dir: string; commits: number; latest: string };
  events: { sent: number; accepted: number; batches: number };
  window: { from: string; to: string };
}

const HOUR = 3_600_000;

const PACKS_CHANGES = [
  { message: "feat(overlay): stream partial answers while the model decodes", files: ["src/overlay/stream.ts", "src/overlay/render.ts"] },
  { message: "fix(overlay): keep focus after closing with Escape", files: ["src/overlay/keyboard.ts"] },
  { message: "perf(client): reuse the HTTP connection to the backend", files: ["src/client/http.ts"] },
  { message: "feat(overlay): show a retry button on upstream errors", files: ["src/overlay/errors.tsx", "src/overlay/render.ts"] },
  { message: "chore(deps): bump websocket library", files: ["package.json", "package-lock.json"] },
  { message: "feat(settings): per-scene overlay position", files: ["src/settings/scene.ts", "src/overlay/layout.ts"] },
];

export async function seed(options: SeedOptions): Promise<SeedSummary> {
  const say = options.progress ?? (() => {});
  const seedValue = options.seed ?? 42;
  const rng = seededRandom(seedValue);
  const to = options.now;
  const from = new Date(to.getTime() - options.days * 24 * HOUR);

  // Banterhearts: code commits by day, a bot's nightly benchmark runs (lib/seed/hearts-world.ts).
  say(`creating the Banterhearts sample repository in ${options.heartsDir}`);
  const releases = options.releases === "none" ? [] : HEARTS_RELEASES;
  const hearts = await writeHeartsWorld({ dir: options.heartsDir, from, to, seed: seedValue, releases, progress: say });
  const perf = (t: Date) => deployedFactor(hearts, t) * loadFactor(t);

  // Banterpacks: overlay changes every ~1.5 days, the last a few hours ago.
  say(`creating the Banterpacks sample repository in ${options.packsDir}`);
  const packs = await GitWriter.create(options.packsDir);
  const packsCommits: { sha: string; time: Date }[] = [];
  const initial = new Date(from.getTime() - 3 * HOUR);
  packsCommits.push({
    sha: await packs.commit("feat: overlay skeleton", initial, { "README.md": "# Banterpacks (sample data)\n", "src/overlay/index.ts": "export {};\n" }),
    time: initial,
  });
  let k = 0;
  for (let t = from.getTime() + 30 * HOUR; t < to.getTime() - 3 * HOUR; t += 36 * HOUR) {
    const change = PACKS_CHANGES[k++ % PACKS_CHANGES.length];
    const time = new Date(t + gaussian(rng, 0, 2) * HOUR);
    const files = Object.fromEntries(
      change.files.map((f) => [
        f,
        `// ${change.message}\n// revision ${k} (${time.toISOString()})\n${"export const line = 1;\n".repeat(1 + Math.floor(rng() * 20))}`,
      ]),
    );
    packsCommits.push({ sha: await packs.commit(change.message, time, files), time });
  }
  const lastPacks = new Date(to.getTime() - 3 * HOUR);
  packsCommits.push({
    sha: await packs.commit("fix(overlay): debounce the query box", lastPacks, { "src/overlay/input.ts": `// debounce (${lastPacks.toISOString()})\n` }),
    time: lastPacks,
  });
  const commitAt = (time: Date) => [...packsCommits].reverse().find((c) => c.time <= time)?.sha ?? packsCommits[0].sha;

  // Overlay sessions through the real ingest path (validation, PII scrubbing, one insert per batch).
  say("simulating overlay sessions ...");
  const events = simulateOverlay({ from, to, rng, commitAt, performanceAt: perf, peakSessionsPerHour: options.peakSessionsPerHour ?? 6, seed: seedValue });
  let accepted = 0;
  let batches = 0;
  const batchSize = Math.min(5_000, MAX_EVENTS_PER_REQUEST);
  for (let i = 0; i < events.length; i += batchSize) {
    const items = events.slice(i, i + batchSize);
    const validated = validateEvents(items, to);
    if (!validated.ok) throw new Error(`sample events failed validation: ${JSON.stringify(validated.problems.slice(0, 3))}`);
    // Same seed, window and batch → same key and event ids: re-sending a batch changes nothing.
    const identity = `seed:${seedValue}:${from.toISOString()}:${i}`;
    const result = await ingestEvents(options.db, validated.events, {
      idempotencyKey: sha256Hex(identity).slice(0, 64),
      bodySha256: sha256Hex(JSON.stringify(items)),
      now: to,
    });
    accepted += result.accepted;
    batches += 1;
    say(`events: ${Math.min(i + batchSize, events.length)}/${events.length} sent`);
  }
  return {
    hearts: { dir: path.resolve(options.heartsDir), commits: hearts.commits, reports: hearts.reports, latest: hearts.latest },
    packs: { dir: path.resolve(options.packsDir), commits: packsCommits.length, latest: packsCommits.at(-1)!.sha },
    events: { sent: events.length, accepted, batches },
    window: { from: from.toISOString(), to: to.toISOString() },
  };
}
