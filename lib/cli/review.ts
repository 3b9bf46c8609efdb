import os from "node:os";
import { parseArgs } from "node:util";
import { episodeFilePathOf, revalidateSite } from "../agents/publish";
import { clickHouseConfig, createDb } from "../clickhouse/client";
import { createContentRepo } from "../content";
import { loadEnv } from "../env";
import { createLogger } from "../log";
import { episodeBranch, episodeName, parseEpisodeArg } from "../review/episode";
import { decideReview, episodeRows, listReviews, REVIEW_STATES, reviewFor, type ReviewState } from "../review/store";
import type { Command } from "./index";

/**
 * `muse review list | merge <episode> | reject <episode> --why …` (docs/reach.md "Review before an episode goes
 * live"): with MUSE_PUBLISH_MODE=pull-request and a local content repository (no GITHUB_TOKEN), the stand-ins for
 * merging or closing the episode's pull request on GitHub. `merge` puts the branch's files onto the content branch
 * as one commit and publishes the episode (its rows, the deployment row, the site revalidated as after a direct
 * publish); `reject` marks the episode rejected, records who and why, and deletes the branch. With GitHub, `reject`
 * closes the pull request; merging is done on GitHub (the webhook publishes). `<episode>` is `<series>/ep-NNN`.
 */

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export const reviewCommand: Command = {
  summary: "episode reviews (MUSE_PUBLISH_MODE=pull-request): list them, or merge / reject one (the local stand-ins for GitHub)",
  usage:
    "muse review list [--state pending_review|published|rejected] [--json] | muse review merge <series/ep-NNN> | muse review reject <series/ep-NNN> --why <reason>",
  needsClickHouse: true,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        state: { type: "string" },
        json: { type: "boolean" },
        why: { type: "string" },
        actor: { type: "string" },
        limit: { type: "string", default: "50" },
      },
    });
    const [sub, target] = positionals;
    const env = loadEnv();
    const db = createDb(clickHouseConfig(env));
    try {
      if (sub === "list") {
        if (values.state !== undefined && !(REVIEW_STATES as readonly string[]).includes(values.state)) {
          err(`--state must be one of ${REVIEW_STATES.join(", ")}`);
          return 2;
        }
        const reviews = await listReviews(db, { state: values.state as ReviewState | undefined, limit: Number(values.limit) || 50 });
        if (values.json) {
          out(JSON.stringify(reviews, null, 2));
          return 0;
        }
        if (reviews.length === 0) out("no episode reviews recorded");
        for (const r of reviews) {
          const decided = r.state === "pending_review" ? "" : ` by ${r.actor}${r.reason ? `: ${r.reason}` : ""} (${r.decided_at})`;
          out(`${episodeName(r.series, r.episode_num).padEnd(28)} ${r.state.padEnd(15)} ${r.langs.join(",").padEnd(12)} ${r.url}${decided}`);
        }
        return 0;
      }
      if (sub !== "merge" && sub !== "reject") {
        err(`usage: npm run muse -- ${reviewCommand.usage.replace(/^muse /, "")}`);
        return 2;
      }
      const episode = parseEpisodeArg(target ?? "");
      if (!episode) {
        err(`expected the episode as <series>/ep-NNN (e.g. chimera/ep-001), got ${JSON.stringify(target ?? "")}`);
        return 2;
      }
      const why = values.why?.trim() ?? "";
      if (sub === "reject" && !why) {
        err("muse review reject needs --why <reason>: it is recorded with the rejection");
        return 2;
      }
      const actor = values.actor ?? (process.env.USER || os.userInfo().username);
      const name = episodeName(episode.series, episode.episode);
      const branch = episodeBranch(episode.series, episode.episode);
      const log = createLogger({ level: "warn", secrets: [env.GITHUB_TOKEN ?? "", env.MUSE_ADMIN_TOKEN ?? ""] });
      const repo = createContentRepo(env, { log });
      const review = await reviewFor(db, episode.series, episode.episode);
      const now = new Date();

      if (sub === "reject") {
        const outcome = await decideReview(db, {
          ...episode,
          decision: "rejected",
          actor,
          reason: why,
          source: "cli",
          pull_request: review?.pull_request,
          at: now,
          now,
        });
        if (!outcome.ok) {
          err(`${name}: ${outcome.detail}`);
          return outcome.reason === "invalid" ? 2 : 1;
        }
        const closed = await repo.reviews.close({ branch, number: review && review.pull_request > 0 ? review.pull_request : undefined });
        if (values.json) out(JSON.stringify({ review: outcome.review, rows: outcome.rows, closed: closed ?? null }, null, 2));
        else
          out(
            `${name} rejected by ${actor}: ${why}${closed ? ` (${repo.kind === "github" ? `pull request #${closed.number} closed` : `branch ${branch} deleted`})` : ""}`,
          );
        return 0;
      }

      if (repo.kind === "github") {
        err(`${name}: reviews are pull requests on GitHub; merge it there${review?.url ? ` (${review.url})` : ""}: the webhook publishes it`);
        return 1;
      }
      const rows = await episodeRows(db, episode.series, episode.episode);
      const inReview = rows.filter((r) => r.status === "in_review");
      if (inReview.length === 0) {
        err(`${name}: nothing in review (${rows.length === 0 ? "no such episode" : rows.map((r) => `${r.lang} ${r.status}`).join(", ")})`);
        return 1;
      }
      const title = (rows.find((r) => r.lang === "en") ?? inReview[0]).title;
      const merged = await repo.reviews.merge(branch, `Merge ${branch}: ${title}\n\nReviewed-by: ${actor}\n`);
      // In the merge: the rows whose file the content branch now holds as the row has it.
      const merges = new Set<string>();
      for (const row of inReview) {
        if ((await repo.readFile(row.file_path || episodeFilePathOf(row.series, row.episode_num, row.lang))) === row.markdown) merges.add(row.lang);
      }
      const outcome = await decideReview(db, {
        ...episode,
        decision: "published",
        actor,
        source: "cli",
        pull_request: review?.pull_request ?? 0,
        commit_sha: merged.sha,
        at: now,
        now,
        contains: (row) => merges.has(row.lang),
      });
      if (!outcome.ok) {
        err(`${name}: ${outcome.detail}`);
        return 1;
      }
      const revalidation = await revalidateSite(env, log, globalThis.fetch);
      if (values.json) out(JSON.stringify({ review: outcome.review, rows: outcome.rows, commit: merged.sha, created: merged.created, revalidation }, null, 2));
      else
        out(
          `${name} merged by ${actor} and published: ${merged.created ? "commit" : "already at"} ${merged.sha.slice(0, 12)} (${outcome.rows
            .map((r) => `${r.lang} ${r.status}`)
            .join(", ")}); site revalidation: ${revalidation}`,
        );
      return 0;
    } finally {
      await db.close();
    }
  },
};
