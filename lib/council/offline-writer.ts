import type { ChangeFact, Fact, Facts } from "../analysis/facts";
import type { DraftClaim, EpisodeDraft, Series, TitleRules } from "../episode/draft";

/**
 * The deterministic writer: the same draft structure as the LLM's, built from
 * the same facts without a model. Every number it writes goes through
 * `Prose.state`, which formats the fact at its own decimals and records the
 * claim, so its drafts pass the truth rule by construction (tested on several
 * shapes of facts).
 */

const UNIT_WORDS: Record<ChangeFact["metric"], { name: string; unit: string; worse: string; better: string }> = {
  latency_p95_ms: { name: "p95 latency", unit: "ms", worse: "rose", better: "fell" },
  tokens_per_sec: { name: "throughput", unit: "tokens/s", worse: "fell", better: "rose" },
};

/** Formats a fact at its decimals, with thousands commas and its unit. */
export function formatFact(f: Pick<Fact, "value" | "decimals" | "unit">): string {
  const digits = f.value.toLocaleString("en-US", { minimumFractionDigits: f.decimals, maximumFractionDigits: f.decimals, useGrouping: true });
  switch (f.unit) {
    case "ms":
      return `${digits} ms`;
    case "tokens/s":
      return `${digits} tokens/s`;
    case "usd":
      return f.value < 0 ? `-$${digits.slice(1)}` : `$${digits}`;
    case "percent":
      return `${digits}%`;
    default:
      return digits;
  }
}

/** Prose that may only state facts: each statement records its claim. */
class Prose {
  readonly claims: DraftClaim[] = [];
  private readonly byId: Map<string, Fact>;
  constructor(facts: Fact[]) {
    this.byId = new Map(facts.map((f) => [f.id, f]));
  }
  has(id: string): boolean {
    return this.byId.has(id);
  }
  value(id: string): number | undefined {
    return this.byId.get(id)?.value;
  }
  /** The fact, formatted with its unit, claimed. */
  state(id: string): string {
    const f = this.byId.get(id);
    if (!f) throw new Error(`offline writer: no fact ${id}`);
    if (!this.claims.some((c) => c.fact_id === id)) this.claims.push({ fact_id: id, value: f.value, unit: f.unit });
    return formatFact(f);
  }
  /** "1 regression" / "3 regressions", the count claimed. */
  count(id: string, singular: string, plural = `${singular}s`): string {
    return `${this.state(id)} ${this.value(id) === 1 ? singular : plural}`;
  }
}

const day = (iso: string) => iso.slice(0, 10);

function strength(r: number): string {
  const a = Math.abs(r);
  if (a >= 0.7) return "strong";
  if (a >= 0.4) return "moderate";
  return "weak";
}

function fitTitle(candidates: string[], rules: TitleRules): string {
  const fitting = candidates.find((c) => c.length <= rules.maxLength);
  if (fitting) return fitting;
  const words = candidates.at(-1)!.split(" ");
  let title = "";
  for (const w of words) {
    if ((title ? `${title} ${w}` : w).length > rules.maxLength - 1) break;
    title = title ? `${title} ${w}` : w;
  }
  return `${title}…`;
}

function changeLine(p: Prose, c: ChangeFact, index: number): string {
  const words = UNIT_WORDS[c.metric];
  const key = `change.${index + 1}`;
  const verb = c.kind === "regression" ? words.worse : words.better;
  return `- **${c.model} ${c.quant}** (${c.kind}): ${words.name} ${verb} from ${p.state(`${key}.previous`)} to ${p.state(`${key}.current`)}, a change of ${p.state(`${key}.change_pct`)} against the previous window.`;
}

export function writeOffline(facts: Facts, options: { series: Series; titleRules: TitleRules }): EpisodeDraft {
  const p = new Prose(facts.facts);
  const { series } = options;
  const from = day(facts.window.from);
  const to = day(facts.window.to);
  const regressions = facts.changes.filter((c) => c.kind === "regression");
  const joined = p.value("window.joined_days") ?? 0;
  const r = p.has("correlation.latency_user") ? p.value("correlation.latency_user")! : null;

  // What changed: upstream activity, then the significant changes per model × quant.
  const whatChanged: string[] = [];
  whatChanged.push(
    `Between ${from} and ${to}, Banterhearts recorded ${p.count("commits.hearts", "commit")} and Banterpacks ${p.count("commits.packs", "commit")}.`,
  );
  if (facts.changes.length === 0) {
    whatChanged.push("No model × quantization pair changed significantly against the previous window (Welch's t-test).");
  } else {
    whatChanged.push(`Against the previous window, Welch's t-test found ${p.count("changes.regressions", "regression")} and ${p.count("changes.improvements", "improvement")}:`);
    whatChanged.push(facts.changes.map((c, i) => changeLine(p, c, i)).join("\n"));
  }

  // Why it matters: does what the benchmarks measure reach the user?
  const why: string[] = [];
  if (joined === 0) {
    why.push("No day in the window had data from both Banterhearts and Banterpacks, so nothing can be said yet about how benchmark latency reaches users.");
  } else if (r === null) {
    why.push(`Over ${p.count("window.joined_days", "day")} with data from both sources, no correlation between p95 latency and user-facing latency could be computed (the series did not vary).`);
  } else {
    why.push(
      `Over ${p.count("window.joined_days", "day")} with data from both sources, daily p95 latency and the latency users saw in the overlay moved together with a ${strength(r)} ${r < 0 ? "negative" : "positive"} correlation (Pearson r = ${p.state("correlation.latency_user")}).`,
    );
    if (series === "chimera") why.push("Benchmark regressions are therefore likely to be felt by users, which makes them worth fixing first.");
    else why.push("How the overlay feels is the story this window; benchmark movements explain it only in part.");
  }
  if (p.has("correlation.latency_errors")) why.push(`Between p95 latency and the error rate, r = ${p.state("correlation.latency_errors")}.`);
  why.push(`The confidence score is ${p.state("confidence")}, limited by ${facts.confidence.limiting}.`);

  // Benchmarks (summary): the window's headline figures.
  const bullets: string[] = [];
  const line = (id: string, label: string) => {
    if (p.has(id)) bullets.push(`- ${label}: ${p.state(id)}`);
  };
  const heartsFirst = series === "chimera";
  const hearts = () => {
    line("hearts.latency_p95_ms", "Mean daily p95 latency (Banterhearts)");
    line("hearts.tokens_per_sec", "Mean daily throughput");
    line("hearts.cost_per_1k", "Mean cost per thousand tokens");
  };
  const packs = () => {
    line("packs.user_latency_ms", "Mean user-facing latency (Banterpacks)");
    line("packs.error_rate_pct", "Error rate");
    line("packs.abandonment_pct", "Abandoned queries");
  };
  if (heartsFirst) {
    hearts();
    packs();
  } else {
    packs();
    hearts();
  }
  bullets.push(`- Data: ${p.count("volume.bench_rows", "benchmark row")}, ${p.count("volume.events", "UI event")} in ${p.count("volume.sessions", "session")}`);
  if (facts.models.length > 0) bullets.push(`- Models covered: ${facts.models.map((m) => `\`${m}\``).join(", ")}`);

  // Next steps: what the numbers ask for.
  const steps: string[] = [];
  for (const c of regressions) steps.push(`- Investigate the ${UNIT_WORDS[c.metric].name} regression of \`${c.model}\` \`${c.quant}\` and bisect the Banterhearts commits of the window.`);
  if (joined < (p.value("window.days") ?? 0)) steps.push("- Backfill the days that lack data from one of the sources before drawing conclusions.");
  if (facts.confidence.correlation < 0.5) steps.push("- Keep collecting: the link between benchmark latency and user latency is not established yet.");
  if (facts.confidence.recency < 1) steps.push("- Check the ingest and collect agents: the newest data is older than the freshness threshold.");
  if (facts.confidence.volume < 1) steps.push("- Raise the data volume: run the benchmark suite and overlay sessions more often.");
  if (steps.length === 0) steps.push("- Keep the benchmark cadence and watch the next window for changes.");

  const links = [
    "Every number above is computed from ClickHouse (`bench_runs`, `session_stats`, `upstream_commits`) and listed with its query in the front-matter `claims`.",
  ].join("\n");

  // Title and summary last: they may only state what the sections already claim or more facts.
  let title: string;
  let summary: string;
  if (series === "chimera") {
    const first = regressions[0];
    title = fitTitle(
      [
        first ? `Chimera: ${UNIT_WORDS[first.metric].name} regression in ${first.model} ${first.quant}` : "Chimera: benchmark latency and user latency move together",
        first ? `Chimera: a ${UNIT_WORDS[first.metric].name} regression` : "Chimera: benchmarks reach users",
      ],
      options.titleRules,
    );
    const lat = p.has("hearts.latency_p95_ms") ? `Mean daily p95 latency was ${p.state("hearts.latency_p95_ms")}` : "Benchmark latency was not measured";
    const user = p.has("packs.user_latency_ms") ? ` while users saw ${p.state("packs.user_latency_ms")}` : "";
    const corr = r !== null ? ` (r = ${p.state("correlation.latency_user")})` : "";
    summary = `${lat}${user}${corr}; ${p.count("changes.regressions", "regression")} found against the previous window.`;
  } else {
    title = fitTitle(["Banterpacks: how the overlay felt this window", "Banterpacks: the overlay this window"], options.titleRules);
    const parts: string[] = [];
    if (p.has("packs.user_latency_ms")) parts.push(`a mean latency of ${p.state("packs.user_latency_ms")}`);
    if (p.has("packs.error_rate_pct")) parts.push(`an error rate of ${p.state("packs.error_rate_pct")}`);
    if (p.has("packs.abandonment_pct")) parts.push(`${p.state("packs.abandonment_pct")} of queries abandoned`);
    summary =
      parts.length > 0
        ? `Over ${p.count("window.joined_days", "day")} with data from both sources, overlay users saw ${parts.join(", ")}.`
        : `No Banterpacks session data joined the benchmarks in this window (${p.count("volume.sessions", "session")}).`;
  }

  return {
    title,
    summary,
    sections: {
      what_changed: whatChanged.join("\n\n"),
      why_it_matters: why.join(" "),
      benchmarks_summary: bullets.join("\n"),
      next_steps: steps.join("\n"),
      links_and_artifacts: links,
    },
    claims: p.claims,
  };
}
