import { isUnplaced, shapeSizeText, type BenchEventRow } from "../lifecycle/events";
import { absoluteUrl, paths } from "../site/paths";
import { eventChartUrl, short } from "./github-issues";

/**
 * Slack, through an incoming webhook (MUSE_SLACK_WEBHOOK_URL): one message
 * when a regression is found, when bisection narrows it to one commit, and
 * when it is fixed (docs/reach.md). The message is Block Kit: `text` (the
 * notification's fallback) and `blocks`, section blocks of mrkdwn text
 * (https://api.slack.com/reference/block-kit/blocks#section). Slack cannot
 * show an SVG, so the chart is a link.
 *
 * What was last announced is an event's fingerprint (`state|blamed_sha`) in
 * event_notifications; a message goes out only for a new regression, a newly
 * blamed commit or a fix.
 */

export interface SlackText {
  type: "mrkdwn";
  text: string;
}
export interface SlackSection {
  type: "section";
  text: SlackText;
}
export interface SlackMessage {
  text: string;
  blocks: SlackSection[];
}

export type SlackNotice = "new" | "narrowed" | "fixed";

export const slackFingerprint = (e: Pick<BenchEventRow, "state" | "blamed_sha">) => `${e.state}|${e.blamed_sha}`;

/** What an event's change since the last message earns: a notice, or null (nothing to say). */
export function slackNotice(e: BenchEventRow, previous: string | undefined): SlackNotice | null {
  if (e.kind !== "regression") return null;
  const open = e.state === "open" || e.state === "partly_fixed";
  if (previous === undefined) return open ? "new" : null;
  const [state, blamed = ""] = previous.split("|");
  if (e.state === "fixed" && state !== "fixed") return "fixed";
  if (open && (state === "fixed" || state === "withdrawn")) return "new";
  if (open && e.blamed_sha && e.blamed_sha !== blamed) return "narrowed";
  return null;
}

/** Slack's mrkdwn escapes: &, < and > (https://api.slack.com/reference/surfaces/formatting#escaping). */
export const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const link = (url: string, text: string) => `<${url}|${slackEscape(text)}>`;
const pct = (v: number) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(1)} %`;
const section = (text: string): SlackSection => ({ type: "section", text: { type: "mrkdwn", text: text.slice(0, 3000) } });

export function slackMessage(e: BenchEventRow, notice: SlackNotice, context: { siteUrl: string; repo?: string; issueUrl?: string }): SlackMessage {
  const commitRef = (sha: string) => (context.repo ? link(`https://github.com/${context.repo}/commit/${sha}`, short(sha)) : `\`${short(sha)}\``);
  const where = e.blamed_sha
    ? `commit ${commitRef(e.blamed_sha)}`
    : isUnplaced(e)
      ? "no commit (the drift began before the first run looked at)"
      : `between \`${short(e.range_from_sha)}\` and \`${short(e.range_to_sha)}\` (${e.code_commits.length} code commits${
          e.bisection_status === "bisecting" ? `, bisecting: step ${e.bisection_steps + 1} of at most ${e.bisection_steps + e.bisection_steps_left}` : ""
        })`;
  // A drift or spread change is told by its slope or noise ratio (docs/change-points.md).
  const size = `${shapeSizeText(e) ?? `${pct(e.change_pct)} (95 % interval ${pct(e.ci_low_pct)} to ${pct(e.ci_high_pct)})`} in ${e.metric} of ${slackEscape(e.label)}`;
  const headline =
    notice === "new"
      ? `:warning: *Regression found*: ${size}, ${where}.`
      : notice === "narrowed"
        ? `:mag: *Regression narrowed*: bisection blames ${where} for ${size}.`
        : `:white_check_mark: *Regression fixed*: ${size}, at ${where}, fixed by ${e.fixed_by_sha ? commitRef(e.fixed_by_sha) : "a later change"}${
            e.recovered_pct !== null ? ` (${e.recovered_pct.toFixed(1)} % recovered)` : ""
          }.`;
  const series = e.series_changed > 1 ? `${e.series_changed} series moved.` : "1 series moved.";
  const links = [
    link(eventChartUrl(context.siteUrl, e.event_id), "chart"),
    link(absoluteUrl(context.siteUrl, paths.status("en")), "status page"),
    ...(context.issueUrl ? [link(context.issueUrl, "GitHub issue")] : []),
  ].join(" · ");
  const fallback = `${notice === "new" ? "Regression found" : notice === "narrowed" ? "Regression narrowed" : "Regression fixed"}: ${shapeSizeText(e)?.replace(/ \(95 % interval.*$/, "") ?? pct(e.change_pct)} in ${e.metric} of ${e.label}`;
  return { text: fallback, blocks: [section(headline), section(`${series} ${links}`)] };
}

export async function postSlack(webhookUrl: string, message: SlackMessage, fetchImpl: typeof globalThis.fetch = globalThis.fetch): Promise<void> {
  const res = await fetchImpl(webhookUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(message) });
  if (!res.ok) throw new Error(`Slack webhook answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}
