import type { ChangeEvent, Facts } from "../analysis/facts";
import { renderedLengthEstimate, type EpisodeDraft, type Series, type TitleRules } from "../episode/draft";
import { availableClaims } from "../episode/claims";
import { nounText } from "../episode/nouns";
import { numbersIn } from "../episode/residual";

/**
 * The deterministic writer: the same draft structure as the LLM's, built from
 * the same facts without a model. Like the model, it writes no figure: every
 * number is a `{{fact:<id>}}` reference and every commit a `{{commit:<sha>}}`
 * reference, rendered later by the one formatter (lib/episode).
 *
 * The story: what changed (each change point with its commit, size and
 * interval), whether users felt it, the benchmark figures, and next steps from
 * what is still open. The title leads with the biggest event.
 */

const METRIC_NAMES: Record<string, string> = {
  latency_p95_ms: "p95 latency",
  latency_mean_ms: "mean latency",
  tokens_per_sec: "throughput",
  memory_peak_mb: "peak memory",
  latency_p99_ms: "p99 latency",
  accuracy: "accuracy",
  loss: "loss",
};

/**
 * A method's quality in one sentence (docs/quality.md): a trade-off (faster and less accurate at one place) with both
 * numbers, where the method now stands against its baseline and its gate; or a gate breach alone. Numbers only as
 * fact references; '' when the event has neither.
 */
export function qualitySentence(e: ChangeEvent, has: (id: string) => boolean): string {
  const k = `event.${e.n}`;
  const g = e.gate && has(`${k}.gate.ratio_after`) && has(`${k}.gate.fraction`) ? e.gate : null;
  const standing = g
    ? `, now ${ref(`${k}.gate.ratio_after`)} of the \`${g.baseline}\` baseline's accuracy — ${g.breached ? "below" : g.ratio_after >= g.fraction ? "still within" : "still below"} the ${ref(`${k}.gate.fraction`)} gate`
    : "";
  if (e.tradeoff && has(`${k}.tradeoff.faster_pct`) && has(`${k}.tradeoff.accuracy_points`)) {
    const metric = METRIC_NAMES[e.tradeoff.latency_metric] ?? e.tradeoff.latency_metric;
    const method = g ? `\`${g.method}\`` : "the method";
    const interval = has(`${k}.tradeoff.faster_ci_low_pct`)
      ? ` (interval ${ref(`${k}.tradeoff.faster_ci_low_pct`)} to ${ref(`${k}.tradeoff.faster_ci_high_pct`)}${e.tradeoff.tested_at_commit && has(`${k}.tradeoff.p_value`) ? `; p = ${ref(`${k}.tradeoff.p_value`)}, tested at this commit` : ""})`
      : "";
    return `A trade-off: ${method} got faster and less accurate at once — ${metric} ${ref(`${k}.tradeoff.faster_pct`)}${interval}, accuracy ${ref(`${k}.tradeoff.accuracy_points`)}${standing}.`;
  }
  if (g && g.breached)
    return `It took \`${g.method}\` below its accuracy gate: from ${ref(`${k}.gate.ratio_before`)} to ${ref(`${k}.gate.ratio_after`)} of the \`${g.baseline}\` baseline's accuracy, against a gate of ${ref(`${k}.gate.fraction`)}.`;
  return "";
}

/** A metric's name in prose; one without a name stays a code span (its digits are an identifier, not a figure). */
const metricName = (metric: string) => METRIC_NAMES[metric] ?? `\`${metric}\``;

const ref = (id: string) => `{{fact:${id}}}`;
const commit = (sha: string) => `{{commit:${sha.slice(0, 12)}}}`;

function fitTitle(candidates: string[], rules: TitleRules): string {
  const fitting = candidates.find((c) => renderedLengthEstimate(c) <= rules.maxLength);
  if (fitting) return fitting;
  const words = candidates.at(-1)!.split(" ");
  let title = "";
  for (const w of words) {
    if ((title ? `${title} ${w}` : w).length > rules.maxLength - 1) break;
    title = title ? `${title} ${w}` : w;
  }
  return `${title}…`;
}

/** "strong" only when the whole interval clears the bar (MUSE_CHIMERA_MIN_CORRELATION), not just the point estimate. */
function strength(r: number, ciLow: number | undefined, ciHigh: number | undefined, bar: number): string {
  const near = r >= 0 ? ciLow : ciHigh === undefined ? undefined : -ciHigh;
  if (near !== undefined && near >= bar) return "strong";
  if (Math.abs(r) >= 0.4) return "moderate";
  return "weak";
}

/** "rose" / "fell": the direction of the lead metric, not its judgement. */
const direction = (e: ChangeEvent) => (e.lead.change_pct > 0 ? "rose" : "fell");

/**
 * A maintainer's words (a triage reason, a login) as prose: markup, links and references stripped; left out
 * (undefined) when they state a number, which only fact references may do (docs/truth-rule.md).
 */
function maintainerWords(text: string, identifiers: readonly string[]): string | undefined {
  const plain = text
    .replace(/[`*_<>[\]()#|~\\{}!]/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.;:,]+$/, "");
  if (!plain || plain.length > 200 || /:\/\/|www\./i.test(plain)) return undefined;
  return numbersIn(plain, { identifiers: [...identifiers], lang: "en" }).length === 0 ? plain : undefined;
}

/** "by octocat" when the name can be said, else "by a maintainer". */
function byWhom(actor: string, identifiers: readonly string[]): string {
  const who = maintainerWords(actor, identifiers);
  return who ? `by ${who}` : "by a maintainer";
}

/** Where the change is: its commit, its range while bisection narrows it, or no code at all. */
function whereItIs(e: ChangeEvent, identifiers: readonly string[] = []): string {
  const k = `event.${e.n}`;
  const subject = e.subject ? ` {{subject:${e.commit_sha.slice(0, 12)}}}` : "";
  const last = e.candidates.at(-1) ?? e.commit_sha;
  const range = e.range_from_sha ? `between ${commit(e.range_from_sha)} and ${commit(last)}` : `up to ${commit(last)}`;
  if (e.attribution === "window") return "a place before the first run the detector looked at (not blamed on any commit)";
  if (e.attribution === "no_code") return `the runs ${range}, which measured the same code`;
  if (e.shape !== "step" && e.attribution === "range")
    return `a commit ${range} (${ref(`${k}.candidates`)} code commits; a ${e.shape === "drift" ? "drift" : "change in spread"} is not bisected)`;
  if (e.attribution === "exact") {
    const bisected =
      e.bisection?.status === "bisected"
        ? ` (bisected from ${ref(`${k}.candidates`)} code commits in ${ref(`${k}.bisect.steps`)} steps, ${ref(`${k}.bisect.extra_runs`)} extra runs)`
        : "";
    if (e.blamed_by) return `commit ${commit(e.commit_sha)}${subject} (blamed ${byWhom(e.blamed_by.actor, identifiers)}, overriding bisection)`;
    return `commit ${commit(e.commit_sha)}${subject}${bisected}`;
  }
  if (e.bisection?.status === "bisecting")
    return `a commit ${range} (${ref(`${k}.candidates`)} code commits), bisecting: step ${ref(`${k}.bisect.step_now`)} of at most ${ref(`${k}.bisect.steps_total`)}`;
  if (e.bisection?.status === "stuck")
    return `a commit ${range} (${ref(`${k}.candidates`)} code commits; bisection could not narrow it further${e.bisection.note ? `: ${e.bisection.note}` : ""})`;
  return `a commit ${range} (${ref(`${k}.candidates`)} code commits; the runs in between cannot tell them apart)`;
}

/** What became of a regression: fixed, partly fixed (with how much), or still open. */
function outcome(e: ChangeEvent, has: (id: string) => boolean, identifiers: readonly string[] = []): string | undefined {
  const k = `event.${e.n}`;
  const recovered =
    e.recovered && has(`${k}.recovered_pct`)
      ? ` It recovered ${ref(`${k}.recovered_pct`)} of the regression (interval ${ref(`${k}.recovered_ci_low`)} to ${ref(`${k}.recovered_ci_high`)}).`
      : "";
  if (e.status === "fixed") {
    const after = has(`${k}.fixed_after_days`) ? ` after ${ref(`${k}.fixed_after_days`)} days` : "";
    return `It was fixed by ${commit(e.fixed_by_sha)}${after}.${recovered}`;
  }
  if (e.triage?.action === "expected" && e.kind === "regression") {
    const why = maintainerWords(e.triage.reason, identifiers);
    return `It was accepted ${byWhom(e.triage.actor, identifiers)} as the cost of ${why ? `the change (${why})` : "an intended change"}, so it is not counted as open.`;
  }
  const acked = e.triage?.action === "ack" ? `, acknowledged ${byWhom(e.triage.actor, identifiers)}` : "";
  if (e.status === "partly_fixed") return `It was partly fixed by ${commit(e.fixed_by_sha)}.${recovered} The rest is still open${acked}.`;
  if (e.status === "open") return `It is still open${acked}.`;
  return undefined;
}

/**
 * A drift or a spread change told in full: its claim (the sentence code writes in the page's language, claims.ts: "p95
 * latency of `X` has been creeping up by +0.41% per run (interval …; q < 0.001) since commit `abc1234`, a change of
 * +12.3% over 30 runs (…)", "… has been noisier since commit `abc1234`: its run-to-run noise is 2.04× what it was before (…)"), the
 * series with it, and what became of it.
 */
function shapeParagraph(e: ChangeEvent, has: (id: string) => boolean, identifiers: readonly string[], claimable: (id: string) => boolean): string {
  const k = `event.${e.n}`;
  const drift = e.shape === "drift";
  const what =
    e.attribution === "no_code"
      ? "An environment change"
      : drift
        ? e.kind === "regression"
          ? "A creeping regression"
          : "A creeping improvement"
        : e.kind === "regression"
          ? "Flakier runs, a regression"
          : "Steadier runs, an improvement";
  // A drift that began before the runs looked at says its date in its claim ("since at least …").
  const date = e.attribution === "window" ? "" : ` (${ref(`${k}.date`)})`;
  const lines = [
    `**${what}**${date}:`,
    // Without its facts (a claim they cannot state) only its place is told.
    claimable(k)
      ? `{{claim:${k}}}`
      : `${metricName(e.lead.metric)} of \`${e.lead.label}\`, ${drift ? "drifting" : "with a change in spread"} from ${whereItIs(e, identifiers)}.`,
  ];
  if (e.blamed_by && e.attribution === "exact") lines.push(`Its commit was blamed ${byWhom(e.blamed_by.actor, identifiers)}.`);
  if (e.series_changed > 1)
    lines.push(`${ref(`${k}.series`)} series ${drift ? "drift" : "changed their spread"} with it, ${ref(`${k}.series_same`)} of them in the same direction.`);
  if (e.attribution === "no_code")
    lines.push("Only benchmark output and docs were committed between these runs: an environment change or noise, not blamed on a commit.");
  if (e.returns_of) lines.push("It brings back an earlier regression that had been fixed.");
  const end = outcome(e, has, identifiers);
  if (end) lines.push(end);
  return lines.join(" ");
}

function eventParagraph(
  e: ChangeEvent,
  has: (id: string) => boolean,
  identifiers: readonly string[] = [],
  claimable: (id: string) => boolean = () => false,
): string {
  if (e.shape !== "step") return shapeParagraph(e, has, identifiers, claimable);
  const k = `event.${e.n}`;
  const metric = metricName(e.lead.metric);
  const what = e.attribution === "no_code" ? "An environment change" : e.kind === "regression" ? "Regression" : "Improvement";
  // Several series: the event's size is the median across them, with its interval; the lead is named as the largest, without one.
  // The size sentence is the event's claim where the facts can state it: written by code, in the page's language.
  const lines = claimable(k)
    ? [`**${what} at ${whereItIs(e, identifiers)}** (${ref(`${k}.date`)}):`, `{{claim:${k}}}`]
    : sized(e, has)
      ? [
          `**${what} at ${whereItIs(e, identifiers)}** (${ref(`${k}.date`)}):`,
          `across the ${ref(`${k}.median.series`)} series of ${metric} that moved with it, the median change was ${ref(`${k}.median_change_pct`)} (interval ${ref(`${k}.median.ci_low_pct`)} to ${ref(`${k}.median.ci_high_pct`)}); the largest of them, \`${e.lead.label}\`, ${direction(e)} from ${ref(`${k}.before`)} to ${ref(`${k}.after`)}, a change of ${ref(`${k}.change_pct`)} (${ref(`${k}.runs_before`)} runs before, ${ref(`${k}.runs_after`)} after; q = ${ref(`${k}.q_value`)}).`,
        ]
      : [
          `**${what} at ${whereItIs(e, identifiers)}** (${ref(`${k}.date`)}):`,
          `${metric} of \`${e.lead.label}\` ${direction(e)} from ${ref(`${k}.before`)} to ${ref(`${k}.after`)}, a change of ${ref(`${k}.change_pct`)} (interval ${ref(`${k}.ci_low_pct`)} to ${ref(`${k}.ci_high_pct`)}; ${ref(`${k}.runs_before`)} runs before, ${ref(`${k}.runs_after`)} after; q = ${ref(`${k}.q_value`)}).`,
        ];
  if (e.series_changed > 1) {
    lines.push(
      sized(e, has)
        ? `At this place ${ref(`${k}.series`)} series changed, ${ref(`${k}.series_same`)} of them in the same direction.`
        : `At this place ${ref(`${k}.series`)} series changed, ${ref(`${k}.series_same`)} of them in the same direction, with a median change of ${ref(`${k}.median_change_pct`)}.`,
    );
  }
  if (e.attribution === "no_code")
    lines.push("Only benchmark output and docs were committed between these runs: an environment change or noise, not blamed on a commit.");
  if (e.returns_of) lines.push("It brings back an earlier regression that had been fixed.");
  const quality = qualitySentence(e, has);
  if (quality) lines.push(quality);
  const end = outcome(e, has, identifiers);
  if (end) lines.push(end);
  return lines.join(" ");
}

/** The event's size is told as the median across its series (with an interval) rather than as its largest series. */
const sized = (e: ChangeEvent, has: (id: string) => boolean) => e.median_series > 1 && has(`event.${e.n}.median.ci_low_pct`);

function usersParagraph(e: ChangeEvent, has: (id: string) => boolean, claimable: (id: string) => boolean = () => false): string {
  const k = `event.${e.n}`;
  if (claimable(`${k}.users`)) return `- ${commit(e.commit_sha)}: {{claim:${k}.users}}`;
  if (e.shape !== "step") {
    const place = e.attribution === "window" ? `The drift of \`${e.lead.label}\`` : commit(e.commit_sha);
    return e.shape === "drift"
      ? `- ${place}: a drift has no moment to compare the overlay around, so users were not asked.`
      : `- ${place}: a change in how noisy runs are moves no mean wait to compare users on, so users were not asked.`;
  }
  const u = e.users;
  if (!u || !u.measurable || !has(`${k}.users.latency_change_pct`)) {
    return `- ${commit(e.commit_sha)}: not enough Banterpacks hours around the commit, or a week before it, to tell whether users felt it.`;
  }
  const usual = has(`${k}.users.usual_change_pct`)
    ? `; beyond the usual week-over-week change of ${ref(`${k}.users.usual_change_pct`)} on the ${ref(`${k}.users.placebo_days`)} days before the commit`
    : "";
  const q = has(`${k}.users.q_value`) ? `q = ${ref(`${k}.users.q_value`)}` : `p = ${ref(`${k}.users.p_value`)}`;
  const change = `the mean wait for an answer went from ${ref(`${k}.users.latency_before_ms`)} in the same hours a week before to ${ref(`${k}.users.latency_after_ms`)}${usual}, a change of ${ref(`${k}.users.latency_change_pct`)} (interval ${ref(`${k}.users.ci_low_pct`)} to ${ref(`${k}.users.ci_high_pct`)}, ${q}, over ${ref(`${k}.users.hours`)} each side)`;
  const errors =
    has(`${k}.users.error_before_pct`) && has(`${k}.users.error_after_pct`)
      ? `; the error rate went from ${ref(`${k}.users.error_before_pct`)} to ${ref(`${k}.users.error_after_pct`)}`
      : "";
  const verdict = u.felt
    ? "**users felt it**"
    : u.other_way
      ? "user latency moved the other way from what the benchmark change predicts (not something users felt from it)"
      : "users did not measurably feel it";
  return `- ${commit(e.commit_sha)}: ${verdict}: ${change}${errors}.`;
}

/**
 * A drift or spread change in one line: its claim (the same sentence as in full, claims.ts), then what it is, its kind
 * and state; without its facts, only its place.
 */
function shapeLine(e: ChangeEvent, identifiers: readonly string[], claimable: (id: string) => boolean, kind: string, state: string): string {
  const k = `event.${e.n}`;
  const shape = e.shape === "drift" ? "drift" : "change in spread";
  const date = e.attribution === "window" ? "" : ` (${ref(`${k}.date`)})`;
  if (claimable(k)) return `- {{claim:${k}}} A ${shape}${date}, ${kind}${state}.`;
  return `- ${metricName(e.lead.metric)} of \`${e.lead.label}\` from ${whereItIs(e, identifiers)}${date}: a ${shape}, ${kind}${state}`;
}

/** A smaller change, one line: the commit, the series, the size and its interval. */
function minorLine(
  e: ChangeEvent,
  identifiers: readonly string[] = [],
  has: (id: string) => boolean = () => false,
  claimable: (id: string) => boolean = () => false,
): string {
  const metric = metricName(e.lead.metric);
  const open = e.status === "open" || e.status === "partly_fixed";
  const state =
    open && e.triage?.action === "expected"
      ? ", accepted as the cost of an intended change"
      : e.status === "open"
        ? `, still open${e.triage?.action === "ack" ? " (acknowledged)" : ""}`
        : e.status === "partly_fixed"
          ? ", partly fixed"
          : e.status === "fixed"
            ? ", since fixed"
            : "";
  const kind = e.attribution === "no_code" ? "an environment change (the same code measured)" : e.kind;
  if (e.shape !== "step") return shapeLine(e, identifiers, claimable, kind, state);
  const quality = qualitySentence(e, has);
  if (quality) return `${minorLineText(e, identifiers, has, metric, kind, state)}. ${quality}`;
  return minorLineText(e, identifiers, has, metric, kind, state);
}

function minorLineText(e: ChangeEvent, identifiers: readonly string[], has: (id: string) => boolean, metric: string, kind: string, state: string): string {
  const k = `event.${e.n}`;
  if (sized(e, has))
    return `- ${whereItIs(e, identifiers)} (${ref(`${k}.date`)}): ${metric}, a median change of ${ref(`${k}.median_change_pct`)} across ${ref(`${k}.median.series`)} series (interval ${ref(`${k}.median.ci_low_pct`)} to ${ref(`${k}.median.ci_high_pct`)}; the largest \`${e.lead.label}\`), ${kind}${state}`;
  return `- ${whereItIs(e, identifiers)} (${ref(`${k}.date`)}): ${metric} of \`${e.lead.label}\` ${ref(`${k}.change_pct`)} (interval ${ref(`${k}.ci_low_pct`)} to ${ref(`${k}.ci_high_pct`)}), ${kind}${state}`;
}

/**
 * The events the story tells in full: those that moved many series (a commit
 * that changed a kernel shows in every model and backend), at most five.
 * The rest are listed in one line each.
 */
export function majorEvents(facts: Facts): ChangeEvent[] {
  const tested = facts.facts.find((f) => f.id === "detect.series_tested")?.value ?? 0;
  const bar = Math.max(3, Math.ceil(0.05 * tested));
  const fresh = facts.events.filter((e) => e.new);
  const major = fresh.filter((e) => e.series_changed >= bar).slice(0, 5);
  return major.length > 0 ? major : fresh.slice(0, 1);
}

/** Titles of a drift or spread event, longest first: "p95 latency creeping up +0.41% per run since `abc1234`", "p95 latency 2.04× as noisy since `abc1234`". */
function shapeTitles(e: ChangeEvent, name: string, fixed: string, has: (id: string) => boolean): string[] {
  const k = `event.${e.n}`;
  const metric = metricName(e.lead.metric);
  // A range of several code commits names none of them as the one: "since a commit up to `abc1234`".
  const since =
    e.attribution === "window" ? "" : e.attribution === "range" ? ` since a commit up to ${commit(e.commit_sha)}` : ` since ${commit(e.commit_sha)}`;
  if (e.shape === "drift") {
    const way = e.lead.change_pct > 0 ? "up" : "down";
    return [
      ...(has(`${k}.drift.slope_pct_per_run`) ? [`${name}: ${metric} creeping ${way} ${ref(`${k}.drift.slope_pct_per_run`)}${since}${fixed}`] : []),
      `${name}: ${metric} creeping ${way}${since}`,
      `${name}: ${metric} creeping ${way}`,
    ];
  }
  const noisier = (e.spread?.ratio ?? 1) > 1;
  return [
    ...(has(`${k}.spread.ratio`) ? [`${name}: ${metric} ${ref(`${k}.spread.ratio`)} as noisy${since}${fixed}`] : []),
    `${name}: ${metric} ${noisier ? "noisier" : "steadier"}${since}`,
    `${name}: ${metric} ${noisier ? "noisier" : "steadier"}`,
  ];
}

/** Nouns counted by a reference, and their singular for a count of exactly one. */
const SINGULAR: Record<string, string> = {
  regressions: "regression",
  improvements: "improvement",
  commits: "commit",
  runs: "run",
  days: "day",
  sessions: "session",
  "benchmark rows": "benchmark row",
  "UI events": "UI event",
};
const COUNTED = new RegExp(`(\\{\\{fact:([a-z0-9_.]+)\\}\\}) (${Object.keys(SINGULAR).join("|")})\\b`, "g");

/**
 * A count that renders its own noun ("42 sessions", lib/episode/nouns.ts) takes none from the writer:
 * "{{fact:volume.sessions}} sessions" becomes "{{fact:volume.sessions}}". Facts without one keep the writer's noun.
 */
function nounsRendered(text: string, facts: Facts["facts"]): string {
  let out = text;
  for (const f of facts) {
    if (f.unit !== "count" || !f.noun) continue;
    const forms = [nounText(f.noun, "en", 2), nounText(f.noun, "en", 1)].map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    out = out.replace(new RegExp(`(\\{\\{fact:${f.id.replace(/\./g, "\\.")}\\}\\}) (?:${forms.join("|")})(?![\\p{L}])`, "gu"), "$1");
  }
  return out;
}

/** "{{fact:x}} regressions" reads "1 regression" when the fact is one (the writer knows the values; it never types them). */
function agreeNumbers(text: string, value: (id: string) => number | undefined): string {
  return text.replace(COUNTED, (m: string, ref: string, id: string, noun: string) => (value(id) === 1 ? `${ref} ${SINGULAR[noun]}` : m));
}

/** The next step of an open drift or spread regression: where to look (never bisection), then a rerun. */
function shapeStep(e: ChangeEvent, identifiers: readonly string[]): string {
  const what = e.shape === "drift" ? "Open drift" : "Noisier runs, still open,";
  const acked = e.triage?.action === "ack" ? ` (acknowledged ${byWhom(e.triage.actor, identifiers)})` : "";
  const where =
    e.attribution === "window"
      ? "it began before the first run the detector looked at: read the runs before it to find where"
      : e.attribution === "exact"
        ? `look at ${commit(e.commit_sha)}, where it begins`
        : `look at the ${ref(`event.${e.n}.candidates`)} code commits up to ${commit(e.candidates.at(-1) ?? e.commit_sha)}, where it begins`;
  const check = e.shape === "drift" ? "then watch the next runs for the slope to stop" : "then rerun that benchmark several times to see the flaky runs go";
  return `- ${what} in \`${e.lead.label}\`${acked}: ${where}; ${check}.`;
}

export function writeOffline(facts: Facts, options: { series: Series; titleRules: TitleRules; strongCorrelation?: number }): EpisodeDraft {
  const ids = new Set(facts.facts.map((f) => f.id));
  const has = (id: string) => ids.has(id);
  /** Claims the facts can state: the offline writer tells its event sentences with them. */
  const claims = new Set(availableClaims(facts, { lang: "en", strongCorrelation: options.strongCorrelation }));
  const claimable = (id: string) => claims.has(id);
  const value = (id: string) => facts.facts.find((f) => f.id === id)?.value;
  const { series } = options;
  const major = majorEvents(facts);
  const fresh = facts.events.filter((e) => e.new);
  const known = facts.events.filter((e) => !e.new);
  const minor = fresh.filter((e) => !major.includes(e));
  const events = major;
  const felt = events.filter((e) => e.users?.felt);
  // Accepted (expected) regressions are not open; invalid ones are not in the facts' events at all.
  const open = facts.events.filter(
    (e) => (e.status === "open" || e.status === "partly_fixed") && e.triage?.action !== "expected" && e.triage?.action !== "invalid",
  );
  const ids_ = facts.identifiers;
  const foundAny = facts.events.length > 0 || (value("changes.events_found") ?? 0) > 0;

  // What changed: what is new since the previous episode, then what is known and still open.
  const whatChanged: string[] = [
    `Between ${ref("window.from")} and ${ref("window.to")}, Banterhearts recorded ${ref("commits.hearts")} commits and Banterpacks ${ref("commits.packs")}.`,
  ];
  if (!foundAny) {
    whatChanged.push(
      `No change point was found in the ${ref("detect.series_tested")} benchmark series with enough runs (a multiscale scan with a p-value per series calibrated for its whole search, Benjamini–Hochberg across series).`,
    );
  } else if (fresh.length === 0) {
    whatChanged.push(
      has("changes.events_found")
        ? `Nothing new since the last episode: the ${ref("changes.events_found")} events the detector finds over ${ref("detect.series_tested")} benchmark series were all told before.`
        : "Nothing new since the last episode.",
    );
  } else {
    whatChanged.push(
      `New since the last episode — change-point detection over ${ref("detect.series_tested")} benchmark series (a multiscale scan with a calibrated p-value per series, Benjamini–Hochberg across series, at least ${ref("detect.min_runs")} runs each side) found ${ref("changes.regressions")} regressions and ${ref("changes.improvements")} improvements, each tied to the code commits between the runs where they changed${fresh.some((e) => e.attribution === "window") ? " (a drift that began before the runs looked at, to none)" : ""}:`,
    );
    for (const e of [...events].sort((a, b) => Date.parse(a.commit_ts) - Date.parse(b.commit_ts))) whatChanged.push(eventParagraph(e, has, ids_, claimable));
    if (minor.length > 0) whatChanged.push(`Smaller changes, each in few series:\n\n${minor.map((e) => minorLine(e, ids_, has, claimable)).join("\n")}`);
  }
  if (known.length > 0)
    whatChanged.push(`Known and still open, told in earlier episodes:\n\n${known.map((e) => minorLine(e, ids_, has, claimable)).join("\n")}`);

  // Why it matters: did users feel it?
  const why: string[] = [];
  if (events.length > 0) {
    if (events.every((e) => e.shape !== "step"))
      why.push("Muse compares the overlay around a step of the benchmarks; a drift has no single moment and a change in spread no mean to compare users on.");
    else
      why.push(
        "For each change, the Banterpacks overlay in the hours after it against the same hours a week before, beyond the usual week-over-week change of the days before (a placebo test; q-values across every change and user metric). The hours after are counted from the commit time plus the configured deploy lag: Muse has no deploy record of Banterhearts.",
      );
    why.push(events.map((e) => usersParagraph(e, has, claimable)).join("\n"));
  } else if (foundAny) {
    why.push("Nothing new happened in the benchmarks since the last episode, so there is nothing new for users to feel from Banterhearts.");
  } else {
    why.push("With no benchmark change this window, there is nothing new for users to feel from Banterhearts.");
  }
  if (has("correlation.latency_user") && has("correlation.days") && facts.correlation !== null) {
    const ci = has("correlation.ci_low") ? ` (interval ${ref("correlation.ci_low")} to ${ref("correlation.ci_high")})` : "";
    why.push(
      claimable("correlation")
        ? "In the background, {{claim:correlation}}"
        : `In the background, over ${ref("correlation.days")} days daily p95 latency and the latency users saw moved with a ${strength(facts.correlation, value("correlation.ci_low"), value("correlation.ci_high"), options.strongCorrelation ?? 0.5)} ${facts.correlation < 0 ? "negative" : "positive"} correlation, r = ${ref("correlation.latency_user")}${ci}.`,
    );
  }
  why.push(`The confidence score is ${ref("confidence")}, limited by ${facts.confidence.limiting}.`);

  // Benchmarks (summary).
  const bullets: string[] = [];
  const line = (id: string, label: string) => {
    if (has(id)) bullets.push(`- ${label}: ${ref(id)}`);
  };
  const hearts = () => {
    line("hearts.latency_p95_ms", "Mean daily p95 latency (Banterhearts)");
    line("hearts.tokens_per_sec", "Mean daily throughput");
    line("hearts.cost_per_1k", "Mean cost per 1k tokens");
  };
  const packs = () => {
    line("packs.user_latency_ms", "Mean user-facing latency (Banterpacks)");
    line("packs.error_rate_pct", "Error rate");
    line("packs.abandonment_pct", "Abandoned queries");
  };
  if (series === "chimera") {
    hearts();
    packs();
  } else {
    packs();
    hearts();
  }
  bullets.push(`- Data: ${ref("volume.bench_rows")} benchmark rows, ${ref("volume.events")} UI events in ${ref("volume.sessions")} sessions`);
  if (facts.models.length > 0) bullets.push(`- Models covered: ${facts.models.map((m) => `\`${m}\``).join(", ")}`);

  // Next steps: from what is still open.
  const steps: string[] = [];
  for (const e of open) {
    if (e.shape !== "step") {
      steps.push(shapeStep(e, ids_));
      continue;
    }
    const suspects =
      e.attribution === "exact"
        ? `look at ${commit(e.commit_sha)}`
        : e.bisection?.status === "bisecting"
          ? `bisection is narrowing the ${ref(`event.${e.n}.candidates`)} code commits up to ${commit(e.candidates.at(-1) ?? e.commit_sha)}: answer its benchmark requests (status page)`
          : `bisect the ${ref(`event.${e.n}.candidates`)} code commits up to ${commit(e.candidates.at(-1) ?? e.commit_sha)}`;
    const acked = e.triage?.action === "ack" ? ` (acknowledged ${byWhom(e.triage.actor, ids_)})` : "";
    steps.push(`- Open regression in \`${e.lead.label}\`${acked}: ${suspects}, then rerun that benchmark to confirm the fix.`);
  }
  if (has("changes.open_regressions") && open.length === 0 && (facts.open_regressions ?? []).length > 0) {
    steps.push(`- ${ref("changes.open_regressions")} regressions from earlier are still open: see the status page.`);
  }
  for (const e of events.filter((x) => x.status === "fixed"))
    steps.push(`- Rerun \`${e.lead.label}\` after ${commit(e.fixed_by_sha)} to keep the fix from regressing.`);
  if (facts.confidence.completeness < 1) steps.push("- Backfill the days that lack data from either source before drawing conclusions.");
  if (facts.confidence.recency < 1) steps.push("- Check the ingest and collect agents: the newest data is older than the freshness threshold.");
  if (facts.confidence.volume < 1) steps.push("- Raise the data volume: run the benchmark suite and overlay sessions more often.");
  if (steps.length === 0) steps.push("- Nothing is open: keep the benchmark cadence so the next change is caught at its commit.");

  const links =
    "Every number above is computed from ClickHouse (`bench_runs`, `session_stats`, `upstream_commits`, `bench_events`) and listed with its query or method in the front-matter `claims`; each links to its evidence below.";

  // Title and summary: lead with the biggest event.
  const biggest = events[0];
  let title: string;
  let summary: string;
  const name = series === "chimera" ? "Chimera" : "Banterpacks";
  if (biggest) {
    const metric = metricName(biggest.lead.metric);
    const what = biggest.kind === "regression" ? `${metric} regression` : `${metric} improvement`;
    const fixed =
      biggest.status === "fixed" ? ", since fixed" : biggest.status === "partly_fixed" ? ", partly fixed" : biggest.status === "open" ? ", still open" : "";
    title = fitTitle(
      biggest.shape === "step"
        ? [
            `${name}: ${what} of ${ref(`event.${biggest.n}.median_change_pct`)} at ${commit(biggest.commit_sha)}${fixed}`,
            `${name}: a ${what} at ${commit(biggest.commit_sha)}`,
            `${name}: a ${what}`,
          ]
        : shapeTitles(biggest, name, fixed, has),
      options.titleRules,
    );
    // Only steps are compared with the overlay (a drift has no moment, a spread change no mean to compare).
    const asked = events.filter((e) => e.shape === "step");
    const usersLine =
      asked.length === 0
        ? "drifts and changes in spread have no moment or mean to compare users on"
        : felt.length === 0
          ? "users did not measurably feel the biggest of them"
          : felt.length === asked.length
            ? "users felt each of the biggest in the overlay"
            : "users felt some of the biggest in the overlay";
    const tied = events.some((e) => e.attribution === "window") ? "each tied to its commit where the runs place it" : "each tied to its commit";
    summary = `${ref("changes.regressions")} regressions and ${ref("changes.improvements")} improvements in the benchmarks, ${tied}; ${usersLine}.`;
  } else {
    const nothing = foundAny ? "Nothing new in the benchmarks since the last episode" : "No benchmark change point this window";
    title =
      series === "chimera" ? `${name}: ${foundAny ? "nothing new in the benchmarks" : "benchmarks held steady"}` : `${name}: how the overlay felt this window`;
    // Two sentences: the window's mean latency is not a value "since" anything.
    summary = has("packs.user_latency_ms")
      ? `${nothing}. Over the window, overlay users saw a mean latency of ${ref("packs.user_latency_ms")}.`
      : `${nothing}.`;
  }

  const agree = (text: string) => agreeNumbers(nounsRendered(text, facts.facts), value);
  return {
    title: agree(title),
    summary: agree(summary),
    sections: {
      what_changed: agree(whatChanged.join("\n\n")),
      why_it_matters: agree(why.join("\n\n")),
      benchmarks_summary: agree(bullets.join("\n")),
      next_steps: agree(steps.join("\n")),
      links_and_artifacts: links,
    },
  };
}
