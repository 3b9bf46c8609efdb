import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * Episode numbers per series, without gaps or duplicates, on a database with
 * no row locks or sequences (episode_numbers, sql/004):
 *
 * 1. insert a claim for (highest number claimed in the series) + 1, stamped
 *    with the server's clock (INSERT ... SELECT now64(3), one statement);
 * 2. read every claim for that number: the earliest (claimed_at, then run_id)
 *    wins; a loser keeps its losing claim (harmless: a number's winner is
 *    decided once) and tries the next number, a bounded number of times.
 *
 * A number always has a winner, and only drafts about to be stored as
 * publishable claim one, so the series has no gaps. A run retried with the
 * same run id gets the number it already won instead of a new one.
 *
 * Assumption (as for the agent lock): a claim is visible to readers once its
 * INSERT returns. `settleMs` waits before reading, so that a concurrent claim
 * whose server timestamp is earlier but whose insert finished later (possible
 * on a multi-replica server) is seen before a winner is declared.
 */

export class EpisodeNumberError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EpisodeNumberError";
  }
}

const claimRow = z.object({ run_id: z.string(), claimed_at: z.string() });
const numberRow = z.object({ episode_num: z.coerce.number() });

async function winnerOf(db: Db, series: string, episodeNum: number): Promise<string | undefined> {
  const first = await db.queryOne(
    `SELECT toString(run_id) AS run_id, claimed_at
       FROM episode_numbers FINAL
      WHERE series = {series:String} AND episode_num = {num:UInt16}
      ORDER BY claimed_at, run_id
      LIMIT 1`,
    { series, num: episodeNum },
    claimRow,
  );
  return first?.run_id;
}

export interface ClaimOptions {
  maxAttempts?: number;
  settleMs?: number;
}

export async function claimEpisodeNumber(db: Db, series: string, runId: string, options: ClaimOptions = {}): Promise<number> {
  const maxAttempts = options.maxAttempts ?? 20;
  const settleMs = options.settleMs ?? 50;

  // A retried run keeps the number it already won.
  const mine = await db.query(
    `SELECT episode_num FROM episode_numbers FINAL WHERE series = {series:String} AND run_id = {run_id:UUID} ORDER BY episode_num`,
    { series, run_id: runId },
    numberRow,
  );
  for (const { episode_num } of mine) {
    if ((await winnerOf(db, series, episode_num)) === runId) return episode_num;
  }

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    await db.command(
      `INSERT INTO episode_numbers (series, episode_num, run_id, claimed_at)
       SELECT {series:String},
              (SELECT ifNull(max(episode_num), 0) FROM episode_numbers FINAL WHERE series = {series:String}) + 1,
              {run_id:UUID},
              now64(3)`,
      { series, run_id: runId },
    );
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    // The number just claimed: this run's highest claim in the series.
    const claimed = await db.queryOne(
      `SELECT max(episode_num) AS episode_num FROM episode_numbers FINAL WHERE series = {series:String} AND run_id = {run_id:UUID}`,
      { series, run_id: runId },
      numberRow,
    );
    if (!claimed) throw new EpisodeNumberError(`the claim of run ${runId} in ${series} is not visible after its insert`);
    if ((await winnerOf(db, series, claimed.episode_num)) === runId) return claimed.episode_num;
  }
  throw new EpisodeNumberError(`no episode number in ${series} after ${maxAttempts} attempts (too many concurrent councils)`);
}
