"use client";

import { useSearchParams } from "next/navigation";
import { useId, type ChangeEvent, type MouseEvent } from "react";
import { applyListQuery, DEFAULT_QUERY, listQueryString, parseListQuery, PAGE_SIZE, type IndexItem, type ListQuery } from "@/lib/site/list";
import { EpisodeList, type EpisodeListLabels } from "./EpisodeList";

/**
 * The episode index: search, series and tag filters, sort and paging over the
 * JSON list the page embeds, with the state in the URL's search params
 * (history.replaceState/pushState: no server round trip). A plain filter, not
 * a search engine: every word must occur in the title, summary, series, tags
 * or models.
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

export function EpisodeBrowser(props: BrowserProps) {
  const params = useSearchParams();
  const query = parseListQuery(params);
  const navigate = (next: ListQuery, push = false) => {
    const url = `${window.location.pathname}${listQueryString(next)}`;
    if (push) window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
  };
  return <BrowserView {...props} query={query} navigate={navigate} />;
}

/** The first, server-rendered view (default query) shown until the browser takes over, and without JavaScript. */
export function EpisodeBrowserFallback(props: BrowserProps) {
  return <BrowserView {...props} query={DEFAULT_QUERY} />;
}

function BrowserView({ items, strings, labels, series, tags, query, navigate }: BrowserProps & { query: ListQuery; navigate?: (next: ListQuery, push?: boolean) => void }) {
  const id = useId();
  const result = applyListQuery(items, query, PAGE_SIZE);
  const update = (patch: Partial<ListQuery>) => navigate?.({ ...query, ...patch, page: patch.page ?? 1 });
  const onSelect = (key: "series" | "tag" | "sort") => (e: ChangeEvent<HTMLSelectElement>) => update({ [key]: e.target.value } as Partial<ListQuery>);
  const pageLink = (page: number) => ({
    href: listQueryString({ ...query, page }) || "?",
    onClick: (e: MouseEvent<HTMLAnchorElement>) => {
      if (!navigate || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate({ ...query, page }, true);
      document.getElementById(`${id}-results`)?.focus();
    },
  });
  const count = result.total === 1 ? strings.resultsOne : strings.resultsMany.replace("{n}", String(result.total));
  return (
    <div className="browser">
      <form role="search" className="filters" onSubmit={(e) => e.preventDefault()} aria-label={strings.search}>
        <div className="field field-search">
          <label htmlFor={`${id}-q`}>{strings.search}</label>
          <input
            id={`${id}-q`}
            name="q"
            type="search"
            placeholder={strings.searchPlaceholder}
            value={navigate ? query.q : undefined}
            defaultValue={navigate ? undefined : query.q}
            onChange={(e) => update({ q: e.target.value })}
            autoComplete="off"
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-series`}>{strings.filterSeries}</label>
          <select id={`${id}-series`} name="series" value={query.series} onChange={onSelect("series")}>
            <option value="">{strings.allSeries}</option>
            {series.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-tag`}>{strings.filterTag}</label>
          <select id={`${id}-tag`} name="tag" value={query.tag} onChange={onSelect("tag")}>
            <option value="">{strings.allTags}</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-sort`}>{strings.sort}</label>
          <select id={`${id}-sort`} name="sort" value={query.sort} onChange={onSelect("sort")}>
            <option value="newest">{strings.sortNewest}</option>
            <option value="oldest">{strings.sortOldest}</option>
            <option value="confidence">{strings.sortConfidence}</option>
          </select>
        </div>
        <noscript>
          <button type="submit">{strings.search}</button>
        </noscript>
      </form>
      <p className="result-count" role="status" aria-live="polite">
        {items.length === 0 ? strings.noEpisodes : result.total === 0 ? strings.noResults : count}
      </p>
      <div id={`${id}-results`} tabIndex={-1} className="results">
        <EpisodeList items={result.items} labels={labels} />
      </div>
      {result.pages > 1 ? (
        <nav aria-label={strings.pagination} className="pagination">
          {result.page > 1 ? (
            <a rel="prev" {...pageLink(result.page - 1)}>
              ← {strings.previousPage}
            </a>
          ) : (
            <span />
          )}
          <span>{strings.pageOf.replace("{n}", String(result.page)).replace("{of}", String(result.pages))}</span>
          {result.page < result.pages ? (
            <a rel="next" {...pageLink(result.page + 1)}>
              {strings.nextPage} →
            </a>
          ) : (
            <span />
          )}
        </nav>
      ) : null}
    </div>
  );
}
