import type { Lang } from "./i18n";
import { episodeSlug } from "./paths";

/** Open Graph image facts the pages link to (the images themselves: lib/site/og.tsx, app/og/...). */

export const OG_SIZE = { width: 1200, height: 630 };

/** The episode's Open Graph image: app/og/[lang]/[series]/[episode]/route.ts. */
export const ogImagePath = (lang: Lang, series: string, episode: number) => `/og/${lang}/${series}/${episodeSlug(episode)}`;
