/**
 * Runs once when the Next.js server starts: a bad environment fails here,
 * naming the variable; with OTEL_EXPORTER_OTLP_ENDPOINT set, agent runs and
 * LLM calls are traced (lib/telemetry.ts), otherwise nothing is registered.
 */
export async function register(): Promise<void> {
  const { loadEnv } = await import("./lib/env");
  loadEnv();
  const { registerTelemetry } = await import("./lib/telemetry");
  await registerTelemetry();
}
