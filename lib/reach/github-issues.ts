import { createHash } from "node:crypto";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import type { Env } from "../env";
import { formatFact, isPValueFloor } from "../episode/fact";
import { commitSubject } from "../episode/references";
import { isUnplaced, shapeSizeText, type BenchEventRow } from "../lifecycle/events";
import type { Logger } from "../log";
import { absoluteUrl, paths } from "../site/paths";
import { createGitHubClient, parseRepoRef } from "../upstream/github";
import { loadEventIssues, saveEventIssue, type EventIssueRow, type IssueState } from "./store";
import { messageOf } from "../error-message";

/**
 * One GitHub issue per regression event on Banterhearts, kept current
 * (docs/reach.md). The issue says where the regression is (the blamed commit
 * and its author, or the range while bisection runs), how big it is, which
 * series moved, whether users felt it, links to the status page and the
 * episode, and shows the event's chart from the site's public chart route.
 * Muse edits it when its body changes (compared by hash), comments when
 * bisection narrows it to one commit, when it is partly fixed, fixed (and then
 * closes it), withdrawn (closes it) or back again (reopens it), and keeps its
 * labels (`muse`, `regression`, `state:…`, `bisecting`) in step.
 *
 * Created once across council runs and serverless instances: `event_issues`
 * remembers the issue of each event, and before creating one Muse lists the
 * repository's `muse` issues for the hidden marker `<!-- muse-event:<id> -->`
 * of the body (the list API, not search: search is eventually consistent and
 * may miss an issue created a moment ago). Two instances that race past both
 * checks each look again after creating: the higher-numbered duplicate is
 * closed as a duplicate of the lower one, which both keep. Every comment has a
 * marker of its own, so a retried or raced transition comments once.
 */

export const MUSE_LABEL = "muse";
export const REGRESSION_LABEL = "regression";
export const BISECTING_LABEL = "bisecting";
const STATE_LABELS: Record<IssueState, string> = {
  open: "state:open",
  bisecting: "state:open",
  partly_fixed: "state:partly-fixed",
  fixed: "state:fixed",
  withdrawn: "state:withdrawn",
};
/**
 * A maintainer's triage (lib/triage, docs/triage.md) as a label: `triage:expected`, `triage:invalid`, `triage:ack`.
 * Expected (the accepted cost of a change) and invalid (not a real change) close the issue as not planned; ack keeps it
 * open. A later `/muse` word changes the label with it.
 */
const TRIAGE_LABEL_PREFIX = "triage:";
const TRIAGE_TEXT: Record<Exclude<BenchEventRow["triage"], "">, string> = {
  expected: "expected (the accepted cost of a change; closed as not planned)",
  invalid: "invalid (not a real change; closed as not planned)",
  ack: "acknowledged",
};
const CLOSING_TRIAGE: ReadonlySet<string> = new Set(["expected", "invalid"]);
const closedByTriage = (labels: readonly string[]) =>
  labels.some((l) => l.startsWith(TRIAGE_LABEL_PREFIX) && CLOSING_TRIAGE.has(l.slice(TRIAGE_LABEL_PREFIX.length)));
/** Labels Muse owns on its issues; any other label (a maintainer's) is left alone. */
export const isMuseLabel = (label: string) =>
  label === MUSE_LABEL || label === REGRESSION_LABEL || label === BISECTING_LABEL || label.startsWith("state:") || label.startsWith(TRIAGE_LABEL_PREFIX);

export const eventMarker = (eventId: string) => `<!-- muse-event:${eventId} -->`;
const MARKER = /<!-- muse-event:([A-Za-z0-9-]+) -->/;

// ---------------------------------------------------------------- the client

export interface IssueRef {
  number: number;
  state: "open" | "closed";
  body: string;
  labels: string[];
}

export interface IssueUpdate {
  title?: string;
  body?: string;
  state?: "open" | "closed";
  state_reason?: "completed" | "not_planned" | "duplicate" | "reopened";
}

/** The issue operations Muse needs, on one repository. */
export interface IssueClient {
  /** owner/name, for links. */
  readonly repo: string;
  /** Every issue (open or closed, not pull requests) labelled `muse`. */
  listMuseIssues(): Promise<IssueRef[]>;
  create(input: { title: string; body: string; labels: string[] }): Promise<IssueRef>;
  update(issue: number, patch: IssueUpdate): Promise<void>;
  comments(issue: number): Promise<string[]>;
  comment(issue: number, body: string): Promise<void>;
  addLabels(issue: number, labels: string[]): Promise<void>;
  removeLabel(issue: number, label: string): Promise<void>;
}

export interface IssueClientOptions {
  token: string;
  /** owner/name (a trailing @branch is ignored). */
  repo: string;
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Retries of a 5xx or network failure (default 3; tests set 0). */
  retries?: number;
  /** Pause between writes (unset: Octokit's shared write queue; tests set 0). */
  writeIntervalMs?: number;
  log?: Logger;
}

const labelOf = z.union([z.string(), z.object({ name: z.string().optional() })]).transform((l) => (typeof l === "string" ? l : (l.name ?? "")));
const issueResponse = z.object({
  number: z.number().int(),
  state: z.enum(["open", "closed"]),
  body: z
    .string()
    .nullish()
    .transform((b) => b ?? ""),
  labels: z.array(labelOf),
  pull_request: z.unknown().optional(),
});
const commentResponse = z.object({
  body: z
    .string()
    .nullish()
    .transform((b) => b ?? ""),
});

const toRef = (i: z.infer<typeof issueResponse>): IssueRef => ({ number: i.number, state: i.state, body: i.body, labels: i.labels.filter(Boolean) });

/** The Octokit implementation (REST: issues, comments, labels). */
export function createIssueClient(options: IssueClientOptions): IssueClient {
  const { owner, repo } = parseRepoRef(options.repo);
  const octokit = createGitHubClient({
    token: options.token,
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    retries: options.retries,
    writeIntervalMs: options.writeIntervalMs,
    userAgent: "muse-reach",
    log: options.log,
  });
  return {
    repo: `${owner}/${repo}`,
    async listMuseIssues() {
      const items = await octokit.paginate("GET /repos/{owner}/{repo}/issues", { owner, repo, state: "all", labels: MUSE_LABEL, per_page: 100 });
      return z
        .array(issueResponse)
        .parse(items)
        .filter((i) => i.pull_request === undefined)
        .map(toRef);
    },
    async create(input) {
      const res = await octokit.request("POST /repos/{owner}/{repo}/issues", { owner, repo, title: input.title, body: input.body, labels: input.labels });
      return toRef(issueResponse.parse(res.data));
    },
    async update(issue, patch) {
      await octokit.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", { owner, repo, issue_number: issue, ...patch });
    },
    async comments(issue) {
      const items = await octokit.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: issue, per_page: 100 });
      return z
        .array(commentResponse)
        .parse(items)
        .map((c) => c.body);
    },
    async comment(issue, body) {
      await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: issue, body });
    },
    async addLabels(issue, labels) {
      await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { owner, repo, issue_number: issue, labels });
    },
    async removeLabel(issue, label) {
      try {
        await octokit.request("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", { owner, repo, issue_number: issue, name: label });
      } catch (error) {
        // Already gone (a maintainer removed it): what we wanted.
        if ((error as { status?: number }).status !== 404) throw error;
      }
    },
  };
}

/** Issues are on when GITHUB_TOKEN and BANTERHEARTS_REPO are set and MUSE_GITHUB_ISSUES is not false. */
export function issueClientFromEnv(env: Env, log?: Logger): IssueClient | undefined {
  if (!env.GITHUB_TOKEN || !env.BANTERHEARTS_REPO || !env.MUSE_GITHUB_ISSUES) return undefined;
  return createIssueClient({ token: env.GITHUB_TOKEN, repo: env.BANTERHEARTS_REPO, baseUrl: env.GITHUB_API_URL, log });
}

// ---------------------------------------------------------------- what the issue says

/** What the council knows about an event beyond its row (all optional). */
export interface EventExtras {
  /** Whether users felt it (the episode's user-impact analysis); unset or null: not known. */
  users?: { felt: boolean; measurable?: boolean; latency_change_pct?: number | null } | null;
  /** Absolute URL of the episode that told the event. */
  episodeUrl?: string;
  /** Labels of the series that moved, the lead's first. */
  series?: string[];
}

export interface CommitInfo {
  author: string;
  subject: string;
}

export interface IssueView {
  state: IssueState;
  title: string;
  body: string;
  labels: string[];
  open: boolean;
}

const METRIC_NAMES: Record<string, string> = {
  latency_p95_ms: "p95 latency",
  latency_mean_ms: "mean latency",
  tokens_per_sec: "throughput",
  memory_peak_mb: "peak memory",
};
const METRIC_UNITS: Record<string, string> = { latency_p95_ms: "ms", latency_mean_ms: "ms", tokens_per_sec: "tokens/s", memory_peak_mb: "MB" };

/** A GitHub login: 1–39 letters, digits or single inner hyphens. A git author name with a space or a dot is a name. */
export const looksLikeLogin = (author: string) => /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(author);

export const short = (sha: string) => sha.slice(0, 7);
const pct = (v: number) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(1)} %`;
const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export function issueStateOf(e: Pick<BenchEventRow, "state" | "bisection_status" | "blamed_sha">): IssueState {
  if (e.state === "withdrawn") return "withdrawn";
  if (e.state === "fixed") return "fixed";
  if (e.state === "partly_fixed") return "partly_fixed";
  return e.bisection_status === "bisecting" && !e.blamed_sha ? "bisecting" : "open";
}

export function labelsOf(state: IssueState, triage: BenchEventRow["triage"] = ""): string[] {
  return [
    MUSE_LABEL,
    REGRESSION_LABEL,
    STATE_LABELS[state],
    ...(state === "bisecting" ? [BISECTING_LABEL] : []),
    ...(triage ? [`${TRIAGE_LABEL_PREFIX}${triage}`] : []),
  ];
}

/** A maintainer's words inside one table cell: on one line, pipes escaped. */
const cell = (text: string) =>
  text
    .replace(/[\r\n]+/g, " ")
    .replace(/\|/g, "\\|")
    .slice(0, 300);

/** The chart image of an event: the site's public chart route. */
export const eventChartUrl = (siteUrl: string, eventId: string) => absoluteUrl(siteUrl, `/api/events/${encodeURIComponent(eventId)}/chart.svg`);

function person(author: string): string {
  if (!author) return "";
  return looksLikeLogin(author) ? `@${author}` : author;
}

function commitLink(repo: string, sha: string, commits: Map<string, CommitInfo>, withAuthor: boolean): string {
  const info = commits.get(sha);
  const subject = info?.subject ? ` “${info.subject.replace(/[\r\n]+/g, " ").slice(0, 120)}”` : "";
  const author = withAuthor && info?.author ? ` by ${person(info.author)}` : "";
  return `[\`${short(sha)}\`](https://github.com/${repo}/commit/${sha})${subject}${author}`;
}

/** The issue of an event: title, body (with its marker), labels and whether it is open. */
export function issueView(e: BenchEventRow, context: { siteUrl: string; repo: string; commits: Map<string, CommitInfo>; extras?: EventExtras }): IssueView {
  const state = issueStateOf(e);
  const metric = METRIC_NAMES[e.metric] ?? e.metric;
  const unit = METRIC_UNITS[e.metric] ?? "";
  const where = e.blamed_sha
    ? `at ${short(e.blamed_sha)}`
    : isUnplaced(e)
      ? "since before the first run looked at"
      : `between ${short(e.range_from_sha)} and ${short(e.range_to_sha)}`;
  // A drift or spread change is told by its slope or noise ratio, not as a step of the level (docs/change-points.md).
  const shaped = shapeSizeText(e);
  const title = `Regression: ${metric} ${shaped?.replace(/ \(95 % interval.*$/, "") ?? pct(e.change_pct)} in ${e.label} ${where}`;
  const extras = context.extras ?? {};

  let commit: string;
  if (e.blamed_sha) {
    const how =
      e.code_commits.length > 1 && e.bisection_status === "bisected"
        ? ` (bisected from ${e.code_commits.length} code commits in ${e.bisection_steps} steps, ${e.bisection_extra_runs} extra runs)`
        : "";
    commit = `${commitLink(context.repo, e.blamed_sha, context.commits, true)}${how}`;
  } else {
    const range = isUnplaced(e)
      ? "none: the drift began before the first run the detector looked at"
      : `between \`${short(e.range_from_sha)}\` and \`${short(e.range_to_sha)}\` (${e.code_commits.length} code commits)`;
    const step =
      e.bisection_status === "bisecting"
        ? `, bisecting: step ${e.bisection_steps + 1} of at most ${e.bisection_steps + e.bisection_steps_left}`
        : e.bisection_status === "stuck"
          ? `, bisection stopped${e.bisection_note ? `: ${e.bisection_note}` : ""}`
          : "";
    const authors = [...new Set(e.code_commits.map((sha) => context.commits.get(sha)?.author ?? "").filter(Boolean))].map(person);
    commit = `${range}${step}${authors.length ? `; their authors: ${authors.join(", ")}` : ""}`;
  }
  const series = extras.series?.length ? extras.series : [e.label];
  const seriesText =
    e.series_changed > series.length
      ? `${series.map((s) => `\`${s}\``).join(", ")} and ${e.series_changed - series.length} more (${e.series_changed} in all)`
      : series.map((s) => `\`${s}\``).join(", ");
  const users =
    extras.users === undefined || extras.users === null || extras.users.measurable === false
      ? "not known"
      : extras.users.felt
        ? `yes${typeof extras.users.latency_change_pct === "number" ? ` (user latency ${pct(extras.users.latency_change_pct)})` : ""}`
        : "no measurable change for users";
  const recovered =
    e.recovered_pct === null
      ? ""
      : `${e.recovered_pct.toFixed(1)} % recovered (95 % interval ${(e.recovered_ci_low ?? e.recovered_pct).toFixed(1)} % to ${(e.recovered_ci_high ?? e.recovered_pct).toFixed(1)} %)`;
  const stateText: Record<IssueState, string> = {
    open: "open",
    bisecting: "open, bisection narrowing the range",
    partly_fixed: `partly fixed by ${e.fixed_by_sha ? commitLink(context.repo, e.fixed_by_sha, context.commits, false) : "a later change"}: ${recovered}; the rest is still open`,
    fixed: `fixed by ${e.fixed_by_sha ? commitLink(context.repo, e.fixed_by_sha, context.commits, false) : "a later change"}: ${recovered}`,
    withdrawn: "withdrawn: a later run no longer finds this change",
  };
  const links = [`[status page](${absoluteUrl(context.siteUrl, paths.status("en"))})`, ...(extras.episodeUrl ? [`[episode](${extras.episodeUrl})`] : [])];
  const body = [
    eventMarker(e.event_id),
    shaped
      ? `**${metric} of \`${e.label}\` ${shaped}** (a ${e.shape === "drift" ? "drift" : "change in spread"}; q ${isPValueFloor({ value: e.q_value, unit: "p_value" }) ? "" : "= "}${formatFact({ value: e.q_value, unit: "p_value", decimals: 2 }, "en")})`
      : `**${metric} of \`${e.label}\` ${pct(e.change_pct)}** (95 % interval ${pct(e.ci_low_pct)} to ${pct(e.ci_high_pct)}; ${num(e.mean_before)} → ${num(e.mean_after)}${unit ? ` ${unit}` : ""}, ${e.n_before} runs before and ${e.n_after} after; q ${isPValueFloor({ value: e.q_value, unit: "p_value" }) ? "" : "= "}${formatFact({ value: e.q_value, unit: "p_value", decimals: 2 }, "en")})`,
    "",
    "| | |",
    "|---|---|",
    `| Commit | ${commit} |`,
    `| Series that moved | ${seriesText} |`,
    `| Users felt it | ${users} |`,
    `| State | ${stateText[state]} |`,
    ...(e.triage
      ? [`| Triage | ${TRIAGE_TEXT[e.triage]}${e.triage_actor ? ` by ${person(e.triage_actor)}` : ""}${e.triage_reason ? `: ${cell(e.triage_reason)}` : ""} |`]
      : []),
    ...(e.returns_of ? [`| Returns | an earlier fixed regression (event \`${e.returns_of}\`) came back |`] : []),
    "",
    `![Runs of ${e.label} around the change](${eventChartUrl(context.siteUrl, e.event_id)})`,
    "",
    links.join(" · "),
    "",
    `<sub>Muse opened this issue for benchmark event \`${e.event_id}\` and keeps it current: it edits this text as the event changes, comments when bisection finds the commit or the regression is (partly) fixed, and closes it when it is fixed.</sub>`,
  ].join("\n");
  const triageCloses = CLOSING_TRIAGE.has(e.triage);
  return { state, title, body, labels: labelsOf(state, e.triage), open: state !== "fixed" && state !== "withdrawn" && !triageCloses };
}

export const bodyHash = (view: Pick<IssueView, "title" | "body">) => createHash("sha256").update(`${view.title}\n${view.body}`).digest("hex");

/** The comment a transition earns (null: none), with a marker of its own so it is posted once. */
export function transitionComment(
  from: IssueState,
  e: BenchEventRow,
  view: IssueView,
  context: { repo: string; commits: Map<string, CommitInfo> },
): { marker: string; body: string } | null {
  const to = view.state;
  const recovered =
    e.recovered_pct === null
      ? ""
      : ` ${e.recovered_pct.toFixed(1)} % of the regression recovered (95 % interval ${(e.recovered_ci_low ?? e.recovered_pct).toFixed(1)} % to ${(e.recovered_ci_high ?? e.recovered_pct).toFixed(1)} %).`;
  const fix = e.fixed_by_sha ? commitLink(context.repo, e.fixed_by_sha, context.commits, true) : "a later change";
  let key: string;
  let text: string;
  if (to === "fixed" && from !== "fixed") {
    key = `fixed:${e.fixed_by_sha}`;
    text = `Fixed by ${fix}:${recovered} Closing.`;
  } else if (to === "partly_fixed" && from !== "partly_fixed") {
    key = `partly_fixed:${e.fixed_by_sha}:${e.recovered_pct ?? ""}`;
    text = `Partly fixed by ${fix}:${recovered} The rest is still open.`;
  } else if (to === "withdrawn" && from !== "withdrawn") {
    key = `withdrawn:${e.updated_at}`;
    text = "A later council run no longer finds this change in the benchmark data: withdrawn. Closing.";
  } else if ((from === "fixed" || from === "withdrawn") && (to === "open" || to === "bisecting")) {
    key = `reopened:${e.updated_at}`;
    text = "The regression shows again in the latest runs. Reopening.";
  } else if (from === "bisecting" && to === "open" && e.blamed_sha) {
    key = `narrowed:${e.blamed_sha}`;
    text = `Bisection found the commit: ${commitLink(context.repo, e.blamed_sha, context.commits, true)} (${e.code_commits.length} code commits, ${e.bisection_steps} steps, ${e.bisection_extra_runs} extra runs).`;
  } else {
    return null;
  }
  const marker = `<!-- muse-event:${e.event_id} ${key} -->`;
  return { marker, body: `${marker}\n${text}` };
}

// ---------------------------------------------------------------- the sync

/**
 * An issue found by its marker, as if Muse had written it: an open issue shows an open event (so a fix since is
 * still commented on and closed); a closed one is taken to show what the event is now, so Muse never reopens an
 * issue a maintainer closed.
 */
function adopt(found: IssueRef, view: IssueView): Pick<EventIssueRow, "issue_number" | "state" | "body_sha256" | "labels"> {
  const state: IssueState = found.state === "closed" ? view.state : view.open ? view.state : "open";
  return { issue_number: found.number, state, body_sha256: "", labels: found.labels.filter(isMuseLabel) };
}

export interface SyncContext {
  now: Date;
  siteUrl: string;
  /** Per event_id: what the council knows beyond the row. */
  extras?: Map<string, EventExtras>;
  log?: Logger;
}

export interface SyncSummary extends Record<string, unknown> {
  created: number;
  edited: number;
  commented: number;
  closed: number;
  reopened: number;
  unchanged: number;
  duplicates_closed: number;
  failed: { event_id: string; error: string }[];
}

const commitRow = z.object({ sha: z.string(), author: z.string(), message: z.string() });

async function loadCommitInfo(db: Db, shas: string[]): Promise<Map<string, CommitInfo>> {
  if (shas.length === 0) return new Map();
  const rows = await db.query(
    `SELECT toString(sha) AS sha, author, message FROM upstream_commits FINAL WHERE repo = 'banterhearts' AND toString(sha) IN {shas:Array(String)}`,
    { shas },
    commitRow,
  );
  return new Map(rows.map((r) => [r.sha, { author: r.author, subject: commitSubject(r.message) }]));
}

/**
 * Brings the issue of each regression event in `events` in step with it:
 * creates the issue of an open (or partly fixed) regression that has none,
 * edits, relabels, comments, closes or reopens the others. One failing event
 * is reported and the others go on; the call itself throws only when
 * ClickHouse cannot be read.
 */
export async function syncRegressionIssues(db: Db, client: IssueClient, events: readonly BenchEventRow[], context: SyncContext): Promise<SyncSummary> {
  const summary: SyncSummary = { created: 0, edited: 0, commented: 0, closed: 0, reopened: 0, unchanged: 0, duplicates_closed: 0, failed: [] };
  const regressions = events.filter((e) => e.kind === "regression");
  if (regressions.length === 0) return summary;
  const stored = await loadEventIssues(
    db,
    regressions.map((e) => e.event_id),
  );
  const shas = [...new Set(regressions.flatMap((e) => [e.blamed_sha, e.fixed_by_sha, ...e.code_commits]).filter(Boolean))];
  const commits = await loadCommitInfo(db, shas);

  // The repository's Muse issues by marker, read once per call (and again after a create).
  let listed: Promise<Map<string, IssueRef[]>> | undefined;
  const byMarker = async (fresh = false) => {
    if (fresh || !listed)
      listed = client.listMuseIssues().then((issues) => {
        const map = new Map<string, IssueRef[]>();
        for (const issue of issues) {
          const id = MARKER.exec(issue.body)?.[1];
          if (id)
            map.set(
              id,
              [...(map.get(id) ?? []), issue].sort((a, b) => a.number - b.number),
            );
        }
        return map;
      });
    return listed;
  };

  for (const e of regressions) {
    try {
      await syncOne(e);
    } catch (error) {
      const message = messageOf(error);
      summary.failed.push({ event_id: e.event_id, error: message });
      context.log?.warn("github issue sync failed", { event_id: e.event_id, error: message });
    }
  }
  return summary;

  async function syncOne(e: BenchEventRow): Promise<void> {
    const view = issueView(e, { siteUrl: context.siteUrl, repo: client.repo, commits, extras: context.extras?.get(e.event_id) });
    const hash = bodyHash(view);
    let known: Pick<EventIssueRow, "issue_number" | "state" | "body_sha256" | "labels"> | undefined = stored.get(e.event_id);
    let issueOpen: boolean | undefined;

    if (!known) {
      const found = (await byMarker()).get(e.event_id)?.[0];
      if (found) {
        // Another instance (or a lost row) opened it: adopt it as GitHub has it.
        known = adopt(found, view);
        issueOpen = found.state === "open";
      } else {
        // Nothing to tell about a regression that was over before Muse had an issue for it.
        if (!view.open) return;
        const created = await client.create({ title: view.title, body: view.body, labels: view.labels });
        summary.created += 1;
        // Raced by another instance? The lowest number wins; ours closes as its duplicate.
        const all = (await byMarker(true)).get(e.event_id) ?? [created];
        const winner = all[0] && all[0].number < created.number ? all[0] : created;
        if (winner.number !== created.number) {
          await client.comment(created.number, `${eventMarker(e.event_id)}\nDuplicate of #${winner.number}.`);
          await client.update(created.number, { state: "closed", state_reason: "duplicate" });
          summary.duplicates_closed += 1;
          known = adopt(winner, view);
          issueOpen = winner.state === "open";
        } else {
          await saveEventIssue(db, {
            event_id: e.event_id,
            issue_number: created.number,
            state: view.state,
            body_sha256: hash,
            labels: view.labels,
            updated_at: context.now,
          });
          return;
        }
      }
    }

    const number = known.issue_number;
    const wasOpen = issueOpen ?? (known.state !== "fixed" && known.state !== "withdrawn" && !closedByTriage(known.labels));
    let changed = false;

    const comment = transitionComment(known.state, e, view, { repo: client.repo, commits });
    if (comment) {
      const existing = await client.comments(number);
      if (!existing.some((b) => b.includes(comment.marker))) {
        await client.comment(number, comment.body);
        summary.commented += 1;
      }
      changed = true;
    }

    const patch: IssueUpdate = {};
    if (known.body_sha256 !== hash) {
      patch.title = view.title;
      patch.body = view.body;
      summary.edited += 1;
    }
    if (wasOpen && !view.open) {
      patch.state = "closed";
      patch.state_reason = view.state === "fixed" ? "completed" : "not_planned";
      summary.closed += 1;
    } else if (!wasOpen && view.open) {
      patch.state = "open";
      patch.state_reason = "reopened";
      summary.reopened += 1;
    }
    if (Object.keys(patch).length > 0) {
      await client.update(number, patch);
      changed = true;
    }

    const want = new Set(view.labels);
    const have = new Set(known.labels);
    const add = [...want].filter((l) => !have.has(l));
    const remove = [...have].filter((l) => !want.has(l) && isMuseLabel(l));
    if (add.length) await client.addLabels(number, add);
    for (const label of remove) await client.removeLabel(number, label);
    if (add.length || remove.length) changed = true;

    if (!changed && known.state === view.state) {
      summary.unchanged += 1;
      return;
    }
    await saveEventIssue(db, {
      event_id: e.event_id,
      issue_number: number,
      state: view.state,
      body_sha256: hash,
      labels: view.labels,
      updated_at: context.now,
    });
  }
}
