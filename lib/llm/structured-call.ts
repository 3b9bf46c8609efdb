import { APICallError, NoObjectGeneratedError, Output, generateText, type FlexibleSchema, type LanguageModelUsage, type ModelMessage } from "ai";
import { v5 as uuidv5 } from "uuid";
import type { LlmEventRow } from "../clickhouse/tables";
import { llmCostUsd } from "../pricing";
import type { LlmProvider } from "./provider";
import { messageOf } from "../error-message";

/**
 * One structured LLM call (AI SDK `generateText` + `Output.object`) and the
 * llm_events row that records it — successes, failures, timeouts and invalid
 * answers alike — with the provider's own usage report, the measured latency
 * and the price-table cost (null for a model without a price). The SDK's own
 * retries are off (maxRetries 0) so each row is exactly one request; callers
 * (and the agent runner) decide what to retry.
 */

/** Namespace of Muse's LLM event ids (uuid v5). */
export const LLM_EVENT_NAMESPACE = "3f1c9a4e-7b2d-5e8f-9a6c-1d4b7e0f2a93";
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;

/** The event id of one call: derived from the run, the source and the attempt, so a retried write of the same call collapses. */
export function llmEventId(runId: string, source: string, attempt: number): string {
  return uuidv5(`${runId}:${source}:${attempt}`, LLM_EVENT_NAMESPACE);
}

export interface StructuredCallOptions<T> {
  llm: LlmProvider;
  system: string;
  messages: ModelMessage[];
  /** The answer's schema, and the name and description the provider is given with it. */
  schema: FlexibleSchema<T>;
  /** Also names the answer in the problem of an invalid one ("not a valid <name> for the JSON schema"). */
  name: string;
  description: string;
  /** The llm_events row: its id, run, source and operation. */
  eventId: string;
  runId: string;
  source: string;
  operation: string;
  /** Per call. */
  timeoutMs: number;
  /** Cancels the call (e.g. the route's deadline). */
  signal?: AbortSignal;
  now?: () => Date;
}

export type StructuredCallResult<T> =
  | { kind: "output"; output: T; event: LlmEventRow }
  /** An answer that is not valid for the schema: its text, for a repair prompt. */
  | { kind: "invalid"; text: string | undefined; problem: string; event: LlmEventRow }
  | { kind: "failed"; error: string; transient: boolean; event: LlmEventRow };

function tokens(usage: LanguageModelUsage | undefined): { tokens_in: number; tokens_out: number } {
  return { tokens_in: Math.max(0, Math.round(usage?.inputTokens ?? 0)), tokens_out: Math.max(0, Math.round(usage?.outputTokens ?? 0)) };
}

const firstLine = (error: unknown) => messageOf(error).split("\n")[0].slice(0, 500);

function isTransientLlmError(error: unknown): boolean {
  if (APICallError.isInstance(error)) return error.isRetryable;
  return /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|network/i.test(firstLine(error));
}

export async function structuredCall<T>(options: StructuredCallOptions<T>): Promise<StructuredCallResult<T>> {
  const { llm, operation, timeoutMs } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const ts = (options.now ?? (() => new Date()))();
  const started = performance.now();
  const event = (fields: { model?: string; tokens_in: number; tokens_out: number; status: LlmEventRow["status"]; error_msg: string }): LlmEventRow => {
    const model = fields.model || llm.modelId;
    return {
      ts: ts.toISOString(),
      event_id: options.eventId,
      run_id: options.runId,
      source: options.source,
      model,
      operation,
      tokens_in: fields.tokens_in,
      tokens_out: fields.tokens_out,
      latency_ms: Math.max(0, Math.round(performance.now() - started)),
      cost_usd: llmCostUsd(model, fields.tokens_in, fields.tokens_out),
      status: fields.status,
      error_msg: fields.error_msg,
    };
  };
  try {
    const result = await generateText({
      model: llm.model,
      system: options.system,
      messages: options.messages,
      output: Output.object({ schema: options.schema, name: options.name, description: options.description }),
      maxRetries: 0,
      abortSignal: signal,
      // Spans (ai.generateText …) only reach a collector when lib/telemetry.ts registered one; never the prompt or the answer.
      experimental_telemetry: {
        isEnabled: true,
        functionId: `muse.${operation}`,
        recordInputs: false,
        recordOutputs: false,
        metadata: { run_id: options.runId, source: options.source, operation, event_id: options.eventId },
      },
    });
    const output = result.output;
    return { kind: "output", output, event: event({ model: result.response.modelId, ...tokens(result.usage), status: "success", error_msg: "" }) };
  } catch (error) {
    if (NoObjectGeneratedError.isInstance(error)) {
      const problem = `the answer was not a valid ${options.name} for the JSON schema (${firstLine(error.cause ?? error)})`;
      return {
        kind: "invalid",
        text: error.text,
        problem,
        event: event({ model: error.response?.modelId, ...tokens(error.usage), status: "failure", error_msg: problem }),
      };
    }
    if (timeout.aborted) {
      const message = `timed out after ${timeoutMs} ms`;
      return {
        kind: "failed",
        error: `LLM call ${operation} ${message}`,
        transient: true,
        event: event({ tokens_in: 0, tokens_out: 0, status: "timeout", error_msg: message }),
      };
    }
    if (options.signal?.aborted) {
      return {
        kind: "failed",
        error: `LLM call ${operation} aborted`,
        transient: false,
        event: event({ tokens_in: 0, tokens_out: 0, status: "failure", error_msg: "aborted" }),
      };
    }
    const message = firstLine(error);
    return {
      kind: "failed",
      error: `LLM call ${operation} failed: ${message}`,
      transient: isTransientLlmError(error),
      event: event({ tokens_in: 0, tokens_out: 0, status: "failure", error_msg: message }),
    };
  }
}
