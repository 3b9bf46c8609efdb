import { parseArgs } from "node:util";
import { clickHouseConfig, createDb } from "../clickhouse/client";
import { loadEnv } from "../env";
import { createLogger } from "../log";
import { runPrCheck } from "../pull-requests";

/**
 * `muse pr-check --pr <n> --head <sha> [--json] [--no-post]` (docs/reach.md "Pull requests"): compares a pull
 * request's runs at its head with main's at the merge base and reports it (check run or commit status, and the
 * pull-request comment) as the ingest route does after accepting them; stored only without GitHub configured.
 */

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export const prCheckCommand = {
  summary: "compare a pull request's benchmark runs with main at the merge base and report on its head commit",
  usage: "muse pr-check --pr <number> --head <sha> [--no-post] [--json]",
  needsClickHouse: true,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { pr: { type: "string" }, head: { type: "string" }, json: { type: "boolean" }, "no-post": { type: "boolean" } },
    });
    const pr = Number(values.pr);
    if (!values.pr || !/^[0-9]+$/.test(values.pr) || !(pr >= 1 && pr <= 4294967295)) {
      err("usage: npm run muse -- pr-check --pr <number> --head <sha>   (--pr: a positive integer)");
      return 2;
    }
    if (!values.head || !/^[0-9a-fA-F]{40}$/.test(values.head)) {
      err("usage: npm run muse -- pr-check --pr <number> --head <sha>   (--head: a 40-hex commit sha)");
      return 2;
    }
    const env = loadEnv();
    const db = createDb(clickHouseConfig(env));
    try {
      const log = createLogger({ level: "warn", secrets: [env.GITHUB_TOKEN ?? "", env.GITHUB_APP_PRIVATE_KEY ?? ""] });
      const { comparison, outcome } = await runPrCheck(
        { db, env, log, now: new Date(), github: values["no-post"] ? null : undefined },
        { pullRequest: pr, headSha: values.head },
      );
      if (values.json) {
        out(
          JSON.stringify(
            { ...comparison, check: outcome.check, comment: outcome.comment, check_id: outcome.row.check_id, comment_id: outcome.row.comment_id },
            null,
            2,
          ),
        );
      } else {
        out(`pull request #${pr} at ${comparison.head_sha}: ${comparison.conclusion} (${outcome.row.summary})`);
        out(`merge base ${comparison.merge_base_sha || "unknown"} (baseline by ${comparison.baseline_method}); ${comparison.series.length} series`);
        for (const s of comparison.series) {
          if (s.verdict === "unchanged") continue;
          const pct = s.change_pct === null ? "–" : `${s.change_pct.toFixed(1)} %`;
          out(`  ${s.verdict.padEnd(12)} ${s.series_id}  ${pct}  q=${s.q_value ?? "–"}  (${s.n_head} head, ${s.n_base} base runs)`);
        }
        out(outcome.row.posted ? `GitHub: check ${outcome.check}, comment ${outcome.comment}` : "GitHub not configured: stored in pr_checks, nothing posted");
      }
      return comparison.conclusion === "failure" ? 1 : 0;
    } finally {
      await db.close();
    }
  },
};
