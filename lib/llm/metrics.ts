import type { LlmEventRow } from "../clickhouse/tables";
import type { Metrics } from "../metrics";

/** Every LLM call as Datadog counts (calls by status, tokens by direction, cost), tagged with the agent that made it. */
export function emitLlmMetrics(metrics: Metrics, agent: "council" | "translate", events: LlmEventRow[]): void {
  for (const e of events) {
    metrics.count("muse.llm.calls", 1, { agent, model: e.model, status: e.status });
    metrics.count("muse.llm.tokens", e.tokens_in, { agent, model: e.model, direction: "in" });
    metrics.count("muse.llm.tokens", e.tokens_out, { agent, model: e.model, direction: "out" });
    if (e.cost_usd !== null) metrics.count("muse.llm.cost_usd", e.cost_usd, { agent, model: e.model });
  }
}
