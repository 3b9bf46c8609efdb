import { z } from "zod";
import type { Db } from "../client";
import { episodeRow, type EpisodeRow } from "../tables";

/**
 * Every query Muse runs on `episodes` (rows: `episodeRow` in ../tables.ts).
 * The table is a ReplacingMergeTree keyed by (series, episode_num, lang,
 * run_id), so reads use FINAL. Values travel as query parameters only.
 */

export async function insertEpisodes(db: Db, rows: readonly EpisodeRow[]): Promise<void> {
  await db.insert("episodes", rows);
}

export const lastEpisodeRow = z.object({ ts: z.string(), window_to: z.string(), events_json: z.string().default("[]") });
export type LastEpisode = z.infer<typeof lastEpisodeRow>;

/** The newest stored English episode that is not rejected (any series), with the end of its facts' window ("" when absent). */
export async function lastEpisode(db: Db): Promise<LastEpisode | undefined> {
  return db.queryOne(
    `SELECT ts, JSONExtractString(facts, 'window', 'to') AS window_to, JSONExtractRaw(facts, 'events') AS events_json
       FROM episodes FINAL
      WHERE lang = 'en' AND status != 'rejected'
      ORDER BY ts DESC
      LIMIT 1`,
    {},
    lastEpisodeRow,
  );
}

/**
 * What the publisher may publish: numbered originals that are publishable at
 * `threshold`, already published or in review (MUSE_PUBLISH_MODE=pull-request:
 * their translations join the review), and publishable translations, ordered
 * by series, number, language and version.
 */
export async function publishCandidates(db: Db, threshold: number): Promise<EpisodeRow[]> {
  return db.query(
    `SELECT *
       FROM episodes FINAL
      WHERE episode_num > 0
        AND ((lang = 'en' AND ((status = 'publishable' AND confidence_score >= toFloat32({threshold:Float64})) OR status IN ('published', 'in_review')))
             OR (lang != 'en' AND status = 'publishable'))
      ORDER BY series, episode_num, lang, updated_at`,
    { threshold },
    episodeRow,
  );
}

/** What the translator translates: numbered English originals, published, in review or publishable at `threshold`. */
export async function translatableOriginals(db: Db, threshold: number): Promise<EpisodeRow[]> {
  return db.query(
    `SELECT *
       FROM episodes FINAL
      WHERE lang = 'en'
        AND episode_num > 0
        AND (status IN ('published', 'in_review') OR (status = 'publishable' AND confidence_score >= toFloat32({threshold:Float64})))
      ORDER BY series, episode_num, updated_at`,
    { threshold },
    episodeRow,
  );
}

export const translationKeyRow = z.object({
  series: z.string(),
  episode_num: z.number(),
  lang: z.string(),
  status: z.string(),
  run_id: z.string(),
  updated_at: z.string(),
});
export type TranslationKey = z.infer<typeof translationKeyRow>;

/** The key and status of every numbered episode row in `langs` (the translations tried so far). */
export async function translationKeys(db: Db, langs: readonly string[]): Promise<TranslationKey[]> {
  return db.query(
    `SELECT series, episode_num, lang, status, toString(run_id) AS run_id, updated_at
       FROM episodes FINAL
      WHERE lang IN ({langs:Array(String)}) AND episode_num > 0`,
    { langs },
    translationKeyRow,
  );
}

const num = z.coerce.number();
const nullableNum = z.union([z.null(), z.coerce.number()]);
export const episodesDayRow = z.object({
  day: z.string(),
  drafts: num,
  published: num,
  rejected: num,
  total: num,
  avg_confidence: nullableNum,
  max_confidence: nullableNum,
});
export type EpisodesDay = z.infer<typeof episodesDayRow>;

/** English episodes per day since `from` by status, with their mean (rejected excluded) and best confidence. */
export async function episodesPerDay(db: Db, from: Date): Promise<EpisodesDay[]> {
  return db.query(
    `SELECT toString(toDate(ts)) AS day,
            countIf(status IN ('draft', 'publishable')) AS drafts, countIf(status = 'published') AS published,
            countIf(status = 'rejected') AS rejected, count() AS total,
            if(countIf(status != 'rejected') = 0, NULL, round(avgIf(confidence_score, status != 'rejected'), 4)) AS avg_confidence,
            if(count() = 0, NULL, round(max(confidence_score), 4)) AS max_confidence
       FROM episodes FINAL
      WHERE ts >= {from:DateTime64(3, 'UTC')} AND lang = 'en'
      GROUP BY day
      ORDER BY day`,
    { from },
    episodesDayRow,
  );
}
