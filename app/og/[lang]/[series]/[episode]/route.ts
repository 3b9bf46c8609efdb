import { findEpisode, loadContent, resolveEpisode } from "@/lib/content/episodes";
import { episodeStaticParams, type EpisodeRouteParams } from "@/lib/site/episode-params";
import { isLang } from "@/lib/site/i18n";
import { seriesName } from "@/lib/site/episode-metrics";
import { isOgSafe, ogImage } from "@/lib/site/og";
import { parseEpisodeSlug } from "@/lib/site/paths";

/**
 * The Open Graph image of an episode page (PNG, 1200×630), linked from its
 * og:image/twitter:image: /og/<lang>/<series>/ep-NNN. A route handler because
 * the episode page is one (a metadata `opengraph-image` file only attaches to
 * App Router pages). Static like the page, refreshed with it.
 */

export const dynamic = "force-static";
/** Only the episodes of generateStaticParams: any other path is a 404, never rendered or cached (about 32 KB a PNG). */
export const dynamicParams = false;

export async function generateStaticParams(): Promise<EpisodeRouteParams[]> {
  return episodeStaticParams();
}

export async function GET(_request: Request, { params }: { params: Promise<EpisodeRouteParams> }): Promise<Response> {
  const { lang, series, episode: slug } = await params;
  const n = parseEpisodeSlug(slug);
  const episode = n === undefined ? undefined : findEpisode(await loadContent(), series, n);
  // Unreachable through Next (dynamicParams = false), but never an image for an unknown episode.
  if (!episode || !isLang(lang))
    return new Response("Not found\n", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" } });
  const title = resolveEpisode(episode, lang).variant.frontMatter.title;
  return ogImage({
    eyebrow: `${seriesName(episode.series)} - Episode ${episode.episode}`,
    title: isOgSafe(title) ? title : episode.original.frontMatter.title,
    footer: `Banterblogs - ${episode.date.slice(0, 10)}`,
    sample: episode.sample,
  });
}
