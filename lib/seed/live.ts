import { GitWriter } from "./git-writer";
import { simulateOverlay, type SampleEvent } from "./overlay";
import { seededRandom } from "./random";
import { generateReport, SAMPLE_MODELS } from "./reports";
import { HEARTS_RELEASES, loadFactor, releaseFactor } from "./timeline";

/**
 * Keeps the sample world going after the seed (used by `npm run demo`): new
 * Banterhearts commits with fresh reports, and new overlay sessions, at the
 * performance level the seeded story ended on. Still sample data, labelled so.
 */

export function livePerformance(time: Date): number {
  return releaseFactor(1) * loadFactor(time);
}

/** The per-method effects of every planted release: live runs measure the code the seeded story ended on. */
const LIVE_QUANT_EFFECTS = HEARTS_RELEASES.flatMap((r) => (r.quant ? [r.quant] : []));

let commitCounter = 0;

/** Adds one Banterhearts commit with a quantization and a compilation report generated now. */
export async function addHeartsCommit(dir: string, now: Date): Promise<string> {
  const rng = seededRandom(now.getTime() % 2_147_483_647);
  const model = SAMPLE_MODELS[commitCounter++ % SAMPLE_MODELS.length];
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const files: Record<string, string> = {};
  for (const type of ["quantization", "compilation"] as const) {
    const report = generateReport(type, {
      generatedAt: now,
      commitSha: "0".repeat(40),
      model,
      performance: livePerformance(now),
      rng,
      quantEffects: LIVE_QUANT_EFFECTS,
    }) as Record<string, unknown>;
    delete report.commit_sha;
    report.tags = [...((report.tags as string[] | undefined) ?? []), "sample"];
    files[`reports/${type}/${stamp}-${model}.json`] = `${JSON.stringify(report, null, 2)}\n`;
  }
  return GitWriter.open(dir).commit("bench: scheduled run (sample data)", now, files);
}

/**
 * Overlay sessions that started in [from, to), with only the events that have
 * happened by `until` (later ones would be in the future).
 */
export function liveSessions(from: Date, to: Date, until: Date, sha: string): SampleEvent[] {
  return simulateOverlay({
    from,
    to,
    until,
    slotMinutes: Math.max(1, (to.getTime() - from.getTime()) / 60_000),
    rng: seededRandom(to.getTime() % 2_147_483_647),
    commitAt: () => sha,
    performanceAt: livePerformance,
    seed: to.getTime(),
    peakSessionsPerHour: 6,
  });
}
