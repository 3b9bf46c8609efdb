import type { Definitions } from "./apply";
import type { z } from "zod";
import type { LeafWidgetDefinition, rumQuery } from "./schemas";

/**
 * Metric references inside Datadog query strings, e.g.
 * `sum(last_4h):sum:muse.watch.runs{status:ok} by {env}.as_count() / sum:muse.watch.runs{*} by {env}.as_count() * 100 < 95`
 * → two references to muse.watch.runs. Used by the consistency test to check
 * every query against lib/metrics/names.ts.
 */

export interface MetricRef {
  metric: string;
  /** Space aggregator before the name (`sum:`), when given. */
  aggregator?: string;
  /** Tag keys filtered on (`status` of `status:ok`, also of `!status:500`). */
  tagKeys: string[];
  /** Template variables used in the scope (`env` of `$env`). */
  templateVariables: string[];
  /** `by {a,b}` keys. */
  groupBy: string[];
  modifier?: "as_count" | "as_rate";
  /** The reference as written. */
  text: string;
}

export interface ParsedQuery {
  refs: MetricRef[];
  /** Anything left that still looks like a metric or a scope: a reference the parser could not read. */
  leftovers: string[];
}

const REF = /(?:\b(avg|sum|min|max|count):)?([A-Za-z][\w]*(?:\.[\w]+)+)\s*\{([^{}]*)\}(?:\s*by\s*\{([^{}]*)\})?(\.as_count\(\)|\.as_rate\(\))?/g;

function splitScope(scope: string): string[] {
  return scope
    .split(/,|\s+(?:AND|OR)\s+/i)
    .map((item) =>
      item
        .trim()
        .replace(/^\(+|\)+$/g, "")
        .replace(/^NOT\s+/i, "")
        .replace(/^[!-]/, "")
        .trim(),
    )
    .filter((item) => item !== "" && item !== "*");
}

export function parseMetricQuery(query: string): ParsedQuery {
  const refs: MetricRef[] = [];
  const rest = query.replace(
    REF,
    (text, aggregator: string | undefined, metric: string, scope: string, by: string | undefined, modifier: string | undefined) => {
      const items = splitScope(scope);
      refs.push({
        metric,
        ...(aggregator ? { aggregator } : {}),
        tagKeys: items.filter((i) => !i.startsWith("$")).map((i) => i.split(":")[0]),
        templateVariables: items.filter((i) => i.startsWith("$")).map((i) => i.slice(1).split(".")[0]),
        groupBy:
          by === undefined
            ? []
            : by
                .split(",")
                .map((k) => k.trim())
                .filter(Boolean),
        ...(modifier ? { modifier: modifier === ".as_count()" ? "as_count" : "as_rate" } : {}),
        text,
      });
      return " ";
    },
  );
  // A dotted name, a brace or a template variable outside every reference means a reference was missed.
  const leftovers = rest.match(/[A-Za-z][\w]*(?:\.[A-Za-z_]\w*)+|[{}]|\$\w+/g) ?? [];
  return { refs, leftovers };
}

export interface QueryLocation {
  /** Where the query is, e.g. `dashboard "Data layer" › "Watcher verdicts"`, `monitor kpi-data-freshness`. */
  where: string;
  query: string;
  /** Template variables (name → tag prefix) available where the query is; monitors and SLOs have none. */
  templateVariables: Map<string, string>;
}

/** The metric query strings of a widget (RUM event queries are not metrics: see rumQueries; an SLO widget shows an SLO's). */
function leafQueries(def: LeafWidgetDefinition): string[] {
  if (def.type === "note" || def.type === "slo") return [];
  return def.requests.flatMap((r) => r.queries.flatMap((q) => (q.data_source === "metrics" ? [q.query] : [])));
}

/** Every RUM event query of the dashboard, with the widget's title. */
export function rumQueries(defs: Definitions): { title: string; query: z.output<typeof rumQuery> }[] {
  const out: { title: string; query: z.output<typeof rumQuery> }[] = [];
  const visit = (def: LeafWidgetDefinition) => {
    if (def.type === "note" || def.type === "slo") return;
    for (const r of def.requests) for (const q of r.queries) if (q.data_source === "rum") out.push({ title: def.title, query: q });
  };
  for (const w of defs.dashboard.widgets) {
    const d = w.definition;
    if (d.type === "group") d.widgets.forEach((child) => visit(child.definition));
    else visit(d);
  }
  return out;
}

/** Every query string of the definitions, with where it is. */
export function allQueries(defs: Definitions): QueryLocation[] {
  const vars = new Map((defs.dashboard.template_variables ?? []).map((v) => [v.name, v.prefix]));
  const none = new Map<string, string>();
  const out: QueryLocation[] = [];
  for (const w of defs.dashboard.widgets) {
    const d = w.definition;
    if (d.type === "group") {
      for (const child of d.widgets) {
        const title = child.definition.type === "note" ? "(note)" : child.definition.title;
        for (const query of leafQueries(child.definition)) out.push({ where: `dashboard "${d.title}" › "${title}"`, query, templateVariables: vars });
      }
    } else {
      for (const query of leafQueries(d)) out.push({ where: `dashboard › "${d.type === "note" ? "(note)" : d.title}"`, query, templateVariables: vars });
    }
  }
  for (const m of defs.monitors) out.push({ where: `monitor ${m.tags.find((t) => t.startsWith("muse-id:"))}`, query: m.query, templateVariables: none });
  for (const s of defs.slos) {
    const id = s.tags.find((t) => t.startsWith("muse-id:"));
    if (s.type === "metric") {
      out.push({ where: `slo ${id} numerator`, query: s.query.numerator, templateVariables: none });
      out.push({ where: `slo ${id} denominator`, query: s.query.denominator, templateVariables: none });
    } else if (s.type === "time_slice") {
      for (const q of s.sli_specification.time_slice.query.queries) out.push({ where: `slo ${id} ${q.name}`, query: q.query, templateVariables: none });
    }
    // A monitor SLO has no query of its own: its monitors' (or synthetic tests') states are its SLI.
  }
  return out;
}
