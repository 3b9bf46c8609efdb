import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { SiteHeader } from "@/components/SiteHeader";
import { episodesIn, loadContent, SERIES } from "@/lib/content/episodes";
import { isLang, uiStrings } from "@/lib/site/i18n";
import { seriesName } from "@/lib/site/episode-metrics";
import { languageAlternates, paths, feedAlternate } from "@/lib/site/paths";

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  if (!isLang(lang)) return {};
  return {
    title: uiStrings(lang).series,
    alternates: { types: feedAlternate(lang), canonical: paths.seriesIndex(lang), languages: languageAlternates("/series") },
  };
}

export default async function SeriesIndexPage({ params }: Props) {
  const { lang } = await params;
  if (!isLang(lang)) notFound();
  const s = uiStrings(lang);
  const content = await loadContent();
  return (
    <>
      <SiteHeader lang={lang} path="/series" section="series" />
      <main id="main" tabIndex={-1}>
        <h1>{s.series}</h1>
        <ul className="episode-list">
          {SERIES.map((series) => (
            <li key={series} className="episode-card">
              <article>
                <h2 className="card-title">
                  <a href={paths.series(lang, series)}>{seriesName(series)}</a>
                </h2>
                <p className="summary">{s.seriesDescriptions[series]}</p>
                <p className="eyebrow">{s.results(episodesIn(content, { series }).length)}</p>
              </article>
            </li>
          ))}
        </ul>
      </main>
    </>
  );
}
