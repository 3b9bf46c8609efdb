import { SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import { messageOf } from "./error-message";

/**
 * OpenTelemetry tracing of agent runs and LLM calls, exported over OTLP/HTTP
 * only when a collector is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or the
 * traces-only OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); otherwise nothing is
 * registered, the spans below are OpenTelemetry's no-ops, and nothing is sent.
 *
 * `@vercel/otel` is the SDK (instrumentation.ts for the Next.js server, the
 * CLI for `npm run muse`): it reads the standard variables itself —
 * OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default, or http/json),
 * OTEL_EXPORTER_OTLP_HEADERS (e.g. a collector's API key), OTEL_SERVICE_NAME
 * (default DD_SERVICE, else "muse") — and on Vercel flushes at the end of each
 * request. The AI SDK's spans (`ai.generateText`, `ai.generateText.doGenerate`)
 * nest under the agent's run span; prompts and answers are not recorded.
 */

export const TRACER_NAME = "muse";

export function telemetryConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

let registered = false;

/** Registers the SDK when a collector is configured; true when tracing is on. Idempotent. */
export async function registerTelemetry(env: Record<string, string | undefined> = process.env): Promise<boolean> {
  if (registered) return true;
  if (!telemetryConfigured(env)) return false;
  const { registerOTel } = await import("@vercel/otel");
  registerOTel({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || env.DD_SERVICE?.trim() || "muse",
    attributes: { "deployment.environment.name": env.DD_ENV?.trim() || "development" },
  });
  registered = true;
  return true;
}

/** Sends what is buffered (the CLI before it exits; tests). A no-op when tracing is off. */
export async function flushTelemetry(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown; forceFlush?: () => Promise<void> };
  const delegate = (provider.getDelegate?.() ?? provider) as { forceFlush?: () => Promise<void> };
  await delegate.forceFlush?.();
}

const message = (error: unknown) => messageOf(error).split("\n")[0].slice(0, 500);

/**
 * Runs fn inside an active span (children — the AI SDK's, fetches — nest
 * under it); an exception marks the span as an error and is rethrown.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR, message: message(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
