import type { TocEntry } from "@/lib/content/markdown";
import type { ChangeEvent } from "@/lib/analysis/facts";
import type { EpisodeFrontMatter } from "@/lib/episode/file";
import { CONTENT_ID_PREFIX } from "@/lib/content/markdown";
import { FACT_ANCHOR_PREFIX } from "@/lib/episode/references";
import { episodeEvents, formatEventSize, formatPct, formatPctInterval, formatQ, shortSha, usersFelt } from "@/lib/site/events";
import { formatClaimValue, formatNumber } from "@/lib/site/format";
import type { ChangeEventStrings, Lang } from "@/lib/site/i18n";
import type { MetricRow } from "@/lib/site/episode-metrics";

/** Server-rendered parts of the episode page. */

export function TableOfContents({ entries, label }: { entries: TocEntry[]; label: string }) {
  if (entries.length === 0) return null;
  return (
    <nav className="toc" aria-labelledby="toc-heading">
      <h2 id="toc-heading">{label}</h2>
      <ol>
        {entries.map((e) => (
          <li key={e.id} className={e.depth === 3 ? "toc-sub" : undefined}>
            <a href={`#${e.id}`}>{e.text}</a>
          </li>
        ))}
      </ol>
    </nav>
  );
}

export function MetricsTable({ rows, caption, metricLabel, valueLabel }: { rows: MetricRow[]; caption: string; metricLabel: string; valueLabel: string }) {
  return (
    <div className="table-scroll">
      <table className="metrics">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{metricLabel}</th>
            <th scope="col" className="num">
              {valueLabel}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              <td className="num">{r.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * What changed: the episode's events by commit (new episodes), else the
 * window-vs-window changes of episodes written before change points.
 */
export function ChangesTable({
  metrics,
  lang,
  caption,
  strings,
}: {
  metrics: EpisodeFrontMatter["metrics"];
  lang: Lang;
  caption: string;
  strings: ChangeEventStrings;
}) {
  const events = episodeEvents(metrics);
  if (events.length > 0) return <EventsTable events={events} lang={lang} strings={strings} />;
  return <WindowChangesTable changes={metrics.changes} caption={caption} />;
}

/** One row per event: commit, kind, lead series with its change, interval and q-value, the users' side, the status. */
export function EventsTable({ events, lang, strings: t }: { events: ChangeEvent[]; lang: Lang; strings: ChangeEventStrings }) {
  if (events.length === 0) return null;
  return (
    <div className="table-scroll events-scroll">
      <table className="events">
        <caption>{t.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t.commit}</th>
            <th scope="col">{t.kind}</th>
            <th scope="col">{t.series}</th>
            <th scope="col" className="num">
              {t.change}
            </th>
            <th scope="col" className="num">
              {t.interval}
            </th>
            <th scope="col" className="num">
              {t.qValue}
            </th>
            <th scope="col">{t.usersFelt}</th>
            <th scope="col" className="num">
              {t.userLatency}
            </th>
            <th scope="col">{t.status}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => {
            const felt = usersFelt(e, t);
            const users = e.users && e.users.measurable ? e.users : null;
            return (
              <tr key={`${e.n}-${e.commit_sha}`} data-event={e.n}>
                <th scope="row">
                  <code title={e.subject}>{shortSha(e.commit_sha)}</code>
                </th>
                <td>
                  <span className={`badge badge-${e.kind}`}>{e.kind === "regression" ? t.regression : t.improvement}</span>
                  {/* A drift or a spread change says so: its size is a slope per run or a noise ratio, not a step. */}
                  {e.shape && e.shape !== "step" ? (
                    <small className={`muted event-shape shape-${e.shape}`} data-shape={e.shape}>{` ${t.shapes[e.shape]}`}</small>
                  ) : null}
                </td>
                <td>
                  {e.lead.label}
                  {e.series_changed > 1 ? <small className="muted"> {t.moreSeries(e.series_changed - 1)}</small> : null}
                </td>
                {/* A drift by its slope per run, a spread change by its noise ratio (docs/change-points.md). */}
                <td className="num">{formatEventSize(e, lang).size}</td>
                <td className="num">{formatEventSize(e, lang).interval}</td>
                <td className="num">{formatQ(e.lead.q_value, lang)}</td>
                <td className={`felt felt-${felt.state}`}>{felt.text}</td>
                <td className="num">
                  {users && users.latency_change_pct !== null ? (
                    <>
                      {formatPct(users.latency_change_pct, lang)} <small>{formatPctInterval(users.latency_ci_pct, lang)}</small>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td className={`event-status status-${e.status}`}>
                  {e.status === "open" ? t.open : e.status === "fixed" ? t.fixed : t.kept}
                  {e.status === "fixed" && e.fixed_by_sha ? <small> ({t.fixedBy(shortSha(e.fixed_by_sha))})</small> : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Old episodes: the window-vs-window changes. */
function WindowChangesTable({ changes, caption }: { changes: EpisodeFrontMatter["metrics"]["changes"]; caption: string }) {
  if (changes.length === 0) return null;
  return (
    <div className="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">model</th>
            <th scope="col">quant</th>
            <th scope="col">metric</th>
            <th scope="col">kind</th>
            <th scope="col" className="num">
              previous
            </th>
            <th scope="col" className="num">
              current
            </th>
            <th scope="col" className="num">
              Δ %
            </th>
            <th scope="col" className="num">
              p
            </th>
            <th scope="col" className="num">
              n
            </th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c, i) => (
            <tr key={i}>
              <th scope="row">{c.model}</th>
              <td>{c.quant}</td>
              <td>
                <code>{c.metric}</code>
              </td>
              <td>
                <span className={`badge badge-${c.kind}`}>{c.kind}</span>
              </td>
              <td className="num">{formatNumber(c.previous_mean, 1)}</td>
              <td className="num">{formatNumber(c.current_mean, 1)}</td>
              <td className="num">{formatNumber(c.change_pct, 1)}</td>
              <td className="num">{formatQ(c.p_value, "en")}</td>
              <td className="num">
                {c.n_previous}+{c.n_current}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ClaimsTable({
  claims,
  caption,
  labels,
}: {
  claims: EpisodeFrontMatter["claims"];
  caption: string;
  labels: { claim: string; value: string; source: string };
}) {
  if (claims.length === 0) return null;
  return (
    <div className="table-scroll">
      <table className="claims">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{labels.claim}</th>
            <th scope="col" className="num">
              {labels.value}
            </th>
            <th scope="col">{labels.source}</th>
          </tr>
        </thead>
        <tbody>
          {claims.map((c) => (
            // The row is the target of the body's evidence links ([123.5 ms](#fact-<id>)). The sanitiser
            // (lib/content/markdown.ts) prefixes fragment links as it prefixes ids, so the rendered link is
            // #user-content-fact-<id>: the row's header cell carries that id, and the row shows as targeted.
            <tr key={c.id} id={`${FACT_ANCHOR_PREFIX}${c.id}`}>
              <th scope="row" id={`${CONTENT_ID_PREFIX}${FACT_ANCHOR_PREFIX}${c.id}`}>
                <code>{c.id}</code>
              </th>
              <td className="num">
                <span className="cell-label" aria-hidden="true">
                  {labels.value}
                </span>
                {formatClaimValue(c.value, c.unit)}
              </td>
              <td className="source">
                <span className="cell-label" aria-hidden="true">
                  {labels.source}
                </span>
                {c.source}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function JsonLd({ data }: { data: Record<string, unknown> }) {
  // `<` escaped so a title can never close the script element.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: json }} />;
}
