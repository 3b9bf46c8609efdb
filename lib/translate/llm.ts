import type { ModelMessage } from "ai";
import { z } from "zod";
import type { LlmEventRow } from "../clickhouse/tables";
import type { LlmProvider } from "../llm/provider";
import { DEFAULT_LLM_TIMEOUT_MS, llmEventId, structuredCall, type StructuredCallResult } from "../llm/structured-call";
import type { TranslatableText } from "./verify";

/**
 * The LLM translator: an episode's title, summary and sections go in as JSON,
 * a structured translation (zod schema, AI SDK `Output.object`) comes out, and
 * the caller's check (lib/translate/verify.ts) is applied to it. The council's
 * rule, unchanged: an answer with problems (or not valid for the schema) gets
 * ONE repair attempt that sends the problems back; still wrong after that, it
 * is returned as rejected with its problems.
 *
 * Every call is an llm_events row (source "translate", operation
 * "translate.<lang>" or "translate.<lang>.repair"): the provider's own usage,
 * the measured latency, the price-table cost (null for a model without a
 * price), and an event id derived from the run, the translation and the
 * attempt. The SDK's retries are off (maxRetries 0): one row, one request.
 * The call itself and its row: lib/llm/structured-call.ts.
 */

export { TRANSLATION_LANGS, type TranslationLang } from "../episode/fact";
import type { TranslationLang } from "../episode/fact";

export const LANGUAGE_NAMES: Record<TranslationLang, string> = {
  de: "German (Deutsch)",
  zh: "Simplified Chinese (简体中文)",
  hi: "Hindi (हिन्दी)",
};

/**
 * The model's answer. Sections are an array, one per source section in the
 * source's order (the original may have a Data quality notice before the five
 * story sections), each with its heading translated: the site shows the
 * headings, and the check maps sections by position, never by heading text.
 * Strict-mode friendly: every field required, no constraints the JSON schema
 * would have to express (counts are checked afterwards, as repairable problems).
 */
export const translationOutput = z.object({
  title: z.string().describe("The episode title, translated: plain text, one line."),
  summary: z.string().describe("The summary, translated: plain text."),
  sections: z
    .array(
      z.object({
        heading: z.string().describe("The section heading, translated: plain text, without #."),
        markdown: z.string().describe("The section body, translated: markdown without # or ## headings (### allowed)."),
      }),
    )
    .describe("Exactly one entry per source section, in the source's order."),
});
export type TranslationOutput = z.infer<typeof translationOutput>;

export function translateSystemPrompt(lang: TranslationLang): string {
  const language = LANGUAGE_NAMES[lang];
  return [
    `You translate one episode of Banterblogs, an engineering blog about LLM inference benchmarks and the user experience of an overlay, from English into ${language}.`,
    "",
    "A program compares your translation with the original and rejects it when any of these is broken:",
    "1. REFERENCES: the text holds no numbers; it holds references such as {{claim:event.1}}, {{fact:event.1.change_pct}} and {{commit:abc1234def56}}. Copy every reference exactly, character for character, as many times as the original has it, in the original's order and in the same sentence and paragraph (before stays before after; sentence by sentence, the same references); add none, drop none, change none. A {{claim:…}} renders a whole sentence, written by the program in your language: keep it where it stands and write nothing into it. Put no unit, %, sign, scale or number word next to a reference, and words between two references: it renders its own value, unit and sign in your language's number format. Direction words (rose/fell, improved/worse) must say what the original says.",
    "2. NO NUMBERS of your own: no digits in any script (no 0-9, no Devanagari ०-९, no full-width ０-９) and no number words (no zwei, zweimal, Hälfte, 两倍, 三, दो, आधा ...).",
    "3. CODE and LINKS: copy every `code span` and code block character for character, backticks included, and keep every link target (the URL in (...)) unchanged; you may translate link text unless it is code. Commit subjects in code stay in English.",
    "4. Keep identifiers as they are: model names (llama-3.1-8b), quantizations (int8, fp16), metric names (p95).",
    "5. STRUCTURE: return exactly one section per source section, in the same order; translate each heading (plain text, no #). Keep the markdown structure: paragraphs, lists, ### sub-headings (translated), emphasis. No # or ## headings inside a section. The title is one line of plain text.",
    "",
    `Write natural, fluent ${language} for engineers; keep technical terms that are usually left in English.`,
  ].join("\n");
}

export function translateUserPrompt(lang: TranslationLang, source: TranslatableText): string {
  const payload = {
    target_language: LANGUAGE_NAMES[lang],
    title: source.title,
    summary: source.summary,
    sections: source.sections.map((s) => ({ heading: s.heading, markdown: s.markdown })),
  };
  return `Translate this episode (JSON) into ${LANGUAGE_NAMES[lang]}. Return ${source.sections.length} sections.\n\n${JSON.stringify(payload, null, 2)}`;
}

export function translateRepairPrompt(problems: string[]): string {
  return [
    "The translation was rejected by the checker:",
    ...problems.map((p) => `- ${p}`),
    "",
    "Return the complete corrected translation in the same JSON shape. Copy every {{…}} reference, code span and link target exactly as the original has it; add none, drop none, and write no number of your own.",
  ].join("\n");
}

export interface TranslateCallOptions {
  lang: TranslationLang;
  /** The translate run: llm_events.run_id and event ids. */
  runId: string;
  /** Identifies the translation within the run (event ids), e.g. "chimera/1/de". */
  key: string;
  /** The problems of a translation; empty: accepted. */
  check: (translation: TranslationOutput) => string[];
  /** Per call. */
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

export type TranslateResult =
  | { status: "accepted"; translation: TranslationOutput; events: LlmEventRow[] }
  | { status: "rejected"; translation: TranslationOutput | undefined; problems: string[]; events: LlmEventRow[] }
  | { status: "failed"; error: string; transient: boolean; events: LlmEventRow[] };

type CallOutcome = StructuredCallResult<TranslationOutput>;

export async function translateWithLlm(source: TranslatableText, llm: LlmProvider, options: TranslateCallOptions): Promise<TranslateResult> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  const events: LlmEventRow[] = [];
  const system = translateSystemPrompt(options.lang);
  const messages: ModelMessage[] = [{ role: "user", content: translateUserPrompt(options.lang, source) }];

  async function call(attempt: number): Promise<CallOutcome> {
    const outcome = await structuredCall({
      llm,
      system,
      messages,
      schema: translationOutput,
      name: "translation",
      description: "The episode translated, section for section.",
      eventId: llmEventId(options.runId, `translate:${options.key}`, attempt),
      runId: options.runId,
      source: "translate",
      operation: attempt === 1 ? `translate.${options.lang}` : `translate.${options.lang}.repair`,
      timeoutMs,
      signal: options.signal,
      now,
    });
    events.push(outcome.event);
    return outcome;
  }

  /** A successful call whose translation was refused is a success of the call, noted on its row. */
  const noteRejection = (problems: string[]) => {
    const last = events.at(-1);
    if (last && last.status === "success") last.error_msg = `translation rejected: ${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  };

  const first = await call(1);
  if (first.kind === "failed") return { status: "failed", error: first.error, transient: first.transient, events };
  let problems: string[];
  if (first.kind === "output") {
    problems = options.check(first.output);
    if (problems.length === 0) return { status: "accepted", translation: first.output, events };
    noteRejection(problems);
    messages.push({ role: "assistant", content: JSON.stringify(first.output) });
  } else {
    problems = [first.problem];
    messages.push({ role: "assistant", content: first.text ?? "" });
  }

  // The one repair attempt.
  messages.push({ role: "user", content: translateRepairPrompt(problems) });
  const second = await call(2);
  const firstTranslation = first.kind === "output" ? first.output : undefined;
  // The translation was already refused: a failed repair call leaves it rejected (and recorded).
  if (second.kind === "failed") return { status: "rejected", translation: firstTranslation, problems: [...problems, `repair: ${second.error}`], events };
  if (second.kind === "invalid") return { status: "rejected", translation: firstTranslation, problems: [...problems, `repair: ${second.problem}`], events };
  const remaining = options.check(second.output);
  if (remaining.length === 0) return { status: "accepted", translation: second.output, events };
  noteRejection(remaining);
  return { status: "rejected", translation: second.output, problems: remaining, events };
}
