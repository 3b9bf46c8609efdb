import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { EpisodeList } from "@/components/EpisodeList";
import { SiteHeader } from "@/components/SiteHeader";
import { episodesIn, loadContent, tagCounts } from "@/lib/content/episodes";
import { isLang, uiStrings } from "@/lib/site/i18n";
import { languageAlternates, paths, feedAlternate } from "@/lib/site/paths";
import { listLabels, toIndexItems } from "@/lib/site/view";

type Props = { params: Promise<{ lang: string; tag: string }> };

/** Tags come from the content; one published later is rendered on first request (and cached). */
export const dynamicParams = true;

export async function generateStaticParams() {
  return tagCounts(await loadContent()).map((t) => ({ tag: t.tag }));
}

function decode(tag: string): string {
  try {
    return decodeURIComponent(tag);
  } catch {
    return tag;
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang, tag: raw } = await params;
  if (!isLang(lang)) return {};
  const tag = decode(raw);
  return {
    title: uiStrings(lang).tagged(tag),
    alternates: { types: feedAlternate(lang), canonical: paths.tag(lang, tag), languages: languageAlternates(`/tags/${encodeURIComponent(tag)}`) },
  };
}

export default async function TagPage({ params }: Props) {
  const { lang, tag: raw } = await params;
  if (!isLang(lang)) notFound();
  const tag = decode(raw);
  const s = uiStrings(lang);
  const episodes = episodesIn(await loadContent(), { tag });
  if (episodes.length === 0) notFound();
  const items = toIndexItems(episodes, lang);
  return (
    <>
      <SiteHeader lang={lang} path={`/tags/${encodeURIComponent(tag)}`} section="tags" />
      <main id="main" tabIndex={-1}>
        <p className="eyebrow">
          <a href={paths.tags(lang)}>{s.tags}</a>
        </p>
        <h1>{s.tagged(tag)}</h1>
        <p className="result-count">{s.results(items.length)}</p>
        <EpisodeList items={items} labels={listLabels(lang, items)} />
      </main>
    </>
  );
}
