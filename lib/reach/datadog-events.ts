import { isUnplaced, shapeSizeText, type BenchEventRow } from "../lifecycle/events";
import { absoluteUrl, paths } from "../site/paths";
import { eventChartUrl, short } from "./github-issues";

/**
 * A Datadog event for every state change of a benchmark event (docs/reach.md),
 * so the dashboard's event overlay shows regressions where the metrics move:
 * `POST /api/v1/events` with the API key the metrics already use
 * (https://docs.datadoghq.com/api/latest/events/#post-an-event). Events of one
 * benchmark event share an `aggregation_key` (its id), so Datadog rolls them
 * up. What was last sent is the event's fingerprint
 * (`state|bisection_status|blamed_sha`) in event_notifications.
 */

export interface DatadogEvent {
  title: string;
  text: string;
  tags: string[];
  alert_type: "error" | "warning" | "info" | "success";
  aggregation_key: string;
  date_happened: number;
  priority: "normal" | "low";
}

export const datadogFingerprint = (e: Pick<BenchEventRow, "state" | "bisection_status" | "blamed_sha">) => `${e.state}|${e.bisection_status}|${e.blamed_sha}`;

const pct = (v: number) => `${v > 0 ? "+" : v < 0 ? "-" : ""}${Math.abs(v).toFixed(1)} %`;
/** Tag values: lower case, no spaces or commas (https://docs.datadoghq.com/getting_started/tagging/). */
const tagValue = (v: string) =>
  v
    .toLowerCase()
    .replace(/[^a-z0-9_.:/-]+/g, "_")
    .slice(0, 190);

export function alertTypeOf(e: Pick<BenchEventRow, "kind" | "state">): DatadogEvent["alert_type"] {
  if (e.state === "withdrawn" || e.kind === "no_code") return "info";
  if (e.kind === "improvement" || e.state === "fixed") return "success";
  return e.state === "partly_fixed" ? "warning" : "error";
}

export function datadogEvent(e: BenchEventRow, context: { siteUrl: string; service: string; env: string; now: Date }): DatadogEvent {
  const where = e.blamed_sha
    ? `at ${short(e.blamed_sha)}`
    : e.kind === "no_code"
      ? `between ${short(e.range_from_sha)} and ${short(e.range_to_sha)} (no code changed)`
      : isUnplaced(e)
        ? "since before the first run looked at"
        : `between ${short(e.range_from_sha)} and ${short(e.range_to_sha)}`;
  // A drift or spread change is told by its slope or noise ratio (docs/change-points.md).
  const shaped = shapeSizeText(e);
  const what = e.kind === "no_code" ? "Environment change" : e.kind === "improvement" ? "Improvement" : "Regression";
  const state = e.state.replace("_", " ");
  // Datadog keeps at most 100 characters of a title.
  const full = `${what} ${state}: ${e.metric} ${shaped?.replace(/ \(95 % interval.*$/, "") ?? pct(e.change_pct)} ${where}, ${e.label}`;
  const title = full.length <= 100 ? full : `${full.slice(0, 99)}…`;
  const lines = [
    "%%%",
    shaped
      ? `**${e.metric} ${shaped}** in ${e.label}, ${e.series_changed} series moved.`
      : `**${e.metric} ${pct(e.change_pct)}** (95 % interval ${pct(e.ci_low_pct)} to ${pct(e.ci_high_pct)}) in ${e.label}, ${e.series_changed} series moved.`,
    e.blamed_sha
      ? `Commit ${e.blamed_sha}.`
      : isUnplaced(e)
        ? "Blamed on no commit: the drift began before the first run the detector looked at."
        : `Between ${short(e.range_from_sha)} and ${short(e.range_to_sha)}, ${e.code_commits.length} code commits${e.bisection_status === "bisecting" ? `, bisecting: step ${e.bisection_steps + 1} of at most ${e.bisection_steps + e.bisection_steps_left}` : ""}.`,
    e.state === "fixed" || e.state === "partly_fixed"
      ? `${e.state === "fixed" ? "Fixed" : "Partly fixed"} by ${e.fixed_by_sha ? short(e.fixed_by_sha) : "a later change"}${e.recovered_pct !== null ? `: ${e.recovered_pct.toFixed(1)} % recovered` : ""}.`
      : "",
    `[Chart](${eventChartUrl(context.siteUrl, e.event_id)}) · [Status page](${absoluteUrl(context.siteUrl, paths.status("en"))})`,
    "%%%",
  ].filter(Boolean);
  return {
    title,
    text: lines.join("\n").slice(0, 4000),
    tags: [
      `service:${tagValue(context.service)}`,
      `env:${tagValue(context.env)}`,
      "source:muse",
      `muse_event:${e.event_id}`,
      `kind:${e.kind}`,
      `state:${e.state}`,
      `benchmark_type:${tagValue(e.benchmark_type)}`,
      `model:${tagValue(e.model)}`,
      `metric:${e.metric}`,
    ],
    alert_type: alertTypeOf(e),
    aggregation_key: e.event_id.slice(0, 100),
    date_happened: Math.floor(context.now.getTime() / 1000),
    priority: e.kind === "regression" && e.state !== "withdrawn" ? "normal" : "low",
  };
}

export async function postDatadogEvent(options: { apiUrl: string; apiKey: string; fetch?: typeof globalThis.fetch }, event: DatadogEvent): Promise<void> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const res = await fetchImpl(new URL("/api/v1/events", options.apiUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "DD-API-KEY": options.apiKey },
    body: JSON.stringify(event),
  });
  if (!res.ok) throw new Error(`Datadog events API answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}
