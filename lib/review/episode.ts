import { z } from "zod";
import type { EpisodeRow } from "../clickhouse/tables";
import { absoluteUrl, episodeSlug, paths } from "../site/paths";

/**
 * What a review of an episode looks like (MUSE_PUBLISH_MODE=pull-request, docs/reach.md "Review before an episode
 * goes live"): its branch, named from the episode alone so that every retry and every instance writes to the same
 * one; the pull request's title and body (the episode's title and summary, its open events with their charts, links
 * to the evidence, what merging and `/muse reject` do) carrying a hidden marker that names the episode.
 */

export const REVIEW_BRANCH_PREFIX = "muse/episode/";
const BRANCH = /^muse\/episode\/([a-z0-9][a-z0-9-]{0,63})\/ep-(\d{3,5})$/;
const MARKER = /<!--\s*muse-episode:([a-z0-9][a-z0-9-]{0,63})\/ep-(\d{3,5})\s*-->/;

export interface EpisodeRef {
  series: string;
  episode: number;
}

/** `muse/episode/<series>/ep-NNN`. */
export function episodeBranch(series: string, episode: number): string {
  return `${REVIEW_BRANCH_PREFIX}${series}/${episodeSlug(episode)}`;
}

/** The episode of a review branch; undefined for any other branch. */
export function episodeOfBranch(branch: string): EpisodeRef | undefined {
  const m = BRANCH.exec(branch);
  return m ? { series: m[1], episode: Number(m[2]) } : undefined;
}

/** The hidden marker of a review's body: `<!-- muse-episode:<series>/ep-NNN -->`. */
export function episodeMarker(series: string, episode: number): string {
  return `<!-- muse-episode:${series}/${episodeSlug(episode)} -->`;
}

/** The episode a pull request's body names by its marker; undefined when it carries none. */
export function episodeOfBody(body: string | null | undefined): EpisodeRef | undefined {
  const m = MARKER.exec(body ?? "");
  return m ? { series: m[1], episode: Number(m[2]) } : undefined;
}

/** `chimera/ep-001`, `chimera/1` or `chimera ep-001` → the episode; undefined when it names none. */
export function parseEpisodeArg(text: string): EpisodeRef | undefined {
  const m = /^([a-z0-9][a-z0-9-]{0,63})[/\s]+(?:ep-)?(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const episode = Number(m[2]);
  return episode >= 1 && episode <= 65535 ? { series: m[1], episode } : undefined;
}

// ---------------------------------------------------------------- the pull request

/** What the body reads of the episode's facts; anything else in them is ignored, anything missing left out. */
const storyEvent = z.object({
  event_id: z.string().catch(""),
  kind: z.string().catch(""),
  status: z.string().catch(""),
  commit_sha: z.string().catch(""),
  new: z.boolean().catch(true),
  lead: z.object({ label: z.string(), change_pct: z.number() }).nullable().catch(null),
  triage: z.object({ action: z.string(), actor: z.string() }).nullable().catch(null),
});
const openRegression = z.object({ label: z.string(), commit_sha: z.string().catch(""), change_pct: z.number() });
const storyFacts = z
  .object({ events: z.array(z.unknown()).catch([]), open_regressions: z.array(z.unknown()).catch([]) })
  .catch({ events: [], open_regressions: [] });

export interface OpenEvent {
  event_id: string;
  kind: string;
  status: string;
  label: string;
  change_pct: number;
  commit_sha: string;
  /** New in this episode (false: known from an earlier one and still open). */
  new: boolean;
  triage: string;
}

/** The episode's events still open (open or partly fixed), then the older open regressions it lists as known. */
export function openEvents(factsJson: string): { events: OpenEvent[]; known: z.infer<typeof openRegression>[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(factsJson);
  } catch {
    raw = {};
  }
  const facts = storyFacts.parse(raw);
  const events: OpenEvent[] = [];
  for (const item of facts.events) {
    const e = storyEvent.safeParse(item);
    if (!e.success || !e.data.lead || (e.data.status !== "open" && e.data.status !== "partly_fixed")) continue;
    events.push({
      event_id: e.data.event_id,
      kind: e.data.kind,
      status: e.data.status,
      label: e.data.lead.label,
      change_pct: e.data.lead.change_pct,
      commit_sha: e.data.commit_sha,
      new: e.data.new,
      triage: e.data.triage ? `${e.data.triage.action} (${e.data.triage.actor})` : "",
    });
  }
  const told = new Set(events.map((e) => `${e.label}\u0000${e.commit_sha}`));
  const known = facts.open_regressions
    .map((r) => openRegression.safeParse(r))
    .flatMap((r) => (r.success ? [r.data] : []))
    .filter((r) => !told.has(`${r.label}\u0000${r.commit_sha}`));
  return { events, known };
}

/** The public chart of a stored event (GET /api/events/{id}/chart.svg, as GitHub issues show it). */
const eventChartUrl = (siteUrl: string, eventId: string) => absoluteUrl(siteUrl, `/api/events/${encodeURIComponent(eventId)}/chart.svg`);
const pct = (v: number) => `${v > 0 ? "+" : ""}${Math.round(v * 10) / 10} %`;
const short = (sha: string) => (sha ? `\`${sha.slice(0, 7)}\`` : "");
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

export function reviewTitle(original: Pick<EpisodeRow, "series" | "episode_num" | "title">, translationsOnly = false): string {
  const nnn = String(original.episode_num).padStart(3, "0");
  const title = oneLine(original.title);
  return translationsOnly
    ? `Publish translations of ${original.series} episode ${nnn}${title ? `: ${title}` : ""}`
    : `Publish ${original.series} episode ${nnn}${title ? `: ${title}` : ""}`;
}

export interface ReviewBodyInput {
  original: Pick<EpisodeRow, "series" | "episode_num" | "title" | "summary" | "confidence_score" | "facts">;
  /** Languages on the branch (the original's first). */
  langs: readonly string[];
  /** Content-relative paths of the files on the branch. */
  files: readonly string[];
  siteUrl: string;
  /** Only translations are reviewed (the original is published already). */
  translationsOnly?: boolean;
}

/** The pull request's description (markdown), ending in the episode's hidden marker. */
export function reviewBody(input: ReviewBodyInput): string {
  const { original, siteUrl } = input;
  const { events, known } = openEvents(original.facts);
  const lines: string[] = [`## ${oneLine(original.title) || `${original.series} episode ${original.episode_num}`}`, ""];
  if (original.summary.trim())
    lines.push(
      ...original.summary
        .trim()
        .split(/\r?\n/)
        .map((l) => `> ${l}`),
      "",
    );
  lines.push(
    `Series \`${original.series}\`, episode ${original.episode_num} · languages: ${input.langs.join(", ")} · confidence ${original.confidence_score.toFixed(2)}`,
    "",
  );
  if (input.translationsOnly) lines.push("The episode is published already: this pull request adds its translations.", "");

  lines.push("### Open events", "");
  if (events.length === 0 && known.length === 0) lines.push("None: the episode tells of no regression or improvement that is still open.");
  for (const e of events) {
    const chart = e.event_id ? ` · [chart](${eventChartUrl(siteUrl, e.event_id)})` : "";
    const state = [e.status === "partly_fixed" ? "partly fixed" : "open", e.new ? "new" : "known", e.triage].filter(Boolean).join(", ");
    lines.push(`- ${e.kind === "improvement" ? "Improvement" : "Regression"}: ${e.label} ${pct(e.change_pct)} at ${short(e.commit_sha)} (${state})${chart}`);
  }
  for (const r of known) lines.push(`- Regression (known, still open): ${r.label} ${pct(r.change_pct)} at ${short(r.commit_sha)}`);
  lines.push(
    "",
    "### Evidence",
    "",
    `- [Status page](${absoluteUrl(siteUrl, paths.status("en"))}): every open event, with its runs`,
    `- The episode once published: ${absoluteUrl(siteUrl, paths.episode("en", original.series, original.episode_num))}`,
    `- Files: ${input.files.map((f) => `\`${f}\``).join(", ")}`,
    "",
    "### Review",
    "",
    "Vercel builds a preview of this branch. **Merging publishes the episode** (the deployment of the merge is recorded). " +
      "To reject it, comment `/muse reject <why>` (write access needed): the pull request is closed and the episode marked rejected.",
    "",
    episodeMarker(original.series, original.episode_num),
  );
  return `${lines.join("\n")}\n`;
}

/** The page of an episode's slug for messages (`chimera/ep-001`). */
export const episodeName = (series: string, episode: number) => `${series}/${episodeSlug(episode)}`;
