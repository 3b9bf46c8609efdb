import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { EpisodeBrowser, EpisodeBrowserFallback, type BrowserProps } from "@/components/EpisodeBrowser";
import { SiteHeader } from "@/components/SiteHeader";
import { loadContent, tagCounts } from "@/lib/content/episodes";
import { isLang, uiStrings } from "@/lib/site/i18n";
import { SERIES_NAMES } from "@/lib/site/episode-metrics";
import { languageAlternates, feedAlternate } from "@/lib/site/paths";
import { browserStrings, listLabels, toIndexItems } from "@/lib/site/view";

/** The episode index: statically generated; search, filters, sort and paging run in the browser over the embedded list. */

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  if (!isLang(lang)) return {};
  const s = uiStrings(lang);
  return { title: { absolute: `${s.siteTitle} · ${s.episodes}` }, description: s.tagline, alternates: { types: feedAlternate(lang), canonical: `/${lang}`, languages: languageAlternates("") } };
}

export default async function IndexPage({ params }: Props) {
  const { lang } = await params;
  if (!isLang(lang)) notFound();
  const s = uiStrings(lang);
  const content = await loadContent();
  const items = toIndexItems(content.episodes, lang);
  const props: BrowserProps = {
    items,
    strings: browserStrings(lang),
    labels: listLabels(lang, items),
    series: Object.entries(SERIES_NAMES).map(([value, label]) => ({ value, label })),
    tags: tagCounts(content).map((t) => t.tag),
  };
  return (
    <>
      <SiteHeader lang={lang} path="" section="episodes" />
      <main id="main" tabIndex={-1}>
        <h1>{s.episodes}</h1>
        <p className="lede">{s.tagline}</p>
        <Suspense fallback={<EpisodeBrowserFallback {...props} />}>
          <EpisodeBrowser {...props} />
        </Suspense>
      </main>
    </>
  );
}
