import { SITE_LANGS, type Lang } from "./i18n";

/**
 * URLs of the reader pages. Client-safe. Every reader page lives under its
 * language: /en, /de, /zh, /hi; `path` arguments are the part after it.
 */

export const episodeSlug = (episode: number) => `ep-${String(episode).padStart(3, "0")}`;

/** `ep-001` → 1; anything else → undefined. */
export function parseEpisodeSlug(slug: string): number | undefined {
  const match = /^ep-(\d{3,5})$/.exec(slug);
  return match ? Number(match[1]) : undefined;
}

export const paths = {
  home: (lang: Lang) => `/${lang}`,
  episode: (lang: Lang, series: string, episode: number) => `/${lang}/episodes/${series}/${episodeSlug(episode)}`,
  seriesIndex: (lang: Lang) => `/${lang}/series`,
  series: (lang: Lang, series: string) => `/${lang}/series/${series}`,
  tags: (lang: Lang) => `/${lang}/tags`,
  tag: (lang: Lang, tag: string) => `/${lang}/tags/${encodeURIComponent(tag)}`,
  status: (lang: Lang) => `/${lang}/status`,
  rss: (lang: Lang) => `/${lang}/rss.xml`,
};

/** The same page in another language: `/de/episodes/x` → `/zh/episodes/x`. */
export function switchLangPath(path: string, lang: Lang): string {
  const rest = path.replace(/^\/(en|de|zh|hi)(?=\/|$)/, "");
  return `/${lang}${rest === "/" ? "" : rest}`;
}

/** hreflang alternates of a page that exists in every language. */
export function languageAlternates(pathAfterLang: string, langs: readonly Lang[] = SITE_LANGS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of langs) out[l] = `/${l}${pathAfterLang}`;
  out["x-default"] = `/en${pathAfterLang}`;
  return out;
}

export function absoluteUrl(siteUrl: string, path: string): string {
  return `${siteUrl.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

/** The RSS feed link every page's metadata carries (a page's `alternates` replaces the layout's). */
export function feedAlternate(lang: Lang): { "application/rss+xml": { url: string; title: string }[] } {
  return { "application/rss+xml": [{ url: paths.rss(lang), title: `Banterblogs (${lang})` }] };
}
