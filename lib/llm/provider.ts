import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModel } from "ai";
import type { Env } from "../env";

/**
 * The LLM Muse writes with, from the environment, or undefined when none is
 * configured (the council then uses its deterministic offline writer).
 *
 * - OPENAI_API_KEY alone: OpenAI itself, through the Responses API (OpenAI's
 *   recommended API; structured output is a JSON schema response format).
 * - OPENAI_API_KEY + OPENAI_BASE_URL: an OpenAI-compatible server (vLLM,
 *   Ollama, LM Studio, LiteLLM, Azure-style proxies...). Those implement the
 *   Chat Completions API, not Responses, so the chat model is used.
 */

export interface LlmProvider {
  model: LanguageModel;
  /** The configured model name (MUSE_MODEL); prices and llm_events use it. */
  modelId: string;
  /** "openai" or "openai-compatible"; for logs and run summaries. */
  provider: string;
}

export type LlmEnv = Pick<Env, "OPENAI_API_KEY" | "OPENAI_BASE_URL" | "MUSE_MODEL">;

export function llmFromEnv(env: LlmEnv): LlmProvider | undefined {
  if (!env.OPENAI_API_KEY) return undefined;
  const modelId = env.MUSE_MODEL;
  if (env.OPENAI_BASE_URL) {
    const compatible = createOpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, name: "openai-compatible" });
    return { model: compatible.chat(modelId), modelId, provider: "openai-compatible" };
  }
  const openai = createOpenAI({ apiKey: env.OPENAI_API_KEY });
  return { model: openai.responses(modelId), modelId, provider: "openai" };
}
