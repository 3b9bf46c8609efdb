import type { TocEntry } from "@/lib/content/markdown";
import type { EpisodeFrontMatter } from "@/lib/episode/file";
import { formatClaimValue, formatNumber } from "@/lib/site/format";
import type { MetricRow } from "@/lib/site/metrics";

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

export function ChangesTable({ changes, caption }: { changes: EpisodeFrontMatter["metrics"]["changes"]; caption: string }) {
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
              <td className="num">{c.p_value.toPrecision(3)}</td>
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

export function ClaimsTable({ claims, caption, labels }: { claims: EpisodeFrontMatter["claims"]; caption: string; labels: { claim: string; value: string; source: string } }) {
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
            <tr key={c.id}>
              <th scope="row">
                <code>{c.id}</code>
              </th>
              <td className="num">{formatClaimValue(c.value, c.unit)}</td>
              <td className="source">{c.source}</td>
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
