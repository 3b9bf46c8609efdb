import { findEpisode, loadContent, resolveEpisode } from "@/lib/content/episodes";
import { isLang } from "@/lib/site/i18n";
import { seriesName } from "@/lib/site/metrics";
import { isOgSafe, OG_SIZE, ogImage } from "@/lib/site/og";
import { parseEpisodeSlug } from "@/lib/site/paths";

export const alt = "Banterblogs episode";
export const size = OG_SIZE;
export const contentType = "image/png";

export default async function Image({ params }: { params: Promise<{ lang: string; series: string; episode: string }> }) {
  const { lang, series, episode: slug } = await params;
  const n = parseEpisodeSlug(slug);
  const episode = n === undefined ? undefined : findEpisode(await loadContent(), series, n);
  if (!episode || !isLang(lang)) return ogImage({ eyebrow: "Banterblogs", title: "Banterblogs", footer: "Episode not found" });
  const title = resolveEpisode(episode, lang).variant.frontMatter.title;
  return ogImage({
    eyebrow: `${seriesName(episode.series)} - Episode ${episode.episode}`,
    title: isOgSafe(title) ? title : episode.original.frontMatter.title,
    footer: `Banterblogs - ${episode.date.slice(0, 10)}`,
    sample: episode.sample,
  });
}
