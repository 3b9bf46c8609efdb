import { Feed } from "feed";
import { inlineMarkdownHtml } from "@/components/InlineMarkdown";
import { loadContent, resolveEpisode } from "@/lib/content/episodes";
import { renderMarkdown } from "@/lib/content/markdown";
import { isLang, languageName, SITE_LANGS, uiStrings, type Lang } from "@/lib/site/i18n";
import { absoluteUrl, paths } from "@/lib/site/paths";
import { siteUrl } from "@/lib/site/view";

/** RSS 2.0 per language, statically generated (and refreshed with the pages on publish). */

export const dynamic = "force-static";
export const dynamicParams = false;

export function generateStaticParams() {
  return SITE_LANGS.map((lang) => ({ lang }));
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * `feed` wraps titles and content in CDATA and splits only the FIRST "]]>" of
 * each: a second one ends the section and breaks the XML. HTML content keeps
 * its meaning with the ">" as an entity; plain-text titles get a zero-width
 * space inside the sequence (the reader sees the same text).
 */
const cdataSafeHtml = (html: string) => html.replaceAll("]]>", "]]&gt;");
const cdataSafeText = (text: string) => text.replaceAll("]]>", "]]\u200b>");

export async function GET(_request: Request, { params }: { params: Promise<{ lang: string }> }): Promise<Response> {
  const { lang: raw } = await params;
  if (!isLang(raw)) return new Response("Not found", { status: 404 });
  const lang: Lang = raw;
  const s = uiStrings(lang);
  const site = siteUrl();
  const content = await loadContent();
  const feed = new Feed({
    title: `${s.siteTitle} (${languageName(lang, lang)})`,
    description: s.tagline,
    id: absoluteUrl(site, paths.home(lang)),
    link: absoluteUrl(site, paths.home(lang)),
    language: lang,
    feedLinks: { rss: absoluteUrl(site, paths.rss(lang)) },
    updated: content.episodes[0] ? new Date(content.episodes[0].date) : new Date(0),
    generator: "Muse",
    copyright: "Banterblogs",
  });
  for (const episode of content.episodes.slice(0, 50)) {
    const r = resolveEpisode(episode, lang);
    const fm = r.variant.frontMatter;
    const link = absoluteUrl(site, paths.episode(lang, episode.series, episode.episode));
    const { html } = await renderMarkdown(r.variant.body);
    const notes = [
      r.fallback ? `<p><em>${escapeHtml(s.untranslatedNotice(languageName(lang, lang)))}</em></p>` : "",
      episode.sample ? `<p><strong>${escapeHtml(s.sampleData)}:</strong> ${inlineMarkdownHtml(s.sampleDataNotice)}</p>` : "",
    ].join("");
    feed.addItem({
      title: cdataSafeText(episode.sample ? `[${s.sampleData}] ${fm.title}` : fm.title),
      id: link,
      link,
      date: new Date(episode.date),
      // Readers render <description> as HTML; the summary is plain prose, so it goes in as text.
      description: escapeHtml(fm.summary),
      content: cdataSafeHtml(notes + html),
      category: episode.tags.map((name) => ({ name })),
    });
  }
  return new Response(feed.rss2(), { headers: { "Content-Type": "application/rss+xml; charset=utf-8" } });
}
