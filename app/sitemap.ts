import type { MetadataRoute } from "next";
import { loadContent, SERIES, tagCounts } from "@/lib/content/episodes";
import { SITE_LANGS, type Lang } from "@/lib/site/i18n";
import { absoluteUrl, episodeSlug } from "@/lib/site/paths";
import { siteUrl } from "@/lib/site/view";

/**
 * Every reader page in every language, with hreflang alternates. Episode pages
 * are listed only in the languages they exist in (a fallback page shows the
 * English original and is canonicalised to it).
 */
export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  const site = siteUrl();
  const content = await loadContent();
  const newest = content.episodes[0] ? new Date(content.episodes[0].date) : undefined;
  const entries: MetadataRoute.Sitemap = [];
  const add = (rest: string, langs: readonly Lang[], lastModified?: Date, priority?: number) => {
    const languages = Object.fromEntries(langs.map((l) => [l, absoluteUrl(site, `/${l}${rest}`)]));
    for (const l of langs) entries.push({ url: absoluteUrl(site, `/${l}${rest}`), lastModified, priority, alternates: { languages } });
  };
  add("", SITE_LANGS, newest, 1);
  add("/series", SITE_LANGS, newest, 0.5);
  for (const series of SERIES) add(`/series/${series}`, SITE_LANGS, newest, 0.6);
  add("/tags", SITE_LANGS, newest, 0.3);
  for (const { tag } of tagCounts(content)) add(`/tags/${encodeURIComponent(tag)}`, SITE_LANGS, newest, 0.3);
  for (const e of content.episodes) add(`/episodes/${e.series}/${episodeSlug(e.episode)}`, e.langs, new Date(e.date), 0.8);
  return entries;
}
