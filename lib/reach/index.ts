import type { Db } from "../clickhouse/client";
import type { Env } from "../env";
import type { BenchEventRow } from "../lifecycle/events";
import type { Logger } from "../log";
import { datadogApiUrl, type Metrics } from "../metrics";
import { datadogEvent, datadogFingerprint, postDatadogEvent } from "./datadog-events";
import { issueClientFromEnv, syncRegressionIssues, type EventExtras, type IssueClient, type SyncSummary } from "./github-issues";
import { postSlack, slackFingerprint, slackMessage, slackNotice } from "./slack";
import { loadEventIssues, loadNotified, saveNotified, type NotificationChannel } from "./store";
import { messageOf } from "../error-message";

/**
 * Telling people about events (docs/reach.md): the GitHub issue of each
 * regression, Slack messages and Datadog events. One thin call for the council
 * (after it stored its events) and the bisect agent (after it updated them):
 * each channel runs only when configured, and a failure is logged and counted
 * (`muse.reach.failures{channel}`), never thrown — the agent's own work is done
 * and stored by then, and the next run retries what did not go out.
 */

export interface ReachDeps {
  db: Db;
  env: Env;
  log: Logger;
  metrics: Metrics;
  now: Date;
  /** The GitHub issue client; unset: from the environment; null: no issues. */
  issues?: IssueClient | null;
  /** fetch for Slack and Datadog (tests). */
  fetch?: typeof globalThis.fetch;
}

export interface ReachSummary extends Record<string, unknown> {
  issues: SyncSummary | null;
  slack: number | null;
  datadog: number | null;
  failures: number;
}

/** Is any channel configured? (Callers skip loading events when none is.) */
export function reachConfigured(env: Env): boolean {
  return Boolean(
    (env.GITHUB_TOKEN && env.BANTERHEARTS_REPO && env.MUSE_GITHUB_ISSUES) || env.MUSE_SLACK_WEBHOOK_URL || (env.DD_API_KEY && env.MUSE_DATADOG_EVENTS),
  );
}

export async function reachOut(deps: ReachDeps, events: readonly BenchEventRow[], extras?: Map<string, EventExtras>): Promise<ReachSummary> {
  const summary: ReachSummary = { issues: null, slack: null, datadog: null, failures: 0 };
  const { env, log, metrics } = deps;
  const fail = (channel: string, error: unknown, n = 1) => {
    summary.failures += n;
    metrics.count("muse.reach.failures", n, { channel });
    log.warn(`reach: ${channel} failed`, { channel, error: messageOf(error) });
  };
  if (events.length === 0) return summary;

  let client: IssueClient | undefined;
  try {
    client = deps.issues === null ? undefined : (deps.issues ?? issueClientFromEnv(env, log));
  } catch (error) {
    fail("github", error);
  }
  if (client) {
    try {
      const s = await syncRegressionIssues(deps.db, client, events, { now: deps.now, siteUrl: env.MUSE_SITE_URL, extras, log });
      summary.issues = s;
      for (const action of ["created", "edited", "commented", "closed", "reopened"] as const)
        if (s[action] > 0) metrics.count("muse.reach.sent", s[action], { channel: "github", action });
      if (s.failed.length > 0) fail("github", new Error(s.failed.map((f) => `${f.event_id}: ${f.error}`).join("; ")), s.failed.length);
    } catch (error) {
      fail("github", error);
    }
  }

  const webhook = env.MUSE_SLACK_WEBHOOK_URL;
  if (webhook) {
    summary.slack = 0;
    let issueUrls = new Map<string, string>();
    if (client) {
      try {
        const repo = client.repo;
        issueUrls = new Map(
          [
            ...(await loadEventIssues(
              deps.db,
              events.map((e) => e.event_id),
            )),
          ].map(([id, r]) => [id, `https://github.com/${repo}/issues/${r.issue_number}`]),
        );
      } catch {
        // Links to issues are a nicety.
      }
    }
    await notify(deps, "slack", events, slackFingerprint, async (e, previous) => {
      const notice = slackNotice(e, previous);
      if (!notice) return false;
      const repo = env.BANTERHEARTS_REPO?.split("@")[0];
      await postSlack(webhook, slackMessage(e, notice, { siteUrl: env.MUSE_SITE_URL, repo, issueUrl: issueUrls.get(e.event_id) }), deps.fetch);
      summary.slack! += 1;
      metrics.count("muse.reach.sent", 1, { channel: "slack", action: notice });
      return true;
    }).catch((error: unknown) => fail("slack", error));
  }

  if (env.DD_API_KEY && env.MUSE_DATADOG_EVENTS) {
    const apiKey = env.DD_API_KEY;
    summary.datadog = 0;
    await notify(deps, "datadog", events, datadogFingerprint, async (e) => {
      await postDatadogEvent(
        { apiUrl: datadogApiUrl(env), apiKey, fetch: deps.fetch },
        datadogEvent(e, { siteUrl: env.MUSE_SITE_URL, service: env.DD_SERVICE, env: env.DD_ENV, now: deps.now }),
      );
      summary.datadog! += 1;
      metrics.count("muse.reach.sent", 1, { channel: "datadog", action: e.state });
      return true;
    }).catch((error: unknown) => fail("datadog", error));
  }
  return summary;
}

/**
 * For each event whose fingerprint differs from the last one recorded on the channel: `send` (which may decide there
 * is nothing to say), then record the new fingerprint. A send that throws stops the channel for this call; the
 * events not yet recorded are tried again next time.
 */
async function notify(
  deps: ReachDeps,
  channel: NotificationChannel,
  events: readonly BenchEventRow[],
  fingerprint: (e: BenchEventRow) => string,
  send: (e: BenchEventRow, previous: string | undefined) => Promise<boolean>,
): Promise<void> {
  const last = await loadNotified(
    deps.db,
    channel,
    events.map((e) => e.event_id),
  );
  for (const e of events) {
    const now = fingerprint(e);
    const previous = last.get(e.event_id);
    if (previous === now) continue;
    await send(e, previous);
    await saveNotified(deps.db, channel, e.event_id, now, deps.now);
  }
}
