import type { BrowserStrings } from "@/components/EpisodeBrowser";
import type { EpisodeListLabels } from "@/components/EpisodeList";
import { resolveEpisode, type Episode } from "../content/episodes";
import { loadEnv } from "../env";
import { formatDate } from "./format";
import { SITE_LANGS, uiStrings, type Lang } from "./i18n";
import type { IndexItem } from "./list";
import { SERIES_NAMES } from "./episode-metrics";
import { paths } from "./paths";

/** Server helpers shared by the reader pages, feeds and the episodes API. */

export function siteUrl(): string {
  return loadEnv().MUSE_SITE_URL.replace(/\/+$/, "");
}

export function toIndexItems(episodes: readonly Episode[], lang: Lang): IndexItem[] {
  return episodes.map((e) => {
    const r = resolveEpisode(e, lang);
    const fm = r.variant.frontMatter;
    return {
      id: e.id,
      series: e.series,
      episode: e.episode,
      title: fm.title,
      summary: fm.summary,
      date: e.date,
      href: paths.episode(lang, e.series, e.episode),
      tags: e.tags,
      models: e.original.frontMatter.models,
      sample: e.sample,
      fallback: r.fallback,
      contentLang: r.contentLang,
      confidence: e.original.frontMatter.metrics.confidence.value,
    };
  });
}

export function listLabels(lang: Lang, items: readonly IndexItem[]): EpisodeListLabels {
  const s = uiStrings(lang);
  return {
    episode: s.episode(999_999).replace("999999", "{n}"),
    sampleData: s.sampleData,
    originalLanguage: s.originalLanguage,
    seriesNames: SERIES_NAMES,
    dates: Object.fromEntries(items.map((i) => [i.id, formatDate(i.date, lang)])),
    tags: s.tags,
    tagBase: `/${lang}/tags/`,
  };
}

export function browserStrings(lang: Lang): BrowserStrings {
  const s = uiStrings(lang);
  return {
    search: s.search,
    searchPlaceholder: s.searchPlaceholder,
    filterSeries: s.filterSeries,
    allSeries: s.allSeries,
    filterTag: s.filterTag,
    allTags: s.allTags,
    sort: s.sort,
    sortNewest: s.sortNewest,
    sortOldest: s.sortOldest,
    sortConfidence: s.sortConfidence,
    resultsOne: s.results(1),
    resultsMany: s.results(999_999).replace("999999", "{n}"),
    noResults: s.noResults,
    noEpisodes: s.noEpisodes,
    pagination: s.pagination,
    pageOf: s.page(999_998, 999_999).replace("999998", "{n}").replace("999999", "{of}"),
    previousPage: s.previousPage,
    nextPage: s.nextPage,
  };
}

export const langParams = () => SITE_LANGS.map((lang) => ({ lang }));
