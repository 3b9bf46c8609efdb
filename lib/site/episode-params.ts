import { loadContent } from "../content/episodes";
import { SITE_LANGS } from "./i18n";

/** Params of the per-episode routes (the page and its Open Graph image). */
export interface EpisodeRouteParams {
  lang: string;
  series: string;
  episode: string;
}

/** Every published episode in every site language (a missing translation shows the English original). */
export async function episodeStaticParams(): Promise<EpisodeRouteParams[]> {
  const { episodes } = await loadContent();
  return episodes.flatMap((e) => SITE_LANGS.map((lang) => ({ lang, series: e.series, episode: e.slug })));
}
