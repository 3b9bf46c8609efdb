import type { IndexItem } from "@/lib/site/list";

/**
 * A list of episode cards. Plain markup without hooks, so it renders on the
 * server (series and tag pages) and inside the client-side episode browser.
 */
export interface EpisodeListLabels {
  episode: string; // "Episode {n}"
  sampleData: string;
  originalLanguage: string;
  seriesNames: Record<string, string>;
  dates: Record<string, string>; // item id → formatted date
  tags: string;
  /** `/en/tags/` */
  tagBase: string;
}

export function EpisodeList({ items, labels, headingLevel = 2 }: { items: IndexItem[]; labels: EpisodeListLabels; headingLevel?: 2 | 3 }) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <ol className="episode-list">
      {items.map((item) => (
        <li key={item.id} className="episode-card">
          <article>
            <p className="eyebrow">
              <span>{labels.seriesNames[item.series] ?? item.series}</span> · <span>{labels.episode.replace("{n}", String(item.episode))}</span> ·{" "}
              <time dateTime={item.date}>{labels.dates[item.id] ?? item.date.slice(0, 10)}</time>
              {item.sample ? (
                <>
                  {" "}
                  <span className="badge badge-sample">{labels.sampleData}</span>
                </>
              ) : null}
              {item.fallback ? (
                <>
                  {" "}
                  <span className="badge">{labels.originalLanguage}</span>
                </>
              ) : null}
            </p>
            <Heading className="card-title" lang={item.fallback ? item.contentLang : undefined}>
              <a href={item.href}>{item.title}</a>
            </Heading>
            <p className="summary" lang={item.fallback ? item.contentLang : undefined}>
              {item.summary}
            </p>
            {item.tags.length > 0 ? (
              <ul className="tags" aria-label={labels.tags}>
                {item.tags.map((t) => (
                  <li key={t}>
                    <a href={`${labels.tagBase}${encodeURIComponent(t)}`}>{t}</a>
                  </li>
                ))}
              </ul>
            ) : null}
          </article>
        </li>
      ))}
    </ol>
  );
}
