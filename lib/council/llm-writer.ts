import type { ModelMessage } from "ai";
import type { Facts } from "../analysis/facts";
import type { LlmEventRow } from "../clickhouse/tables";
import type { LlmProvider } from "../llm/provider";
import { DEFAULT_LLM_TIMEOUT_MS, llmEventId, structuredCall, type StructuredCallResult } from "../llm/structured-call";
import { draftFormProblems, episodeDraft, type EpisodeDraft, type Series, type TitleRules } from "../episode/draft";
import { commitSubject, verifyDraft, type VerifyResult } from "./verify";

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
}

export type LlmWriteResult =
  | { status: "accepted"; draft: EpisodeDraft; verification: VerifyResult; events: LlmEventRow[] }
  | { status: "rejected"; draft: EpisodeDraft | undefined; problems: string[]; events: LlmEventRow[] }
  | { status: "failed"; error: string; transient: boolean; events: LlmEventRow[] };

const SERIES_STORY: Record<Series, string> = {
  chimera: "the performance story of Banterhearts (LLM inference benchmarks: latency, throughput, cost per model × quantization) and how it reaches the users of the Banterpacks overlay",
  banterpacks: "the user-experience story of the Banterpacks overlay (latency users see, errors, abandoned queries, sessions), with Banterhearts benchmarks as background",
};

export function systemPrompt(series: Series, titleRules: TitleRules): string {
  return [
    `You write one episode of Banterblogs, an engineering blog, in the "${series}" series: ${SERIES_STORY[series]}.`,
    "",
    "THE TRUTH RULE. A program checks your answer and rejects it when it breaks any of these:",
    "1. Every number you write (any digits in the title, summary or sections) must be the value of a fact from the fact list, rounded to at most the fact's `decimals` (a fact 18.43 may be written 18.43, 18.4 or 18, never 18.431). Copy values; never compute numbers of your own (no differences, ratios, sums, averages or percentages).",
    "2. Every number you write must have an entry in `claims`: {fact_id, value, unit} with the fact's id, value and unit exactly as in the list.",
    "3. Only percent facts may carry a % sign (they may also be written without it); only usd facts may carry a $ sign. Keep the sign of negative facts (r = -0.42).",
    "4. Write numbers as digits, never as words, and never abbreviated (no 1.2k). Dates only as YYYY-MM-DD within the window. Identifiers such as p95, int8, fp16 or llama-3.1-8b are not numbers and are fine; put commit shas, ids and code in backticks.",
    "",
    `Form: the title is plain text of at most ${titleRules.maxLength} characters. The summary is one or two plain-text sentences. Sections are markdown without # or ## headings (use ### if needed). Do not list commits or the run id in "Links & artifacts": they are appended automatically.`,
    "Be concrete and readable: say what changed, why it matters for users, and what to do next. Only state what the facts support.",
  ].join("\n");
}

/** The facts as the model sees them: values it may state, and context without numbers of its own. */
export function factsPrompt(facts: Facts, series: Series): string {
  const payload = {
    series,
    window: { from: facts.window.from, to: facts.window.to },
    facts: facts.facts.map((f) => ({ id: f.id, label: f.label, value: f.value, unit: f.unit, decimals: f.decimals })),
    significant_changes: facts.changes.map((c, i) => ({ facts: `change.${i + 1}.previous / .current / .change_pct`, model: c.model, quant: c.quant, metric: c.metric, kind: c.kind })),
    confidence_limited_by: facts.confidence.limiting,
    models: facts.models,
    commits: {
      banterhearts: facts.commits.hearts.map((c) => ({ sha: c.sha.slice(0, 7), subject: commitSubject(c.message) })),
      banterpacks: facts.commits.packs.map((c) => ({ sha: c.sha.slice(0, 7), subject: commitSubject(c.message) })),
    },
  };
  return `Write the episode from these computed facts (JSON). Every number you state must come from "facts" and be claimed.\n\n${JSON.stringify(payload, null, 2)}`;
}

export function repairPrompt(problems: string[]): string {
  return [
    "The episode was rejected by the truth-rule checker:",
    ...problems.map((p) => `- ${p}`),
    "",
    "Return the complete corrected episode in the same JSON shape. Remove or replace every number that is not a fact from the list, and claim every number you keep.",
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

  const check = (draft: EpisodeDraft) => {
    const verification = verifyDraft(draft, facts);
    const problems = [...draftFormProblems(draft, options.titleRules), ...verification.problems];
    return { verification, problems };
  };
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
    if (checked.problems.length === 0) return { status: "accepted", draft: first.output, verification: checked.verification, events };
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
  if (second.kind === "failed") return { status: "rejected", draft: first.kind === "output" ? first.output : undefined, problems: [...problems, `repair: ${second.error}`], events };
  if (second.kind === "invalid") return { status: "rejected", draft: first.kind === "output" ? first.output : undefined, problems: [second.problem], events };
  const checked = check(second.output);
  if (checked.problems.length === 0) return { status: "accepted", draft: second.output, verification: checked.verification, events };
  noteRejection(checked.problems);
  return { status: "rejected", draft: second.output, problems: checked.problems, events };
}
