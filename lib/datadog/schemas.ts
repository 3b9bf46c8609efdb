import { z } from "zod";

/**
 * zod schemas of the parts of Datadog's API that datadog/*.json use: v1
 * dashboards (ordered layout, group / timeseries / query_value / toplist /
 * note / slo widgets with formula-and-function metric queries), v1 monitors
 * (metric "query alert"), v1 SLOs (metric, monitor and time-slice) and v1
 * Synthetic API tests (HTTP). Definitions are strict: a misspelt or
 * unsupported field fails here instead of being silently dropped by Datadog.
 * Responses are parsed loosely (Datadog adds ids, dates, authors...).
 *
 * Where Datadog wants the id of an object Muse itself defines (an SLO over a
 * synthetic test's monitor, a dashboard widget showing an SLO), the files name
 * the object by its `muse-id:<key>`: its id exists only once it was created,
 * and differs per Datadog organisation. `muse datadog apply` puts the id in.
 */

// ---------------------------------------------------------------------------
// Dashboards

const liveSpan = z.enum(["5m", "10m", "15m", "30m", "1h", "4h", "1d", "2d", "1w", "1mo", "3mo", "6mo", "1y"]);
const widgetTime = z.object({ live_span: liveSpan }).strict();
const textAlign = z.enum(["center", "left", "right"]);

export const metricQuery = z
  .object({
    data_source: z.literal("metrics"),
    /** Referenced by the request's formulas. */
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, "query names are lower-case identifiers"),
    query: z.string().min(1),
    aggregator: z.enum(["avg", "min", "max", "sum", "last", "area", "l2norm", "percentile"]).optional(),
  })
  .strict();

/**
 * A RUM event query (formula-and-function, data_source rum): e.g. the p75 of
 * a view's Core Web Vital (`@view.largest_contentful_paint`, in ns).
 */
export const rumQuery = z
  .object({
    data_source: z.literal("rum"),
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, "query names are lower-case identifiers"),
    indexes: z.array(z.string()).optional(),
    compute: z
      .object({
        aggregation: z.enum(["count", "cardinality", "median", "pc75", "pc90", "pc95", "pc98", "pc99", "sum", "min", "max", "avg"]),
        metric: z
          .string()
          .regex(/^@[\w.]+$/, "a RUM measure is an @attribute")
          .optional(),
        interval: z.number().int().positive().optional(),
      })
      .strict(),
    search: z.object({ query: z.string() }).strict(),
    group_by: z
      .array(
        z
          .object({
            facet: z.string(),
            limit: z.number().int().min(1).optional(),
            sort: z
              .object({ aggregation: z.string(), order: z.enum(["asc", "desc"]), metric: z.string().optional() })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

const formula = z
  .object({
    formula: z.string().min(1),
    alias: z.string().optional(),
    limit: z
      .object({ count: z.number().int().min(1), order: z.enum(["asc", "desc"]) })
      .strict()
      .optional(),
  })
  .strict();

const conditionalFormat = z
  .object({
    comparator: z.enum([">", ">=", "<", "<="]),
    value: z.number(),
    palette: z.enum([
      "white_on_green",
      "white_on_yellow",
      "white_on_red",
      "green_on_white",
      "yellow_on_white",
      "red_on_white",
      "black_on_light_green",
      "black_on_light_yellow",
      "black_on_light_red",
    ]),
  })
  .strict();

/** Every formula names queries of its own request. */
function formulasUseTheirQueries<T extends { queries: { name: string }[]; formulas: { formula: string }[] }>(request: T, ctx: z.RefinementCtx) {
  const names = new Set(request.queries.map((q) => q.name));
  for (const f of request.formulas) {
    // Identifiers not followed by "(" (those are functions: abs, cumsum...).
    for (const ident of f.formula.match(/\b[a-z_][a-z0-9_]*\b(?!\s*\()/g) ?? []) {
      if (!names.has(ident)) ctx.addIssue({ code: "custom", message: `formula "${f.formula}" uses ${ident}, which is not a query of this request` });
    }
  }
  if (new Set(request.queries.map((q) => q.name)).size !== request.queries.length)
    ctx.addIssue({ code: "custom", message: "query names must be unique within a request" });
}

const timeseriesRequest = z
  .object({
    response_format: z.literal("timeseries"),
    queries: z.array(z.discriminatedUnion("data_source", [metricQuery, rumQuery])).min(1),
    formulas: z.array(formula).min(1),
    display_type: z.enum(["line", "bars", "area"]).optional(),
    style: z
      .object({
        palette: z.string().optional(),
        line_type: z.enum(["dashed", "dotted", "solid"]).optional(),
        line_width: z.enum(["normal", "thick", "thin"]).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine(formulasUseTheirQueries);

const scalarRequest = z
  .object({
    response_format: z.literal("scalar"),
    queries: z.array(z.discriminatedUnion("data_source", [metricQuery.extend({ aggregator: metricQuery.shape.aggregator.unwrap() }), rumQuery])).min(1),
    formulas: z.array(formula).min(1),
    conditional_formats: z.array(conditionalFormat).optional(),
  })
  .strict()
  .superRefine(formulasUseTheirQueries);

const common = {
  title: z.string().min(1),
  title_align: textAlign.optional(),
  time: widgetTime.optional(),
};

export const timeseriesWidget = z
  .object({
    type: z.literal("timeseries"),
    ...common,
    show_legend: z.boolean().optional(),
    legend_layout: z.enum(["auto", "horizontal", "vertical"]).optional(),
    legend_columns: z.array(z.enum(["value", "avg", "sum", "min", "max"])).optional(),
    requests: z.array(timeseriesRequest).min(1),
    markers: z.array(z.object({ value: z.string(), display_type: z.string().optional(), label: z.string().optional() }).strict()).optional(),
    yaxis: z
      .object({
        min: z.string().optional(),
        max: z.string().optional(),
        scale: z.enum(["linear", "log", "sqrt"]).optional(),
        include_zero: z.boolean().optional(),
        label: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const queryValueWidget = z
  .object({
    type: z.literal("query_value"),
    ...common,
    requests: z.array(scalarRequest).length(1),
    precision: z.number().int().min(0).optional(),
    autoscale: z.boolean().optional(),
    custom_unit: z.string().optional(),
    text_align: textAlign.optional(),
    timeseries_background: z
      .object({ type: z.enum(["bars", "area"]) })
      .strict()
      .optional(),
  })
  .strict();

export const toplistWidget = z
  .object({
    type: z.literal("toplist"),
    ...common,
    requests: z.array(scalarRequest).min(1),
  })
  .strict();

export const noteWidget = z
  .object({
    type: z.literal("note"),
    content: z.string().min(1),
    background_color: z.string().optional(),
    font_size: z.string().optional(),
    text_align: textAlign.optional(),
    show_tick: z.boolean().optional(),
    has_padding: z.boolean().optional(),
  })
  .strict();

/**
 * An SLO's status and error budget. In datadog/dashboard.json `slo_id` is the
 * SLO's `muse-id:<key>` (loadDefinitions checks it names an SLO of slos.json);
 * the body sent to Datadog carries the SLO's id.
 */
export const sloWidget = z
  .object({
    type: z.literal("slo"),
    title: common.title,
    title_align: common.title_align,
    view_type: z.literal("detail"),
    slo_id: z.string().min(1),
    show_error_budget: z.boolean().optional(),
    view_mode: z.enum(["overall", "component", "both"]).optional(),
    time_windows: z
      .array(z.enum(["7d", "30d", "90d", "week_to_date", "previous_week", "month_to_date", "previous_month", "global_time"]))
      .min(1)
      .optional(),
  })
  .strict();

export const leafWidgetDefinition = z.discriminatedUnion("type", [timeseriesWidget, queryValueWidget, toplistWidget, noteWidget, sloWidget]);
export type LeafWidgetDefinition = z.infer<typeof leafWidgetDefinition>;

const leafWidget = z.object({ definition: leafWidgetDefinition }).strict();

export const groupWidget = z
  .object({
    type: z.literal("group"),
    title: z.string().min(1),
    layout_type: z.literal("ordered"),
    background_color: z.string().optional(),
    show_title: z.boolean().optional(),
    widgets: z.array(leafWidget).min(1),
  })
  .strict();

export const widget = z.object({ definition: z.discriminatedUnion("type", [groupWidget, ...leafWidgetDefinition.options]) }).strict();
export type Widget = z.infer<typeof widget>;

export const templateVariable = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/),
    prefix: z.string().min(1),
    available_values: z.array(z.string()).optional(),
    defaults: z.array(z.string()).optional(),
  })
  .strict();

export const dashboardDefinition = z
  .object({
    title: z.string().min(1),
    description: z.string().optional(),
    layout_type: z.literal("ordered"),
    reflow_type: z.enum(["auto", "fixed"]).optional(),
    template_variables: z.array(templateVariable).optional(),
    notify_list: z.array(z.string()).optional(),
    /** Dashboard tags must use the `team:` key. */
    tags: z.array(z.string().regex(/^team:/, "dashboard tags must start with team:")).optional(),
    widgets: z.array(widget).min(1),
  })
  .strict();
export type DashboardDefinition = z.infer<typeof dashboardDefinition>;

// ---------------------------------------------------------------------------
// Monitors and SLOs: both carry `managed-by:muse` and a stable `muse-id:<key>`.

export const MANAGED_TAG = "managed-by:muse";
export const MUSE_ID_PREFIX = "muse-id:";
const MUSE_ID = /^muse-id:[a-z0-9][a-z0-9-]*$/;

export function museIdOf(tags: readonly string[] | undefined | null): string | undefined {
  const tag = (tags ?? []).find((t) => t.startsWith(MUSE_ID_PREFIX));
  return tag?.slice(MUSE_ID_PREFIX.length);
}

/** A reference to another object of datadog/ by its muse-id, where Datadog wants that object's id. */
export const museRef = z.string().regex(MUSE_ID, "a muse-id:<key> of an object defined in datadog/");

/** `muse-id:slo-site-uptime` → `slo-site-uptime`. */
export const museRefKey = (ref: string): string | undefined => (MUSE_ID.test(ref) ? ref.slice(MUSE_ID_PREFIX.length) : undefined);

const managedTags = z
  .array(z.string().min(1))
  .refine((tags) => tags.includes(MANAGED_TAG), `tags must include ${MANAGED_TAG}`)
  .refine((tags) => tags.filter((t) => MUSE_ID.test(t)).length === 1, "tags must include exactly one muse-id:<key> (lower-case, digits, dashes)");

export const monitorDefinition = z
  .object({
    name: z.string().min(1),
    type: z.literal("query alert"),
    query: z.string().min(1),
    message: z.string().min(1),
    tags: managedTags,
    /** Datadog's P1–P5; Muse uses three tiers (MONITOR_TIERS), named by a `severity:` tag. */
    priority: z.union([z.literal(1), z.literal(3), z.literal(5)]),
    options: z
      .object({
        thresholds: z
          .object({
            critical: z.number(),
            warning: z.number().optional(),
            critical_recovery: z.number().optional(),
            warning_recovery: z.number().optional(),
          })
          .strict(),
        notify_no_data: z.boolean().optional(),
        no_data_timeframe: z.number().int().min(1).optional(),
        require_full_window: z.boolean().optional(),
        renotify_interval: z.number().int().min(0).optional(),
        evaluation_delay: z.number().int().min(0).optional(),
        new_group_delay: z.number().int().min(0).optional(),
        include_tags: z.boolean().optional(),
        notify_audit: z.boolean().optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((monitor, ctx) => {
    // The query's comparison must be the critical threshold, or Datadog refuses the monitor.
    const m = monitor.query.match(/(>=|<=|>|<)\s*(-?[\d.]+)\s*$/);
    if (!m) ctx.addIssue({ code: "custom", path: ["query"], message: "a query alert ends with a comparison to its critical threshold" });
    else if (Number(m[2]) !== monitor.options.thresholds.critical) {
      ctx.addIssue({ code: "custom", path: ["options", "thresholds", "critical"], message: `critical threshold must equal the query's ${m[2]}` });
    }
    const window = monitorWindowMinutes(monitor.query);
    if (window === undefined) {
      ctx.addIssue({ code: "custom", path: ["query"], message: "a query alert starts with <aggregation>(last_<window>):" });
    }
    // No data is only "no data" once a whole window is empty: a shorter no-data timeframe never fires (or fires at random).
    if (monitor.options.notify_no_data) {
      const timeframe = monitor.options.no_data_timeframe;
      if (timeframe === undefined)
        ctx.addIssue({ code: "custom", path: ["options", "no_data_timeframe"], message: "notify_no_data needs a no_data_timeframe" });
      else if (window !== undefined && timeframe < window) {
        ctx.addIssue({
          code: "custom",
          path: ["options", "no_data_timeframe"],
          message: `no_data_timeframe (${timeframe} min) is shorter than the query's window (${window} min)`,
        });
      }
    }
    severityMatchesPriority(monitor.priority, monitor.tags, ctx);
  });

/** A priority (P1, P3, P5) is named by exactly one `severity:<tier>` tag, which decides whom it notifies. */
function severityMatchesPriority(priority: number, tags: readonly string[], ctx: z.RefinementCtx) {
  const severities = tags.filter((t) => t.startsWith("severity:"));
  const tier = MONITOR_TIERS.find((t) => TIER_PRIORITY[t] === priority);
  if (severities.length !== 1 || severities[0] !== `severity:${tier}`) {
    ctx.addIssue({ code: "custom", path: ["tags"], message: `priority ${priority} needs exactly one tag severity:${tier}` });
  }
}

/** Monitor tiers, their Datadog priority, and (`muse datadog apply`) whom they notify. */
export const MONITOR_TIERS = ["critical", "warning", "info"] as const;
export type MonitorTier = (typeof MONITOR_TIERS)[number];
export const TIER_PRIORITY: Record<MonitorTier, 1 | 3 | 5> = { critical: 1, warning: 3, info: 5 };

export function monitorTier(monitor: { priority: number }): MonitorTier {
  return MONITOR_TIERS.find((t) => TIER_PRIORITY[t] === monitor.priority) ?? "info";
}

const WINDOW_MINUTES: Record<string, number> = { m: 1, h: 60, d: 1440, w: 10080 };

/** The evaluation window of a query alert in minutes (`sum(last_4h):…` → 240). */
export function monitorWindowMinutes(query: string): number | undefined {
  const m = /^(?:avg|sum|min|max)\(last_(\d+)([mhdw])\):/.exec(query);
  return m ? Number(m[1]) * WINDOW_MINUTES[m[2]] : undefined;
}
export type MonitorDefinition = z.infer<typeof monitorDefinition>;

const sloTimeframe = z.enum(["7d", "30d", "90d"]);

const sloCommon = {
  name: z.string().min(1),
  description: z.string().optional(),
  thresholds: z.array(z.object({ timeframe: sloTimeframe, target: z.number().gt(0).lt(100), warning: z.number().gt(0).lt(100).optional() }).strict()).min(1),
  timeframe: sloTimeframe.optional(),
  target_threshold: z.number().gt(0).lt(100).optional(),
  warning_threshold: z.number().gt(0).lt(100).optional(),
  tags: managedTags,
};

const metricSlo = z
  .object({
    type: z.literal("metric"),
    query: z.object({ numerator: z.string().min(1), denominator: z.string().min(1) }).strict(),
    ...sloCommon,
  })
  .strict()
  .superRefine((slo, ctx) => {
    // Metric SLOs count events: only sum-aggregated counts make sense.
    for (const part of ["numerator", "denominator"] as const) {
      if (!/^sum:/.test(slo.query[part].trim())) ctx.addIssue({ code: "custom", path: ["query", part], message: "metric SLO queries use the sum aggregator" });
    }
  });

/**
 * A time-slice SLO: the share of time slices (1 or 5 minutes) whose value of one formula meets the condition, e.g.
 * the synthetic checks' response time below 1000 ms. Datadog takes exactly one formula.
 */
const timeSliceSlo = z
  .object({
    type: z.literal("time_slice"),
    sli_specification: z
      .object({
        time_slice: z
          .object({
            query: z
              .object({
                formulas: z.array(z.object({ formula: z.string().min(1) }).strict()).length(1, "a time-slice SLO has exactly one formula"),
                queries: z.array(metricQuery.omit({ aggregator: true })).min(1),
              })
              .strict()
              .superRefine(formulasUseTheirQueries),
            comparator: z.enum([">", ">=", "<", "<="]),
            threshold: z.number(),
            query_interval_seconds: z.union([z.literal(60), z.literal(300)]).optional(),
          })
          .strict(),
      })
      .strict(),
    ...sloCommon,
  })
  .strict();

/**
 * SLOs of the three kinds Muse uses. `monitorId` is what a monitor SLO's monitor_ids hold: in slos.json the
 * `muse-id:<key>` of a synthetic test (its monitor) or of a monitor of monitors.json; in the body sent to Datadog
 * their ids.
 */
function sloSchema<I extends z.ZodType>(monitorId: I) {
  const monitorSlo = z
    .object({
      type: z.literal("monitor"),
      monitor_ids: z.array(monitorId).min(1),
      ...sloCommon,
    })
    .strict();
  return z.discriminatedUnion("type", [metricSlo, monitorSlo, timeSliceSlo]);
}

export const sloDefinition = sloSchema(museRef);
export type SloDefinition = z.infer<typeof sloDefinition>;
/** An SLO as `POST /api/v1/slo` takes it: references replaced by ids. */
export const sloRequest = sloSchema(z.number().int().positive());
export type SloRequest = z.infer<typeof sloRequest>;

// ---------------------------------------------------------------------------
// Synthetic API tests (HTTP): uptime and latency of the site, seen from outside.

/**
 * The assertions Muse uses, and only those: `npm run muse -- status` evaluates the same definitions against a
 * local site (lib/datadog/synthetics.ts), so an assertion it could not evaluate is refused here rather than
 * skipped there. responseTime is in milliseconds.
 */
export const syntheticAssertion = z.discriminatedUnion("type", [
  z.object({ type: z.literal("statusCode"), operator: z.literal("is"), target: z.number().int().min(100).max(599) }).strict(),
  z.object({ type: z.literal("responseTime"), operator: z.literal("lessThan"), target: z.number().int().positive() }).strict(),
  z.object({ type: z.literal("body"), operator: z.literal("contains"), target: z.string().min(1) }).strict(),
]);
export type SyntheticAssertion = z.infer<typeof syntheticAssertion>;

export const syntheticDefinition = z
  .object({
    name: z.string().min(1),
    type: z.literal("api"),
    subtype: z.literal("http"),
    config: z
      .object({
        request: z
          .object({
            method: z.literal("GET"),
            /** A path on the site: apply puts MUSE_SITE_URL before it, `muse status` its --site-url. */
            url: z.string().regex(/^\/\S*$/, "a path on the site, e.g. /api/health (the site's URL is put before it)"),
            /** Seconds (Datadog's default is 60). */
            timeout: z.number().positive().max(60).optional(),
          })
          .strict(),
        assertions: z.array(syntheticAssertion).min(1),
      })
      .strict(),
    locations: z.array(z.string().regex(/^(aws|azure|gcp):[a-z0-9-]+$/, "a managed location, e.g. aws:us-east-1")).min(1),
    options: z
      .object({
        /** Seconds between runs from each location. */
        tick_every: z.number().int().min(30).max(604_800),
        min_location_failed: z.number().int().min(1),
        /** Seconds a location must keep failing before the test alerts. */
        min_failure_duration: z.number().int().min(0).optional(),
        follow_redirects: z.boolean().optional(),
        /** A failed run is retried `count` times, `interval` ms apart, before the location counts as failing. */
        retry: z
          .object({ count: z.number().int().min(0).max(3), interval: z.number().int().min(0).max(5_000) })
          .strict()
          .optional(),
        /** The test's monitor's priority: Muse's tiers (P1 critical, P3 warning, P5 info), like monitors.json. */
        monitor_priority: z.union([z.literal(1), z.literal(3), z.literal(5)]),
        monitor_options: z
          .object({ renotify_interval: z.number().int().min(0) })
          .strict()
          .optional(),
      })
      .strict(),
    message: z.string().min(1),
    tags: managedTags,
    status: z.enum(["live", "paused"]),
  })
  .strict()
  .superRefine((test, ctx) => {
    const types = test.config.assertions.map((a) => a.type);
    if (!types.includes("statusCode")) ctx.addIssue({ code: "custom", path: ["config", "assertions"], message: "a check asserts the status code" });
    if (new Set(types).size !== types.length) ctx.addIssue({ code: "custom", path: ["config", "assertions"], message: "one assertion of each type" });
    if (new Set(test.locations).size !== test.locations.length) ctx.addIssue({ code: "custom", path: ["locations"], message: "a location is listed twice" });
    if (test.options.min_location_failed > test.locations.length) {
      ctx.addIssue({
        code: "custom",
        path: ["options", "min_location_failed"],
        message: `min_location_failed (${test.options.min_location_failed}) is more than the ${test.locations.length} location(s): the test could never alert`,
      });
    }
    // A response-time limit at or past the timeout is never what fails: the request is cut off first.
    const limit = test.config.assertions.find((a) => a.type === "responseTime")?.target;
    const timeout = test.config.request.timeout;
    if (limit !== undefined && timeout !== undefined && limit >= timeout * 1000) {
      ctx.addIssue({
        code: "custom",
        path: ["config", "request", "timeout"],
        message: `the timeout (${timeout} s) must be longer than the response-time limit (${limit} ms)`,
      });
    }
    severityMatchesPriority(test.options.monitor_priority, test.tags, ctx);
  });
export type SyntheticDefinition = z.infer<typeof syntheticDefinition>;

// ---------------------------------------------------------------------------
// Responses (only what apply reads; the rest passes through)

export const dashboardSummaryList = z.object({ dashboards: z.array(z.looseObject({ id: z.string(), title: z.string() })) }).loose();
export const dashboardResponse = z.looseObject({ id: z.string(), title: z.string() });
export const monitorResponse = z.looseObject({ id: z.number().int(), name: z.string(), type: z.string().optional(), tags: z.array(z.string()).nullish() });
export const monitorList = z.array(monitorResponse);
export const sloResponse = z.looseObject({ id: z.string(), name: z.string(), tags: z.array(z.string()).nullish() });
export const sloList = z.looseObject({ data: z.array(sloResponse).nullish() });
/** A synthetic test (GET, POST, PUT of /api/v1/synthetics/tests/api): `monitor_id` is the monitor Datadog made for it. */
export const syntheticResponse = z.looseObject({
  public_id: z.string(),
  name: z.string(),
  type: z.string().optional(),
  tags: z.array(z.string()).nullish(),
  monitor_id: z.number().int().nullish(),
});
export const syntheticList = z.looseObject({ tests: z.array(syntheticResponse) });
