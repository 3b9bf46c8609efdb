import { describe, expect, it } from "vitest";
import type { ChangeFact, Fact, Facts } from "../lib/analysis/facts";
import { draftFormProblems, type DraftClaim } from "../lib/episode/draft";
import { formatFact, writeOffline } from "../lib/council/offline-writer";
import { buildFrontMatter, composeEpisode, dataQualityNotice, parseEpisodeFile, renderEpisode } from "../lib/episode/file";
import { extractNumbers, roundTo, truthContext, verifyContent, verifyDraft, verifyProse } from "../lib/council/verify";

/**
 * The truth rule on hand-made facts: what counts as a stated number, the
 * rounding a fact may be stated with, claims, and the offline writer passing
 * its own verification on several shapes of data.
 */

const HEARTS_SHA = "1234567".padEnd(40, "0"); // an all-digit short sha: must not read as a number
const PACKS_SHA = "abcdef1".padEnd(40, "e");
const RUN_ID = "5d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a";

const f = (id: string, value: number, unit: Fact["unit"], decimals: number): Fact => ({ id, label: id, value, unit, decimals, source: `query for ${id}` });

interface Shape {
  joinedDays?: number;
  r?: number | null;
  confidence?: number;
  changes?: ChangeFact[];
}

/** Facts shaped like computeFacts' output. */
function makeFacts(shape: Shape = {}): Facts {
  const joined = shape.joinedDays ?? 7;
  const r = shape.r === undefined ? -0.82 : shape.r;
  const confidence = shape.confidence ?? 0.82;
  const changes = shape.changes ?? [];
  const list: Fact[] = [f("window.days", 7, "days", 0), f("window.joined_days", joined, "days", 0)];
  if (joined > 0) {
    list.push(f("hearts.latency_p95_ms", 1234.5, "ms", 1), f("hearts.tokens_per_sec", 52.3, "tokens/s", 1), f("hearts.cost_per_1k", 0.0004, "usd", 4));
    list.push(f("packs.user_latency_ms", 412.7, "ms", 1), f("packs.error_rate_pct", 18.43, "percent", 2), f("packs.abandonment_pct", 12, "percent", 1));
  }
  if (r !== null) list.push(f("correlation.latency_user", r, "coefficient", 2));
  list.push(f("confidence", confidence, "score", 2), f("volume.bench_rows", 49, "count", 0), f("volume.events", 1400, "count", 0), f("volume.sessions", 28, "count", 0));
  list.push(f("changes.regressions", changes.filter((c) => c.kind === "regression").length, "count", 0), f("changes.improvements", changes.filter((c) => c.kind === "improvement").length, "count", 0));
  list.push(f("commits.packs", 1, "count", 0), f("commits.hearts", 1, "count", 0));
  changes.forEach((c, i) => {
    const unit = c.metric === "latency_p95_ms" ? "ms" : "tokens/s";
    list.push(f(`change.${i + 1}.previous`, roundTo(c.previous_mean, 1), unit, 1), f(`change.${i + 1}.current`, roundTo(c.current_mean, 1), unit, 1), f(`change.${i + 1}.change_pct`, roundTo(Math.abs(c.change_pct), 1), "percent", 1));
  });
  const days = Array.from({ length: joined }, (_, d) => ({
    day: `2026-11-${String(8 + d).padStart(2, "0")}`, latency_p95_ms: 1200 + d, tokens_per_sec: 52, cost_per_1k: 0.0004, user_latency_ms: 400 + d, error_rate: 0.18, abandonment_rate: 0.12, sessions: 4, events: 200,
  }));
  const completeness = joined / 7;
  const components = { completeness, correlation: Math.abs(r ?? 0), recency: 1, volume: 1 };
  const limiting = (Object.keys(components) as (keyof typeof components)[]).reduce((a, b) => (components[b] < components[a] ? b : a));
  return {
    window: { from: "2026-11-08T00:00:00.000Z", to: "2026-11-15T00:00:00.000Z", days: 7 },
    generated_at: "2026-11-15T00:00:00.000Z",
    facts: list,
    confidence: { value: confidence, ...components, limiting },
    correlation: r,
    daily: days,
    changes,
    commits: {
      hearts: [{ sha: HEARTS_SHA, ts: "2026-11-10T09:30:00.000Z", message: "Bump int8 kernels to v2, 3 fixes for 500 errors\n\nlonger body 77" }],
      packs: [{ sha: PACKS_SHA, ts: "2026-11-12T14:05:00.000Z", message: "overlay: faster first paint", files_changed: 3, additions: 40, deletions: 2 }],
    },
    hearts_commits_used: [HEARTS_SHA],
    models: ["llama-3.1-8b", "mistral-7b"],
    volume: { bench_rows: 49, events: 1400, sessions: 28 },
    missing: [],
  };
}

const FACTS = makeFacts();
const claim = (fact_id: string, value: number, unit = "x"): DraftClaim => ({ fact_id, value, unit });
const ALL_CLAIMS = FACTS.facts.map((x) => claim(x.id, x.value, x.unit));
const check = (text: string, claims: DraftClaim[] = ALL_CLAIMS) => verifyProse([{ where: "body", text }], claims, truthContext(FACTS));
const stated = (text: string) => extractNumbers(text, truthContext(FACTS)).numbers.map((n) => n.text);

describe("the truth rule: what counts as a stated number", () => {
  it("reads thousands separators, signs, percent, dollars, glued units, ranges and ordinals", () => {
    expect(stated("p95 was 1,234.5 ms (r = -0.82, or −0.82), errors 18.43% and 12 %, cost $0.0004, 130ms, 7-day window, 3-5 runs, the 2nd day.")).toEqual([
      "1,234.5", "-0.82", "-0.82", "18.43%", "12%", "$0.0004", "130", "7", "3", "5", "2",
    ]);
  });

  it("ignores identifiers: tokens whose letters are attached to the digits", () => {
    expect(stated("p95 of llama-3.1-8b int8 vs mistral-7b fp16, gpt-4o, qwen2.5-7b, phi-3-mini on an H100 with v0.3 and the 8b model")).toEqual([]);
  });

  it("ignores code, links, URLs, UUIDs, commit shas, list markers and verbatim commit subjects", () => {
    const text = [
      "1. Run `bench --n 99` and see https://example.com/runs/123?x=4 or [the report](https://example.com/r/456).",
      `2. Commit \`1234567\` and 1234567 and ${PACKS_SHA}, run ${RUN_ID}, fixing #482.`,
      "3. Banterhearts said: Bump int8 kernels to v2, 3 fixes for 500 errors",
      "```\nlatency = 777\n```",
    ].join("\n");
    expect(stated(text)).toEqual([]);
    expect(check(text).problems).toEqual([]);
  });

  it("accepts dates and times of the window and the commits, and flags others", () => {
    expect(check("From 2026-11-08 to 2026-11-15; a commit on 2026-11-10 at 09:30 UTC, 2026-11-12T14:05:00Z.").problems).toEqual([]);
    const result = check("Back on 2025-01-01 and at 23:59 nothing happened.");
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toMatch(/date "2025-01-01" is neither in the window/);
    expect(result.problems[1]).toMatch(/time "23:59"/);
  });

  it("rejects abbreviations, but not the cost fact's unit", () => {
    expect(check("About 1.2k events.").problems[0]).toMatch(/"1.2k" is abbreviated/);
    expect(check("It costs $0.0004 per 1k tokens.").problems).toEqual([]);
  });
});

describe("the truth rule: rounding, units and claims", () => {
  it("accepts a fact stated with its decimals or fewer, and trailing zeros", () => {
    for (const text of ["18.43", "18.4", "18", "18.430", "18.43%", "18.4 %", "1,234.5 ms", "1234.5", "1,235", "-0.82", "-0.8", "$0.0004", "0.0004", "52.3 tokens/s"]) {
      expect(check(`Value ${text}.`).problems, text).toEqual([]);
    }
  });

  it("rejects a number that is not a fact at its stated rounding", () => {
    for (const text of ["18.44", "18.431", "42 ms", "0.83", "1,234.6", "1,234", "19"]) {
      const result = check(`Value ${text} here.`);
      expect(result.ok, text).toBe(false);
      expect(result.problems[0], text).toMatch(/is not a computed fact/);
    }
  });

  it("keeps the sign: a negative fact stated positive is not that fact", () => {
    const r = [claim("correlation.latency_user", -0.82)];
    expect(check("r = -0.82", r).ok).toBe(true);
    expect(check("r = 0.82", r).problems[0]).toMatch(/"0.82" states confidence = 0.82 but no claim covers it/);
  });

  it("ties % to percent facts and $ to usd facts", () => {
    expect(check("confidence 0.82%").problems[0]).toMatch(/not a computed fact \(a percent fact\)/);
    expect(check("errors $18.43").problems[0]).toMatch(/a usd fact/);
  });

  it("reports a stated fact without a claim, naming the fact", () => {
    const result = check("p95 latency was 1,234.5 ms.", [claim("packs.error_rate_pct", 18.43)]);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.stringMatching(/"1,234.5" states hearts.latency_p95_ms = 1234.5 but no claim covers it/)]);
  });

  it("reports claims with wrong values or unknown fact ids, and they cover nothing", () => {
    const result = check("p95 latency was 1,234.5 ms.", [claim("hearts.latency_p95_ms", 1300), claim("hearts.latency_p99_ms", 1500)]);
    expect(result.problems).toEqual([
      "claims: hearts.latency_p95_ms is claimed as 1300 but the fact is 1234.5",
      'claims: "hearts.latency_p99_ms" is not a fact id (claimed value 1500); use an id from the fact list',
      expect.stringMatching(/no claim covers it/),
    ]);
  });

  it("accepts a claim value at the fact's rounding and resolves the used claims with their sources", () => {
    const result = check("Errors 18.4%, p95 1,234.5 ms.", [claim("packs.error_rate_pct", 18.430001), claim("hearts.latency_p95_ms", 1234.5), claim("confidence", 0.82)]);
    expect(result.ok).toBe(true);
    expect(result.claims).toEqual([
      { id: "packs.error_rate_pct", value: 18.43, unit: "percent", source: "query for packs.error_rate_pct" },
      { id: "hearts.latency_p95_ms", value: 1234.5, unit: "ms", source: "query for hearts.latency_p95_ms" },
    ]);
  });

  it("rounds half away from zero without binary artefacts", () => {
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(-0.825, 2)).toBe(-0.83);
    expect(roundTo(1234.5, 0)).toBe(1235);
  });
});

const regression: ChangeFact = { model: "llama-3.1-8b", quant: "int8", metric: "latency_p95_ms", kind: "regression", previous_mean: 100, current_mean: 130, change_pct: 30, p_value: 0.0001, n_previous: 21, n_current: 21 };
const improvement: ChangeFact = { model: "mistral-7b", quant: "fp16", metric: "tokens_per_sec", kind: "improvement", previous_mean: 50.04, current_mean: 61.27, change_pct: 22.44, p_value: 0.01, n_previous: 21, n_current: 21 };

const SHAPES: Record<string, Facts> = {
  "no changes": makeFacts(),
  "regressions and improvements": makeFacts({ changes: [regression, improvement] }),
  "weak correlation": makeFacts({ r: 0.21, confidence: 0.21 }),
  "missing days": makeFacts({ joinedDays: 3, confidence: 0.43 }),
  "no joined day at all": makeFacts({ joinedDays: 0, r: null, confidence: 0 }),
  "a single regression": makeFacts({ changes: [regression], r: 1 }),
};

describe("the offline writer", () => {
  for (const [name, facts] of Object.entries(SHAPES)) {
    for (const series of ["chimera", "banterpacks"] as const) {
      it(`passes its own verification (${name}, ${series})`, () => {
        const draft = writeOffline(facts, { series, titleRules: { maxLength: 80 } });
        expect(draftFormProblems(draft, { maxLength: 80 })).toEqual([]);
        const verification = verifyDraft(draft, facts);
        expect(verification.problems).toEqual([]);
        expect(verification.claims.length).toBeGreaterThan(3);

        // Composed with the links and (below the threshold) the notice, it still passes, and renders.
        const content = composeEpisode(draft, facts, { runId: RUN_ID, publishThreshold: 0.6, links: { hearts: "acme/banterhearts" } });
        const composed = verifyContent(content, facts);
        expect(composed.problems).toEqual([]);
        expect(content.sections[0].heading === "Data quality notice").toBe(facts.confidence.value < 0.6);
        const fm = buildFrontMatter(facts, content, composed.claims, { series, episode: 0, lang: "en", date: new Date("2026-11-15T00:00:00Z"), runId: RUN_ID, writer: { kind: "offline" } });
        const parsed = parseEpisodeFile(renderEpisode(fm, content.sections));
        expect(parsed.frontMatter).toEqual(fm);
        expect(parsed.sections).toEqual(content.sections);
      });
    }
  }

  it("states the regression with its facts and claims each number", () => {
    const facts = SHAPES["regressions and improvements"];
    const draft = writeOffline(facts, { series: "chimera", titleRules: { maxLength: 80 } });
    expect(draft.title).toBe("Chimera: p95 latency regression in llama-3.1-8b int8");
    expect(draft.sections.what_changed).toContain("p95 latency rose from 100.0 ms to 130.0 ms, a change of 30.0% against the previous window");
    expect(draft.sections.what_changed).toContain("throughput rose from 50.0 tokens/s to 61.3 tokens/s, a change of 22.4%");
    expect(draft.claims.map((c) => c.fact_id)).toEqual(expect.arrayContaining(["change.1.previous", "change.1.current", "change.1.change_pct", "change.2.change_pct"]));
  });

  it("keeps titles within the configured length", () => {
    const draft = writeOffline(SHAPES["regressions and improvements"], { series: "chimera", titleRules: { maxLength: 30 } });
    expect(draft.title.length).toBeLessThanOrEqual(30);
  });

  it("formats facts at their decimals with their unit", () => {
    expect(formatFact({ value: 1234.5, decimals: 1, unit: "ms" })).toBe("1,234.5 ms");
    expect(formatFact({ value: 0.0004, decimals: 4, unit: "usd" })).toBe("$0.0004");
    expect(formatFact({ value: 12, decimals: 1, unit: "percent" })).toBe("12.0%");
    expect(formatFact({ value: -0.82, decimals: 2, unit: "coefficient" })).toBe("-0.82");
  });
});

describe("the data quality notice", () => {
  it("says what is missing with facts only, and only below the threshold", () => {
    expect(dataQualityNotice(SHAPES["no changes"], 0.6)).toBeUndefined();
    const notice = dataQualityNotice(SHAPES["missing days"], 0.6)!;
    expect(notice.section.markdown).toContain("The confidence score is 0.43, below the publish threshold");
    expect(notice.section.markdown).toContain("only 3 of 7 days have data from both Banterhearts and Banterpacks");
    expect(notice.section.markdown).toContain("here completeness limits it");
    expect(notice.claims.map((c) => c.fact_id).sort()).toEqual(["confidence", "window.days", "window.joined_days"]);
  });
});
