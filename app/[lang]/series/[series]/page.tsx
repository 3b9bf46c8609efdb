import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { EpisodeList } from "@/components/EpisodeList";
import { SiteHeader } from "@/components/SiteHeader";
import { episodesIn, loadContent, SERIES } from "@/lib/content/episodes";
import { isLang, uiStrings } from "@/lib/site/i18n";
import { seriesName } from "@/lib/site/episode-metrics";
import { languageAlternates, paths, feedAlternate } from "@/lib/site/paths";
import { listLabels, toIndexItems } from "@/lib/site/view";

type Props = { params: Promise<{ lang: string; series: string }> };

export const dynamicParams = false;

export function generateStaticParams() {
  return SERIES.map((series) => ({ series }));
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang, series } = await params;
  if (!isLang(lang)) return {};
  return {
    title: seriesName(series),
    description: uiStrings(lang).seriesDescriptions[series],
    alternates: { types: feedAlternate(lang), canonical: paths.series(lang, series), languages: languageAlternates(`/series/${series}`) },
  };
}

export default async function SeriesPage({ params }: Props) {
  const { lang, series } = await params;
  if (!isLang(lang) || !(SERIES as readonly string[]).includes(series)) notFound();
  const s = uiStrings(lang);
  const items = toIndexItems(episodesIn(await loadContent(), { series }), lang);
  return (
    <>
      <SiteHeader lang={lang} path={`/series/${series}`} section="series" />
      <main id="main" tabIndex={-1}>
        <p className="eyebrow">
          <a href={paths.seriesIndex(lang)}>{s.series}</a>
        </p>
        <h1>{seriesName(series)}</h1>
        <p className="lede">{s.seriesDescriptions[series]}</p>
        <p className="result-count">{items.length === 0 ? s.noEpisodes : s.results(items.length)}</p>
        <EpisodeList items={items} labels={listLabels(lang, items)} />
      </main>
    </>
  );
}
