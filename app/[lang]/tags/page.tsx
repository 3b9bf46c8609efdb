import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { SiteHeader } from "@/components/SiteHeader";
import { loadContent, tagCounts } from "@/lib/content/episodes";
import { isLang, uiStrings } from "@/lib/site/i18n";
import { languageAlternates, paths, feedAlternate } from "@/lib/site/paths";

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  if (!isLang(lang)) return {};
  return { title: uiStrings(lang).tags, alternates: { types: feedAlternate(lang), canonical: paths.tags(lang), languages: languageAlternates("/tags") } };
}

export default async function TagsPage({ params }: Props) {
  const { lang } = await params;
  if (!isLang(lang)) notFound();
  const s = uiStrings(lang);
  const tags = tagCounts(await loadContent());
  return (
    <>
      <SiteHeader lang={lang} path="/tags" section="tags" />
      <main id="main" tabIndex={-1}>
        <h1>{s.tags}</h1>
        {tags.length === 0 ? (
          <p className="muted">{s.noEpisodes}</p>
        ) : (
          <ul className="tag-cloud">
            {tags.map((t) => (
              <li key={t.tag}>
                <a href={paths.tag(lang, t.tag)}>
                  {t.tag} <span className="muted">({t.count})</span>
                </a>
              </li>
            ))}
          </ul>
        )}
      </main>
    </>
  );
}
