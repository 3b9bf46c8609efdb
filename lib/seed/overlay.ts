import { v5 as uuidv5 } from "uuid";
import { gaussian, pick } from "./random";

/**
 * Simulated Banterpacks overlay sessions: open the overlay, ask a few
 * questions, get answers (or errors, or give up waiting), close it. How long
 * answers take follows the backend's performance factor, and slow answers
 * raise errors and abandonment, so user experience tracks the benchmarks.
 */

export interface SampleEvent {
  ts: string;
  session_id: string;
  commit_sha: string;
  event_type: string;
  latency_ms: number;
  user_agent: string;
  metadata: Record<string, unknown>;
}

const SESSION_NAMESPACE = "3b241101-e2bb-4255-8caf-4136c566a962";

const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

const TOPICS = ["latency", "quantization", "stream-chat", "clip", "overlay", "shortcut", "scene"];

export interface SimulationOptions {
  from: Date;
  to: Date;
  rng: () => number;
  /** The Banterpacks commit live at a time (the build users were running). */
  commitAt(time: Date): string;
  /** Backend performance factor at a time (1 = baseline, >1 slower). */
  performanceAt(time: Date): number;
  /** Mean sessions per hour at the busiest time of day. */
  peakSessionsPerHour?: number;
  /** Seed namespace for session ids (same seed → same ids). */
  seed: number;
  /** Sessions start in slots of this length (default 60 min; the demo's live feed uses its interval). */
  slotMinutes?: number;
  /** Events after this are not emitted (default `to`). */
  until?: Date;
}

/** Sessions per hour follow the day: quiet at night, busiest in the evening (UTC). */
function diurnal(hour: number): number {
  return 0.25 + 0.75 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
}

export function simulateOverlay(options: SimulationOptions): SampleEvent[] {
  const { rng } = options;
  const events: SampleEvent[] = [];
  const cutoff = (options.until ?? options.to).getTime();
  const peak = options.peakSessionsPerHour ?? 6;
  let sessionNumber = 0;
  const slotMs = (options.slotMinutes ?? 60) * 60_000;
  const slotShare = slotMs / 3_600_000;
  const firstSlot = options.slotMinutes ? options.from.getTime() : Math.ceil(options.from.getTime() / 3_600_000) * 3_600_000;
  for (let slotStart = firstSlot; slotStart < options.to.getTime(); slotStart += slotMs) {
    const hour = new Date(slotStart).getUTCHours();
    // Whole sessions plus one more with the fractional chance, so short slots still see traffic.
    const expected = Math.max(0, gaussian(rng, peak * diurnal(hour), 1)) * slotShare;
    const sessions = Math.floor(expected) + (rng() < expected - Math.floor(expected) ? 1 : 0);
    for (let s = 0; s < sessions; s++) {
      const sessionId = uuidv5(`${options.seed}:${sessionNumber++}`, SESSION_NAMESPACE);
      let t = slotStart + rng() * slotMs * 0.92;
      if (t >= cutoff - 60_000) continue;
      const userAgent = pick(rng, USER_AGENTS);
      const push = (type: string, latency: number, metadata: Record<string, unknown> = {}) => {
        if (t > cutoff) return;
        const time = new Date(t);
        events.push({
          ts: time.toISOString(),
          session_id: sessionId,
          commit_sha: options.commitAt(time),
          event_type: type,
          latency_ms: Math.max(0, Math.round(latency)),
          user_agent: userAgent,
          metadata: { sample: true, ...metadata },
        });
      };
      push("overlay_open", gaussian(rng, 45, 8));
      const questions = 1 + Math.floor(rng() * 4);
      let gaveUp = false;
      for (let q = 0; q < questions && !gaveUp; q++) {
        t += 5_000 + rng() * 40_000;
        const factor = options.performanceAt(new Date(t));
        push("query_submit", gaussian(rng, 18, 4), { topic: pick(rng, TOPICS), query_length: 10 + Math.floor(rng() * 120) });
        const answerMs = Math.max(120, 850 * factor * Math.exp(gaussian(rng, 0, 0.18)));
        // Slow backends fail more and lose more impatient users.
        const errorChance = 0.015 * factor * factor;
        const abandonChance = Math.min(0.6, 0.04 * Math.pow(factor, 3));
        const roll = rng();
        if (roll < errorChance) {
          t += answerMs;
          push("error", answerMs, { code: pick(rng, ["upstream_timeout", "upstream_5xx", "rate_limited"]) });
        } else if (roll < errorChance + abandonChance) {
          gaveUp = true;
        } else {
          t += answerMs;
          push("query_result", answerMs, { tokens: 40 + Math.floor(rng() * 300) });
        }
      }
      t += 2_000 + rng() * 60_000;
      push("overlay_close", gaussian(rng, 20, 5), gaveUp ? { reason: "gave_up_waiting" } : {});
    }
  }
  return events;
}
