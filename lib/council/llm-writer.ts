import type { ModelMessage } from "ai";
import type { Facts } from "../analysis/facts";
import type { LlmEventRow } from "../clickhouse/tables";
import type { LlmProvider } from "../llm/provider";
import { DEFAULT_LLM_TIMEOUT_MS, llmEventId, structuredCall, type StructuredCallResult } from "../llm/structured-call";
import { draftFormProblems, episodeDraft, type EpisodeDraft, type Series, type TitleRules } from "../episode/draft";
import { availableClaims, claimTemplate } from "../episode/claims";
import { formatFact } from "../episode/fact";
import { commitSubject } from "../episode/file";
import { renderTemplate } from "../episode/references";
import { referenceContext } from "../episode/truth";

/** The writer's check of a draft (the council composes it and runs the truth rule): problems, empty when accepted. */
export type DraftCheck = (draft: EpisodeDraft) => string[];

/**
 * The LLM writer: the facts go in as JSON, a structured episode (zod schema,
 * AI SDK `Output.object`) comes out, and the truth rule is enforced on it. A
 * draft that breaks the rule (or is not valid JSON for the schema) gets ONE
 * repair attempt that sends the problems back; a draft still wrong after that
 * is returned as rejected, with its problems.
 *
 * Every call becomes an llm_events row — successes, failures, timeouts and
 * invalid answers alike — with the provider's own usage report, the measured
 * latency, the price-table cost (null for a model without a price) and an
 * event id derived from the run id and the attempt (a retried write of the
 * same call collapses). The SDK's own retries are off (maxRetries 0) so each
 * row is exactly one request; the agent runner retries transient failures.
 * The call itself and its row: lib/llm/structured-call.ts.
 */

export { DEFAULT_LLM_TIMEOUT_MS, LLM_EVENT_NAMESPACE, llmEventId } from "../llm/structured-call";

export interface LlmWriteOptions {
  series: Series;
  titleRules: TitleRules;
  /** Cancels the whole write (e.g. the route's deadline). */
  signal?: AbortSignal;
  /** The council run: event ids and llm_events.run_id. */
  runId: string;
  /** Per call. */
  timeoutMs?: number;
  now?: () => Date;
  /** The truth rule on a draft (composed and rendered by the caller). */
  check: DraftCheck;
}

export type LlmWriteResult =
  | { status: "accepted"; draft: EpisodeDraft; events: LlmEventRow[] }
  | { status: "rejected"; draft: EpisodeDraft | undefined; problems: string[]; events: LlmEventRow[] }
  | { status: "failed"; error: string; transient: boolean; events: LlmEventRow[] };

const SERIES_STORY: Record<Series, string> = {
  chimera:
    "the performance story of Banterhearts (LLM inference benchmarks: latency, throughput, cost per model × quantization) and how it reaches the users of the Banterpacks overlay",
  banterpacks:
    "the user-experience story of the Banterpacks overlay (latency users see, errors, abandoned queries, sessions), with Banterhearts benchmarks as background",
};

export function systemPrompt(series: Series, titleRules: TitleRules): string {
  return [
    `You write one episode of Banterblogs, an engineering blog, in the "${series}" series: ${SERIES_STORY[series]}.`,
    "",
    "THE TRUTH RULE. You never type a number. A program renders every number from computed facts and rejects your answer when any figure did not come from a reference:",
    "0. CLAIMS FIRST. Where you state an event's change, whether users felt it, or the correlation, write the claim reference from the claim list instead of your own sentence: {{claim:event.1}}, {{claim:event.1.users}}, {{claim:correlation}}. A claim renders a complete sentence, written by the program from the facts in the page's language (its direction, nouns, interval and p- or q-value included, with its own capital letter and full stop): put it where a sentence goes (after a colon or on its own), write nothing into it and do not repeat its figures. Use fact references (rule 1) only for what no claim states.",
    '1. Where a number goes, write a fact reference: {{fact:<id>}} with an id from the fact list, e.g. "p95 latency rose by {{fact:event.1.change_pct}}". The reference renders the value with its unit, sign and rounding: add no unit, %, sign or scale word next to it, and put words between two references. A count renders with its noun ("{{fact:volume.sessions}}" reads "42 sessions", see renders_as): add no noun after it. Direction words (rose/fell, improved/regressed, faster/slower) must match the sign of the change and the kind of the event; write before before after ("from {{fact:event.1.before}} to {{fact:event.1.after}}"), an interval as both ends ("{{fact:event.1.ci_low_pct}} to {{fact:event.1.ci_high_pct}}"), a p- or q-value as "p = …" / "q = …" (one below 0.001 renders as its floor "< 0.001", which takes the place of the "="; never type "<" or "≤" yourself), and a commit only in sentences about its own event.',
    "2. Where a commit goes, write {{commit:<sha>}} with a sha from the commit lists (at least 7 characters). Never quote a commit subject; the program lists them.",
    "3. No digits anywhere in your text (not even in code, link titles, headings or list numbering) and no number words (one, two, twice, half, a third, dozen, million...). Dates are facts too ({{fact:window.from}}). Identifiers from the facts (model names such as llama-3.1-8b, quantizations such as int8, p95) are fine as they are.",
    "4. Links only to the upstream repositories; no images, no HTML.",
    "",
    `Form: the title is plain text of at most ${titleRules.maxLength} characters once rendered, leading with the biggest event. The summary is one or two plain-text sentences. Sections are markdown without # or ## headings (use ### if needed). Do not list commits or the run id in "Links & artifacts": they are appended automatically.`,
    'The story: "What changed" names each event with its commit, size and interval; "Why it matters" says whether users felt it (users.felt, with the user-side facts); "Next steps" comes from what is still open (which commit to look at, which benchmark to rerun). Only state what the facts support.',
    'Each event has a shape, and its claim {{claim:event.N}} tells each shape whole (rule 0); where you write one yourself: A step moved the level at its commit (event.N.change_pct, before/after). A drift creeps run after run: tell its slope per run with its interval ("creeping up by {{fact:event.N.drift.slope_pct_per_run}}, interval {{fact:event.N.drift.ci_low}} to {{fact:event.N.drift.ci_high}}") since its commit, or, when its attribution is "window", since at least {{fact:event.N.date}} without blaming any commit; never as a series of steps. A spread change made runs noisier or steadier: tell its ratio ("its run-to-run noise is {{fact:event.N.spread.ratio}} what it was before", interval {{fact:event.N.spread.ci_low}} to {{fact:event.N.spread.ci_high}}), never as a change of the level. Users are asked only about steps.',
    'Confidence (the fact "confidence", with confidence_limited_by) is the weakest of six scores — completeness, recency and volume of the data; evidence, attribution and users from calibrated statistics — and is a score, not a probability: never call it the chance that the story is true or a change is real. Where it is limited by evidence, attribution or users, say which, in words.',
  ].join("\n");
}

/** A claim as it renders in English plain text: what the model is offered. */
function claimPreview(id: string, facts: Facts): string {
  const template = claimTemplate(id, facts, { lang: "en", mode: "plain" }) ?? "";
  return renderTemplate(template, referenceContext(facts), { lang: "en", mode: "plain", where: id }).text;
}

/** The facts as the model sees them: claims first (whole sentences), then ids to reference (with their rendering, for understanding), events and commits. */
export function factsPrompt(facts: Facts, series: Series): string {
  const payload = {
    // Offered first: whole sentences the program writes (claims.ts), preferred to the writer's own.
    claims: availableClaims(facts).map((id) => ({ ref: `{{claim:${id}}}`, renders_as: claimPreview(id, facts) })),
    series,
    facts: facts.facts.map((f) => ({ id: f.id, label: f.label, renders_as: formatFact(f, "en") })),
    events: facts.events.map((e) => ({
      facts: `event.${e.n}.*`,
      commit: e.commit_sha.slice(0, 12),
      kind: e.kind,
      shape: e.shape,
      attribution: e.attribution,
      status: e.status,
      fixed_by: e.fixed_by_sha ? e.fixed_by_sha.slice(0, 12) : null,
      series: e.lead.label,
      metric: e.lead.metric,
      commits_in_range: e.candidates.length,
      users_felt_it: e.users?.felt ?? null,
      users_measurable: e.users?.measurable ?? false,
    })),
    confidence_limited_by: facts.confidence.limiting,
    models: facts.models,
    identifiers: facts.identifiers,
    commits: {
      banterhearts: facts.commits.hearts.map((c) => ({ sha: c.sha.slice(0, 12), subject: commitSubject(c.message) })),
      banterpacks: facts.commits.packs.map((c) => ({ sha: c.sha.slice(0, 12), subject: commitSubject(c.message) })),
    },
  };
  return `Write the episode from these computed facts (JSON). Sentences the claims state as {{claim:<id>}}, other numbers only as {{fact:<id>}}, commits only as {{commit:<sha>}}.\n\n${JSON.stringify(payload, null, 2)}`;
}

export function repairPrompt(problems: string[]): string {
  return [
    "The episode was rejected by the truth-rule checker:",
    ...problems.map((p) => `- ${p}`),
    "",
    "Return the complete corrected episode in the same JSON shape. Replace every typed number or number word with a {{fact:<id>}} reference (or remove it), and use only ids from the fact list.",
  ].join("\n");
}

type CallOutcome = StructuredCallResult<EpisodeDraft>;

export async function writeWithLlm(facts: Facts, llm: LlmProvider, options: LlmWriteOptions): Promise<LlmWriteResult> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  const events: LlmEventRow[] = [];
  const system = systemPrompt(options.series, options.titleRules);
  const messages: ModelMessage[] = [{ role: "user", content: factsPrompt(facts, options.series) }];

  async function call(attempt: number, operation: "episode" | "episode.repair"): Promise<CallOutcome> {
    const outcome = await structuredCall({
      llm,
      system,
      messages,
      schema: episodeDraft,
      name: "episode",
      description: "One Banterblogs episode with its claims.",
      eventId: llmEventId(options.runId, "council", attempt),
      runId: options.runId,
      source: "council",
      operation,
      timeoutMs,
      signal: options.signal,
      now,
    });
    events.push(outcome.event);
    return outcome;
  }

  const check = (draft: EpisodeDraft) => ({ problems: [...draftFormProblems(draft, options.titleRules), ...options.check(draft)] });
  /** A successful call whose draft was refused is a success of the call, noted on its row. */
  const noteRejection = (problems: string[]) => {
    const last = events.at(-1);
    if (last && last.status === "success") last.error_msg = `draft rejected: ${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  };

  const first = await call(1, "episode");
  if (first.kind === "failed") return { status: "failed", error: first.error, transient: first.transient, events };
  let problems: string[];
  if (first.kind === "output") {
    const checked = check(first.output);
    if (checked.problems.length === 0) return { status: "accepted", draft: first.output, events };
    problems = checked.problems;
    noteRejection(problems);
    messages.push({ role: "assistant", content: JSON.stringify(first.output) });
  } else {
    problems = [first.problem];
    messages.push({ role: "assistant", content: first.text ?? "" });
  }

  // The one repair attempt.
  messages.push({ role: "user", content: repairPrompt(problems) });
  const second = await call(2, "episode.repair");
  // The draft was already refused: a failed repair call leaves it rejected (and recorded), not retried.
  if (second.kind === "failed")
    return { status: "rejected", draft: first.kind === "output" ? first.output : undefined, problems: [...problems, `repair: ${second.error}`], events };
  if (second.kind === "invalid") return { status: "rejected", draft: first.kind === "output" ? first.output : undefined, problems: [second.problem], events };
  const checked = check(second.output);
  if (checked.problems.length === 0) return { status: "accepted", draft: second.output, events };
  noteRejection(checked.problems);
  return { status: "rejected", draft: second.output, problems: checked.problems, events };
}
