import { applyListQuery, DEFAULT_QUERY, PAGE_SIZE, type IndexItem } from "@/lib/site/list";
import { scriptJson } from "./StaticDocument";
import { EpisodeList, type EpisodeListLabels } from "./EpisodeList";
import { EPISODE_INDEX_SCRIPT } from "./EpisodeIndexScript";

/**
 * The episode index: search, series and tag filters, sort and paging over the
 * JSON list the page embeds, with the state in the URL's search params
 * (?q=&series=&tag=&sort=&page=, history.replaceState/pushState: no server
 * round trip). A plain filter, not a search engine: every word must occur in
 * the title, summary, series, tags or models (lib/site/list.ts).
 *
 * Hook-free and server-rendered: the first page of the default view is plain
 * HTML, and the search is a small island — an inline script of a few kB
 * (EpisodeIndexScript.ts), no framework runtime — that takes over the form,
 * the list and the paging links. Without JavaScript the default view stays.
 */

export interface BrowserStrings {
  search: string;
  searchPlaceholder: string;
  filterSeries: string;
  allSeries: string;
  filterTag: string;
  allTags: string;
  sort: string;
  sortNewest: string;
  sortOldest: string;
  sortConfidence: string;
  resultsOne: string;
  resultsMany: string; // "{n} episodes"
  noResults: string;
  noEpisodes: string;
  pagination: string;
  pageOf: string; // "Page {n} of {of}"
  previousPage: string;
  nextPage: string;
}

export interface BrowserProps {
  items: IndexItem[];
  strings: BrowserStrings;
  labels: EpisodeListLabels;
  series: { value: string; label: string }[];
  tags: string[];
}

const ID = "episodes";

/** What the island needs, embedded as JSON: the items (with their formatted dates), the labels and strings. */
function islandData({ items, strings, labels }: BrowserProps) {
  return {
    pageSize: PAGE_SIZE,
    strings,
    labels: {
      episode: labels.episode,
      sampleData: labels.sampleData,
      originalLanguage: labels.originalLanguage,
      seriesNames: labels.seriesNames,
      tags: labels.tags,
      tagBase: labels.tagBase,
    },
    items: items.map((i) => ({ ...i, dateLabel: labels.dates[i.id] ?? i.date.slice(0, 10) })),
  };
}

export function EpisodeBrowser(props: BrowserProps) {
  const { items, strings, labels, series, tags } = props;
  const result = applyListQuery(items, DEFAULT_QUERY, PAGE_SIZE);
  const count = result.total === 1 ? strings.resultsOne : strings.resultsMany.replace("{n}", String(result.total));
  return (
    <div className="browser" id={ID}>
      <form role="search" className="filters" aria-label={strings.search} action="">
        <div className="field field-search">
          <label htmlFor={`${ID}-q`}>{strings.search}</label>
          <input id={`${ID}-q`} name="q" type="search" placeholder={strings.searchPlaceholder} autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${ID}-series`}>{strings.filterSeries}</label>
          <select id={`${ID}-series`} name="series">
            <option value="">{strings.allSeries}</option>
            {series.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ID}-tag`}>{strings.filterTag}</label>
          <select id={`${ID}-tag`} name="tag">
            <option value="">{strings.allTags}</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ID}-sort`}>{strings.sort}</label>
          <select id={`${ID}-sort`} name="sort">
            <option value="newest">{strings.sortNewest}</option>
            <option value="oldest">{strings.sortOldest}</option>
            <option value="confidence">{strings.sortConfidence}</option>
          </select>
        </div>
      </form>
      <p className="result-count" role="status" aria-live="polite" id={`${ID}-count`}>
        {items.length === 0 ? strings.noEpisodes : result.total === 0 ? strings.noResults : count}
      </p>
      <div id={`${ID}-results`} tabIndex={-1} className="results">
        <EpisodeList items={result.items} labels={labels} />
      </div>
      <nav aria-label={strings.pagination} className="pagination" id={`${ID}-pages`} hidden={result.pages <= 1}>
        <span />
        <span>{strings.pageOf.replace("{n}", "1").replace("{of}", String(result.pages))}</span>
        {result.pages > 1 ? (
          <a rel="next" href="?page=2">
            {strings.nextPage} →
          </a>
        ) : (
          <span />
        )}
      </nav>
      <script type="application/json" id={`${ID}-data`} dangerouslySetInnerHTML={{ __html: scriptJson(islandData(props)) }} />
      <script dangerouslySetInnerHTML={{ __html: EPISODE_INDEX_SCRIPT }} />
    </div>
  );
}
