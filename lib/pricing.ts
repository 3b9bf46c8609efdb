/**
 * The repo's price table. A model without a price has an unknown cost (null):
 * costs are never guessed.
 */

/**
 * Serving prices of the open-weight models Banterhearts benchmarks, in USD per
 * 1k tokens (input and output alike).
 *
 * Source / assumption: hosted serverless list prices for the instruct
 * variants, mid-2025 — Together AI for Llama, Mistral, Qwen and Gemma (which
 * charge the same for input and output), Azure AI Foundry pay-as-you-go for
 * Phi (input and output averaged 1:1). They stand for "what serving this model
 * costs" whatever hardware the benchmark ran on; update the table when prices
 * change. Keys are the names Muse's sample data uses; any spelling with the
 * same family key (see `modelFamilyKey`) shares the price.
 */
export const BENCH_MODEL_PRICES: Readonly<Record<string, number>> = {
  "llama-3-8b": 0.0002,
  "llama-3-70b": 0.00088,
  "llama-3.1-8b": 0.00018,
  "llama-3.1-70b": 0.00088,
  "llama-3.1-405b": 0.0035,
  "llama-3.2-3b": 0.00006,
  "llama-3.3-70b": 0.00088,
  "mistral-7b": 0.0002,
  "mistral-small-24b": 0.0008,
  "mixtral-8x7b": 0.0006,
  "qwen2.5-7b": 0.0003,
  "qwen2.5-72b": 0.0012,
  "qwen2.5-coder-32b": 0.0008,
  "gemma-2-9b": 0.0003,
  "gemma-2-27b": 0.0008,
  "phi-3-mini": 0.000325,
  "phi-3.5-mini": 0.000325,
  "phi-3-medium": 0.000425,
  "phi-4": 0.0003125,
};

/** Name parts that do not change what a model costs to serve. */
const NOISE_TOKENS = new Set(["meta", "instruct", "chat", "it", "hf", "turbo", "lite", "reference", "latest", "base", "gguf"]);
/** Quantization tags (q4_0, q4_k_m, fp16, int8, awq...) and context/version/date suffixes (4k, v0.3, 2501). */
const NOISE_PATTERNS = [/^i?q\d+(_[a-z0-9]+)*$/, /^(fp|bf|int|nf|mxfp)\d+$/, /^(awq|gptq|exl2)$/, /^\d+k$/, /^v\d+(\.\d+)*$/, /^\d{4,}$/];

/**
 * Normalised family key of a model name, so that the spellings of one model
 * in Ollama, Hugging Face and hosting APIs meet:
 * lower-case; organisation prefix (`meta-llama/`) dropped; split on `:`, `-`
 * and spaces; noise parts dropped (instruct/chat/it/turbo..., quantization
 * tags, context sizes, versions, date codes); a family name followed by a bare
 * version number joined (`llama 3.1` → `llama3.1`); parts joined with `-`.
 *
 *   "llama3.1:8b-instruct-q4_0", "meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b" → "llama3.1-8b"
 *   "Qwen/Qwen2.5-7B-Instruct", "qwen2.5:7b" → "qwen2.5-7b";  "google/gemma-2-9b-it" → "gemma2-9b"
 */
export function modelFamilyKey(model: string): string {
  const tokens = model
    .toLowerCase()
    .split("/")
    .at(-1)!
    .split(/[:\s-]+/)
    .filter((t) => t !== "" && !NOISE_TOKENS.has(t) && !NOISE_PATTERNS.some((p) => p.test(t)));
  const parts: string[] = [];
  for (const token of tokens) {
    const previous = parts.at(-1);
    if (previous !== undefined && /^[a-z]+$/.test(previous) && /^\d+(\.\d+)*$/.test(token)) parts[parts.length - 1] = previous + token;
    else parts.push(token);
  }
  return parts.join("-");
}

const BENCH_PRICES_BY_FAMILY = new Map(Object.entries(BENCH_MODEL_PRICES).map(([model, price]) => [modelFamilyKey(model), price]));

/** USD per 1k tokens of serving `model`: exact name first, then its family key; null when unknown. */
export function costPer1k(model: string): number | null {
  if (Object.hasOwn(BENCH_MODEL_PRICES, model)) return BENCH_MODEL_PRICES[model];
  const key = modelFamilyKey(model);
  if (key === "") return null;
  return BENCH_PRICES_BY_FAMILY.get(key) ?? null;
}

export interface LlmPrice {
  /** USD per 1M input tokens. */
  input: number;
  /** USD per 1M output tokens. */
  output: number;
}

/**
 * Models Muse calls itself (council, translator) and hosted models benchmarks
 * compare against: OpenAI standard-tier list prices, USD per 1M tokens.
 */
export const LLM_PRICES: Readonly<Record<string, LlmPrice>> = {
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5": { input: 1.25, output: 10 },
  "o3-mini": { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  "o4-mini": { input: 1.1, output: 4.4 },
  "gpt-4-turbo": { input: 10, output: 30 },
  "gpt-4": { input: 30, output: 60 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
};

/** Dated snapshots (`gpt-4o-mini-2024-07-18`) cost what their alias costs. */
const SNAPSHOT_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

export function llmPrice(model: string): LlmPrice | null {
  const name = model.toLowerCase();
  if (Object.hasOwn(LLM_PRICES, name)) return LLM_PRICES[name];
  const alias = name.replace(SNAPSHOT_SUFFIX, "");
  return Object.hasOwn(LLM_PRICES, alias) ? LLM_PRICES[alias] : null;
}

/** Decimal(12, 6) in ClickHouse: keep six places and drop float noise. */
function usd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** USD of one call of a model Muse calls; null when the model has no price. */
export function llmCostUsd(model: string, tokensIn: number, tokensOut: number): number | null {
  const price = llmPrice(model);
  if (!price) return null;
  return usd((tokensIn * price.input + tokensOut * price.output) / 1_000_000);
}

/** USD of tokens from either table (hosted LLM prices first, then serving prices); null when unknown. */
export function tokenCostUsd(model: string, tokensIn: number, tokensOut: number): number | null {
  const llm = llmCostUsd(model, tokensIn, tokensOut);
  if (llm !== null) return llm;
  const per1k = costPer1k(model);
  return per1k === null ? null : usd(((tokensIn + tokensOut) / 1000) * per1k);
}
