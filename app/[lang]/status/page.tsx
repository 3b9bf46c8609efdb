import type { Metadata } from "next";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { BarChart } from "@/components/charts/BarChart";
import { LineChart } from "@/components/charts/LineChart";
import { SiteHeader } from "@/components/SiteHeader";
import { getReaderDb } from "@/lib/clickhouse";
import { formatDateTime, formatDuration, formatNumber, formatUsd } from "@/lib/site/format";
import { isLang, uiStrings, type Lang } from "@/lib/site/i18n";
import { languageAlternates, paths, feedAlternate } from "@/lib/site/paths";
import { formatFact } from "@/lib/episode/fact";
import { formatPct, formatPctInterval, formatShapedSize, shortSha } from "@/lib/site/events";
import {
  BENCH_REQUEST_DAYS,
  BENCH_REQUESTS_LIMIT,
  OPEN_REGRESSIONS_LIMIT,
  eventPlace,
  windowDays,
  type EventPlace,
  type OpenRegressionRow,
  type Section,
  type StatusReport,
} from "@/lib/site/status";
import { loadStatus } from "@/lib/site/status.server";

/**
 * Pipeline status, read from ClickHouse at most once a minute per language:
 * the page is static and regenerated in the background once `revalidate`
 * seconds have passed, so a hit costs ClickHouse no query. When ClickHouse is
 * unreachable or a table is missing the page says so (200, not an error
 * page). Agent runs' error texts are not shown here (they are for
 * maintainers: GET /api/runs, admin token). The operational labels are in
 * English.
 */

export const revalidate = 60;

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  if (!isLang(lang)) return {};
  return {
    title: uiStrings(lang).status,
    robots: { index: false },
    alternates: { types: feedAlternate(lang), canonical: paths.status(lang), languages: languageAlternates("/status") },
  };
}

async function report(): Promise<StatusReport | { failed: true }> {
  try {
    return await loadStatus(getReaderDb());
  } catch {
    // e.g. an invalid ClickHouse configuration: still a page, never a 500
    return { failed: true };
  }
}

function statusClass(status: string): string {
  if (status === "ok" || status === "valid" || status === "published") return "status-ok";
  if (status === "error" || status === "rejected") return "status-bad";
  return "status-warn";
}

function SectionBlock<T>({
  id,
  title,
  section,
  children,
  empty = "No rows in this window.",
}: {
  id: string;
  title: string;
  section: Section<T>;
  children: (rows: T[]) => ReactNode;
  empty?: string;
}) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {section.ok ? (
        section.rows.length === 0 ? (
          <p className="muted">{empty}</p>
        ) : (
          children(section.rows)
        )
      ) : (
        <p className="notice" role="note">
          {section.notice}
        </p>
      )}
    </section>
  );
}

/** A part of a section with its own query: its own heading, notice or empty text. */
function SubBlock<T>({
  id,
  title,
  section,
  children,
  empty,
}: {
  id: string;
  title: string;
  section: Section<T>;
  children: (rows: T[]) => ReactNode;
  empty: string;
}) {
  return (
    <>
      <h3 id={id}>{title}</h3>
      {section.ok ? (
        section.rows.length === 0 ? (
          <p className="muted">{empty}</p>
        ) : (
          children(section.rows)
        )
      ) : (
        <p className="notice" role="note">
          {section.notice}
        </p>
      )}
    </>
  );
}

const n0 = (v: number | null | undefined) => formatNumber(v, 0);

/** An event's commit, or its range with the code commits in it and how far bisection got. */
function Place({ e }: { e: EventPlace }) {
  const p = eventPlace(e);
  const note = p.note ? `, ${p.note}` : "";
  if ("commit" in p) {
    return (
      <>
        <code>{shortSha(p.commit)}</code>
        {p.note ? ` ${p.note}` : ""}
      </>
    );
  }
  if (p.from === "") {
    return (
      <>
        before <code title={p.to}>{shortSha(p.to)}</code>
        {note}
      </>
    );
  }
  return (
    <>
      <code title={`${p.from}…${p.to}`}>{shortSha(p.from)}</code>…<code>{shortSha(p.to)}</code>
      {note}
    </>
  );
}

/**
 * What kind of change an event is (docs/change-points.md): a step of the level, a drift (per run) or a change in spread
 * (noise after / before), in the page's language (lib/site/i18n.ts; the rest of this operator page is English).
 */
const shapeText = (shape: OpenRegressionRow["shape"], lang: Lang) => uiStrings(lang).changeEvents.shapes[shape];

/** Open, or partly fixed with how much was recovered and its 95 % interval. */
function stateText(x: OpenRegressionRow, lang: Lang): string {
  if (x.state !== "partly_fixed" || x.recovered_pct === null) return x.state === "partly_fixed" ? "partly fixed" : "open";
  const pct = (v: number) => formatFact({ value: v, unit: "percent", decimals: 0 }, lang);
  const interval = x.recovered_ci_low !== null && x.recovered_ci_high !== null ? ` [${pct(x.recovered_ci_low)}, ${pct(x.recovered_ci_high)}]` : "";
  return `partly fixed: recovered ${pct(x.recovered_pct)}${interval}`;
}

/**
 * An accuracy event's standing against its gate (docs/quality.md) and, for a trade-off, its speed side: "below its
 * 99 % accuracy gate: 98.0 % of fp16 · trade-off: 20 % faster".
 */
function QualityNote({ x, lang }: { x: OpenRegressionRow; lang: Lang }) {
  if (!x.gate && x.tradeoff_latency_pct === null) return null;
  const pct = (v: number) => formatFact({ value: v, unit: "percent", decimals: 1 }, lang);
  return (
    <>
      {x.gate ? (
        <span className={`quality-note ${x.gate.breached ? "status-bad" : "muted"}`} data-gate={x.gate.breached ? "breached" : "held"}>
          {x.label}: {x.gate.breached ? "below" : x.gate.ratio_after >= x.gate.fraction ? "within" : "still below"} its {pct(x.gate.fraction * 100)} accuracy
          gate: {pct(x.gate.ratio_after * 100)} of <code>{x.gate.baseline}</code>
        </span>
      ) : null}
      {x.tradeoff_latency_pct !== null ? (
        <span className="quality-note muted" data-tradeoff="">
          {x.gate ? " · " : `${x.label}: `}trade-off: {pct(Math.abs(x.tradeoff_latency_pct))} {x.tradeoff_latency_pct < 0 ? "faster" : "slower"}
        </span>
      ) : null}
    </>
  );
}

function requestStatusClass(status: string): string {
  if (status === "done") return "status-ok";
  if (status === "cannot_run" || status === "expired") return "status-bad";
  return "status-warn";
}

export default async function StatusPage({ params }: Props) {
  const { lang } = await params;
  if (!isLang(lang)) notFound();
  const s = uiStrings(lang);
  const r = await report();
  return (
    <>
      <SiteHeader lang={lang} path="/status" section="status" />
      <main id="main" tabIndex={-1} lang="en">
        <h1>{s.status}</h1>
        {"failed" in r ? (
          <p className="notice" role="status">
            Live status is not available: ClickHouse could not be queried.
          </p>
        ) : (
          <StatusBody r={r} lang={lang} />
        )}
      </main>
    </>
  );
}

function StatusBody({ r, lang }: { r: StatusReport; lang: Lang }) {
  return (
    <>
      <p className="muted">
        Generated {formatDateTime(r.generatedAt, lang)} · last {r.days} days ·{" "}
        {r.clickhouse.reachable ? <span className="status-ok">ClickHouse reachable</span> : <span className="status-bad">ClickHouse unreachable</span>}
      </p>
      {!r.clickhouse.reachable ? (
        <p className="notice" role="status">
          {r.clickhouse.notice}
        </p>
      ) : (
        <Sections r={r} lang={lang} />
      )}
    </>
  );
}

function Sections({ r, lang }: { r: StatusReport; lang: Lang }) {
  const days = windowDays(r);
  const fill = <T extends { day: string }>(rows: T[], pick: (row: T) => number | null) => {
    const byDay = new Map(rows.map((row) => [row.day, row]));
    return days.map((d) => {
      const row = byDay.get(d);
      return row ? pick(row) : 0;
    });
  };
  const common = { tableLabel: "Data table", dayLabel: "Day" };
  return (
    <>
      <SectionBlock id="freshness" title="Data freshness" section={r.freshness}>
        {(rows) => (
          <>
            {r.watcher.ok && r.watcher.rows[0] ? (
              <p>
                Latest watcher run: <span className={statusClass(r.watcher.rows[0].status)}>{r.watcher.rows[0].status}</span> at{" "}
                {formatDateTime(r.watcher.rows[0].ts, lang)}, lag {formatDuration(r.watcher.rows[0].lag_seconds)}
                {r.watcher.rows[0].reasons.length > 0 ? ` — ${r.watcher.rows[0].reasons.join("; ")}` : ""}
              </p>
            ) : (
              <p className="muted">{r.watcher.ok ? "The watcher has not run yet." : r.watcher.notice}</p>
            )}
            <div className="table-scroll">
              <table>
                <caption>Newest data per source, and the lag the latest watcher run measured</caption>
                <thead>
                  <tr>
                    <th scope="col">source</th>
                    <th scope="col">newest data</th>
                    <th scope="col" className="num">
                      age
                    </th>
                    <th scope="col" className="num">
                      watcher lag
                    </th>
                    <th scope="col" className="num">
                      rows found
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((f) => (
                    <tr key={f.source}>
                      <th scope="row">{f.source}</th>
                      <td>{f.newest_data ? formatDateTime(f.newest_data, lang) : "no data"}</td>
                      <td className="num">{formatDuration(f.age_seconds)}</td>
                      <td className="num">{formatDuration(f.watcher_lag_seconds)}</td>
                      <td className="num">{n0(f.watcher_rows_found)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </SectionBlock>

      <SectionBlock id="watcher" title="Recent watcher runs" section={r.watcher}>
        {(rows) => (
          <div className="table-scroll">
            <table>
              <caption>Watcher runs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">time</th>
                  <th scope="col">status</th>
                  <th scope="col" className="num">
                    lag
                  </th>
                  <th scope="col" className="num">
                    hearts lag
                  </th>
                  <th scope="col" className="num">
                    packs lag
                  </th>
                  <th scope="col">reasons</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((w) => (
                  <tr key={w.ts}>
                    <th scope="row">{formatDateTime(w.ts, lang)}</th>
                    <td className={statusClass(w.status)}>{w.status}</td>
                    <td className="num">{formatDuration(w.lag_seconds)}</td>
                    <td className="num">{formatDuration(w.hearts_lag_seconds)}</td>
                    <td className="num">{formatDuration(w.packs_lag_seconds)}</td>
                    <td>{w.reasons.join("; ") || "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </SectionBlock>

      <SectionBlock id="agents" title="Agent runs" section={r.agentOutcomes}>
        {(rows) => (
          <div className="table-scroll">
            <table>
              <caption>Outcomes per agent in the window</caption>
              <thead>
                <tr>
                  <th scope="col">agent</th>
                  <th scope="col" className="num">
                    ok
                  </th>
                  <th scope="col" className="num">
                    skipped
                  </th>
                  <th scope="col" className="num">
                    blocked
                  </th>
                  <th scope="col" className="num">
                    error
                  </th>
                  <th scope="col" className="num">
                    running
                  </th>
                  <th scope="col">last started</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.agent}>
                    <th scope="row">{a.agent}</th>
                    <td className="num">{n0(a.ok)}</td>
                    <td className="num">{n0(a.skipped)}</td>
                    <td className="num">{n0(a.blocked)}</td>
                    <td className={`num${a.error > 0 ? " status-bad" : ""}`}>{n0(a.error)}</td>
                    <td className="num">{n0(a.running)}</td>
                    <td>{formatDateTime(a.last_started, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </SectionBlock>

      <SectionBlock id="recent-runs" title="Recent agent runs" section={r.agentRuns}>
        {(rows) => (
          <div className="table-scroll">
            <table>
              <caption>The latest agent runs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">started</th>
                  <th scope="col">agent</th>
                  <th scope="col">trigger</th>
                  <th scope="col">outcome</th>
                  <th scope="col" className="num">
                    duration
                  </th>
                  <th scope="col" className="num">
                    attempts
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.run_id}>
                    <th scope="row">{formatDateTime(a.started_at, lang)}</th>
                    <td>{a.agent}</td>
                    <td>{a.trigger}</td>
                    <td className={statusClass(a.status)}>{a.status}</td>
                    <td className="num">{formatNumber(a.duration_ms / 1000, 1)} s</td>
                    <td className="num">{n0(a.attempts)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </SectionBlock>

      <SectionBlock id="episodes" title="Episodes per day" section={r.episodesPerDay}>
        {(rows) => (
          <div className="evidence">
            <BarChart
              id="st-episodes"
              title="Episodes written per day, by outcome"
              description={`Bar chart of English episode drafts per day over ${r.days} days: ${n0(rows.reduce((a, x) => a + x.published, 0))} published, ${n0(rows.reduce((a, x) => a + x.drafts, 0))} drafts, ${n0(rows.reduce((a, x) => a + x.rejected, 0))} rejected.`}
              days={days}
              series={[
                { label: "published", values: fill(rows, (x) => x.published), className: "series-2" },
                { label: "drafts", values: fill(rows, (x) => x.drafts), className: "series-1" },
                { label: "rejected", values: fill(rows, (x) => x.rejected), className: "series-3" },
              ]}
              yLabel="episodes"
              format={n0}
              {...common}
            />
            <LineChart
              id="st-confidence"
              title="Mean confidence of the day's drafts"
              description="Line chart of the mean confidence score of non-rejected drafts per day; days without drafts are gaps."
              days={days}
              series={[{ label: "mean confidence", values: days.map((d) => rows.find((x) => x.day === d)?.avg_confidence ?? null) }]}
              yLabel="confidence"
              format={(v) => formatNumber(v, 2)}
              {...common}
            />
          </div>
        )}
      </SectionBlock>

      <SectionBlock id="llm" title="LLM tokens and cost per day" section={r.llmPerDay}>
        {(rows) => (
          <div className="evidence">
            <BarChart
              id="st-tokens"
              title="LLM tokens per day"
              description={`Bar chart of input and output tokens per day: ${n0(rows.reduce((a, x) => a + x.tokens_in + x.tokens_out, 0))} tokens in ${n0(rows.reduce((a, x) => a + x.calls, 0))} calls.`}
              days={days}
              series={[
                { label: "tokens in", values: fill(rows, (x) => x.tokens_in), className: "series-1" },
                { label: "tokens out", values: fill(rows, (x) => x.tokens_out), className: "series-2" },
              ]}
              yLabel="tokens"
              format={n0}
              {...common}
            />
            <LineChart
              id="st-cost"
              title="LLM cost per day (USD)"
              description={`Line chart of LLM cost per day; the window total is ${formatUsd(rows.reduce((a, x) => a + x.cost_usd, 0))}.`}
              days={days}
              series={[{ label: "cost (USD)", values: fill(rows, (x) => x.cost_usd), className: "series-3" }]}
              yLabel="USD"
              format={(v) => formatUsd(v)}
              zero
              {...common}
            />
          </div>
        )}
      </SectionBlock>

      <SectionBlock id="ingest" title="Ingest volume per day" section={r.ingestPerDay}>
        {(rows) => (
          <div className="evidence">
            <BarChart
              id="st-events"
              title="Banterpacks UI events per day"
              description={`Bar chart of UI events per day (sums of session_stats): ${n0(rows.reduce((a, x) => a + x.events, 0))} events in the window.`}
              days={days}
              series={[{ label: "UI events", values: fill(rows, (x) => x.events), className: "series-2" }]}
              yLabel="events"
              format={n0}
              {...common}
            />
            <BarChart
              id="st-bench"
              title="Banterhearts benchmark rows per day"
              description={`Bar chart of bench_runs rows per day: ${n0(rows.reduce((a, x) => a + x.bench_rows, 0))} rows from ${n0(rows.reduce((a, x) => a + x.bench_reports, 0))} reports.`}
              days={days}
              series={[{ label: "benchmark rows", values: fill(rows, (x) => x.bench_rows), className: "series-1" }]}
              yLabel="rows"
              format={n0}
              {...common}
            />
          </div>
        )}
      </SectionBlock>

      <SectionBlock id="open-regressions" title="Open regressions" section={r.openRegressions} empty="No open regressions: every regression found is fixed.">
        {(rows) => (
          <div className="table-scroll">
            <table className="wide with-kind">
              <caption>
                Benchmark regression events no later commit has fully fixed (bench_events: open or partly fixed), newest commit first: steps by their change,
                drifts by their slope per run, spread changes by their noise after / before
                {rows.length >= OPEN_REGRESSIONS_LIMIT ? `; the first ${OPEN_REGRESSIONS_LIMIT}` : ""}
              </caption>
              <thead>
                <tr>
                  <th scope="col">commit</th>
                  <th scope="col">lead series</th>
                  <th scope="col">metric</th>
                  <th scope="col">kind</th>
                  <th scope="col" className="num">
                    change
                  </th>
                  <th scope="col" className="num">
                    95 % interval
                  </th>
                  <th scope="col">state</th>
                  <th scope="col">first detected</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((x) => [
                  <tr key={x.event_id} data-event={x.event_id}>
                    <th scope="row">
                      <Place e={x} />
                    </th>
                    <td>
                      {x.label}
                      {x.series_changed > 1 ? <span className="muted"> (and {n0(x.series_changed - 1)} more series)</span> : null}
                    </td>
                    <td>
                      <code>{x.metric}</code>
                    </td>
                    <td lang={lang}>{shapeText(x.shape, lang)}</td>
                    <td className="num status-bad">{formatShapedSize(x, lang).size}</td>
                    <td className="num">{formatShapedSize(x, lang).interval}</td>
                    <td className={x.state === "partly_fixed" ? "status-warn" : "status-bad"}>
                      {stateText(x, lang)}
                      {x.returns_of ? <span className="muted"> (came back after a fix)</span> : null}
                    </td>
                    <td>{formatDateTime(x.first_detected_at, lang)}</td>
                  </tr>,
                  // The gate and the trade-off on a full-width row of their own: in the lead-series cell they made it
                  // too narrow to read on a phone.
                  x.gate || x.tradeoff_latency_pct !== null ? (
                    <tr key={`${x.event_id}-quality`} data-quality={x.event_id}>
                      <td colSpan={8}>
                        <QualityNote x={x} lang={lang} />
                      </td>
                    </tr>
                  ) : null,
                ])}
              </tbody>
            </table>
          </div>
        )}
      </SectionBlock>

      <section aria-labelledby="bisection">
        <h2 id="bisection">Bisection</h2>
        <p className="muted">
          When a change falls between two nightly runs with several code commits in between, Muse asks benchmark runners for extra runs inside the range until
          one commit is left.
        </p>
        <SubBlock id="bisection-events" title="Events being bisected" section={r.bisecting} empty="No event is being bisected.">
          {(rows) => (
            <div className="table-scroll">
              <table className="wide">
                <caption>Events whose range of code commits bisection is still narrowing (bench_events), oldest commit first</caption>
                <thead>
                  <tr>
                    <th scope="col">range</th>
                    <th scope="col">lead series</th>
                    <th scope="col">metric</th>
                    <th scope="col" className="num">
                      change
                    </th>
                    <th scope="col" className="num">
                      extra runs
                    </th>
                    <th scope="col">first detected</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((x) => (
                    <tr key={x.event_id} data-event={x.event_id}>
                      <th scope="row">
                        <Place e={x} />
                        {x.bisection_note ? <span className="muted"> — {x.bisection_note}</span> : null}
                      </th>
                      <td>{x.label}</td>
                      <td>
                        <code>{x.metric}</code>
                      </td>
                      <td className={`num ${x.kind === "regression" ? "status-bad" : "status-ok"}`}>{formatPct(x.change_pct, lang)}</td>
                      <td className="num">{n0(x.bisection_extra_runs)}</td>
                      <td>{formatDateTime(x.first_detected_at, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </SubBlock>
        <SubBlock
          id="bench-requests"
          title="Benchmark requests"
          section={r.benchRequests}
          empty={`No benchmark runs were requested in the last ${BENCH_REQUEST_DAYS} days.`}
        >
          {(rows) => (
            <div className="table-scroll">
              <table className="wide">
                <caption>
                  Runs bisection asked for in the last {BENCH_REQUEST_DAYS} days (bench_requests), newest first
                  {rows.length >= BENCH_REQUESTS_LIMIT ? `; the newest ${BENCH_REQUESTS_LIMIT}` : ""}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">commit</th>
                    <th scope="col">benchmark</th>
                    <th scope="col" className="num">
                      repeats
                    </th>
                    <th scope="col">status</th>
                    <th scope="col">requested</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((q) => (
                    <tr key={q.request_id} data-request={q.request_id}>
                      <th scope="row">
                        <code>{shortSha(q.commit_sha)}</code>
                      </th>
                      <td>{q.benchmark}</td>
                      <td className="num">{n0(q.repeats)}</td>
                      <td className={requestStatusClass(q.status)}>{q.status.replace("_", " ")}</td>
                      <td>{formatDateTime(q.requested_at, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </SubBlock>
      </section>
    </>
  );
}
