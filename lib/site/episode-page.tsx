import type { ReactElement } from "react";
import { EpisodeArticle } from "@/components/EpisodeArticle";
import { StaticDocument, type DocumentHead } from "@/components/StaticDocument";
import { findEpisode, loadContent, resolveEpisode, seriesNeighbours, type Episode } from "../content/episodes";
import { renderMarkdown } from "../content/markdown";
import { loadEnv } from "../env";
import type { EpisodeRouteParams } from "./episode-params";
import { DEFAULT_LANG, isLang, OG_LOCALES, uiStrings, type Lang } from "./i18n";
import { inlineCss } from "./inline-css";
import { seriesName } from "./episode-metrics";
import { OG_SIZE, ogImagePath } from "./og-meta";
import { absoluteUrl, parseEpisodeSlug, paths } from "./paths";
import { rumSettings } from "./rum";
import { renderStaticMarkup } from "./static-markup";
import { siteUrl } from "./view";

/**
 * The episode page as a complete static HTML document with no framework
 * JavaScript: app/[lang]/episodes/[series]/[episode]/route.ts serves it,
 * statically generated per language and revalidated with the rest of the site.
 * Everything the App Router page had is here: metadata, hreflang, Open Graph
 * (image from app/og/...), JSON-LD, header with language switch, notices,
 * TOC, prose, metrics, Evidence charts, claims, prev/next, footer; the theme
 * toggle is a ~0.8 kB inline script and Datadog RUM loads only with keys.
 */

export interface RenderedPage {
  status: 200 | 404;
  html: string;
}

/** A page before rendering: its status and the <html> element. */
export interface PageTree {
  status: 200 | 404;
  document: ReactElement;
}

const DOCTYPE = "<!DOCTYPE html>";

export { episodeStaticParams, type EpisodeRouteParams } from "./episode-params";

async function lookup(params: EpisodeRouteParams): Promise<{ lang: Lang; episode: Episode } | undefined> {
  const n = parseEpisodeSlug(params.episode);
  if (!isLang(params.lang) || n === undefined) return undefined;
  const episode = findEpisode(await loadContent(), params.series, n);
  return episode ? { lang: params.lang, episode } : undefined;
}

/** The episode page (or the 404 page) as HTML: `<!DOCTYPE html>` and the rendered tree. */
export async function renderEpisodePage(params: EpisodeRouteParams): Promise<RenderedPage> {
  return renderPage(await episodePageTree(params));
}

export function renderPage(tree: PageTree): RenderedPage {
  return { status: tree.status, html: DOCTYPE + renderStaticMarkup(tree.document) };
}

export async function episodePageTree(params: EpisodeRouteParams): Promise<PageTree> {
  const found = await lookup(params);
  if (!found) return notFoundPageTree(isLang(params.lang) ? params.lang : DEFAULT_LANG);
  const { lang, episode } = found;
  const s = uiStrings(lang);
  const content = await loadContent();
  const r = resolveEpisode(episode, lang);
  const fm = r.variant.frontMatter;
  const { html, toc } = await renderMarkdown(r.variant.body);
  const { prev, next } = seriesNeighbours(content, episode);
  const site = siteUrl();
  const rest = `/episodes/${episode.series}/${episode.slug}`;
  const url = absoluteUrl(site, paths.episode(lang, episode.series, episode.episode));
  const image = absoluteUrl(site, ogImagePath(lang, episode.series, episode.episode));

  const head: DocumentHead = {
    title: `${fm.title} · ${s.siteTitle}`,
    description: fm.summary,
    names: [
      ["application-name", s.siteTitle],
      ["keywords", episode.tags.join(",")],
      // A page showing the English original (no translation yet) is not marked noindex: its canonical is
      // the original, which search engines index in its place (a noindex beside a canonical sends them
      // contradictory signals). The sitemap and the hreflang alternates list only the languages the
      // episode exists in, so the fallback URL is never advertised.
      ["twitter:card", "summary_large_image"],
      ["twitter:title", fm.title],
      ["twitter:description", fm.summary],
      ["twitter:image", image],
      ["twitter:image:alt", fm.title],
    ],
    properties: [
      ["og:title", fm.title],
      ["og:description", fm.summary],
      ["og:url", url],
      ["og:site_name", s.siteTitle],
      ["og:locale", OG_LOCALES[r.contentLang]],
      ["og:image", image],
      ["og:image:type", "image/png"],
      ["og:image:width", String(OG_SIZE.width)],
      ["og:image:height", String(OG_SIZE.height)],
      ["og:image:alt", fm.title],
      ["og:type", "article"],
      ["article:published_time", episode.date],
      ["article:modified_time", fm.date],
      ["article:section", seriesName(episode.series)],
      ...episode.tags.map((t): [string, string] => ["article:tag", t]),
    ],
    links: [
      { rel: "canonical", href: absoluteUrl(site, `/${r.contentLang}${rest}`) },
      ...episode.langs.map((l) => ({ rel: "alternate", hrefLang: l, href: absoluteUrl(site, `/${l}${rest}`) })),
      { rel: "alternate", hrefLang: "x-default", href: absoluteUrl(site, `/en${rest}`) },
      { rel: "alternate", type: "application/rss+xml", href: absoluteUrl(site, paths.rss(lang)), title: `Banterblogs (${lang})` },
    ],
    jsonLd: {
      "@context": "https://schema.org",
      "@type": "BlogPosting",
      headline: fm.title,
      description: fm.summary,
      datePublished: episode.date,
      dateModified: fm.date,
      inLanguage: r.contentLang,
      url,
      mainEntityOfPage: url,
      image,
      keywords: episode.tags.join(", "),
      isPartOf: { "@type": "CreativeWorkSeries", name: seriesName(episode.series), url: absoluteUrl(site, paths.series(lang, episode.series)) },
      author: { "@type": "Organization", name: "Muse" },
      publisher: { "@type": "Organization", name: s.siteTitle, url: absoluteUrl(site, paths.home(lang)) },
      ...(r.variant.lang !== "en"
        ? { translationOfWork: { "@type": "BlogPosting", url: absoluteUrl(site, paths.episode("en", episode.series, episode.episode)) } }
        : {}),
    },
  };

  return {
    status: 200,
    document: (
      <StaticDocument lang={lang} head={head} css={inlineCss()} rum={rumSettings(loadEnv())} headerPath={rest} section="episodes">
        <EpisodeArticle lang={lang} episode={episode} resolved={r} html={html} toc={toc} prev={prev} next={next} />
      </StaticDocument>
    ),
  };
}

/** The 404 of an unknown episode (or language), in the page's language, as the App Router's not-found page shows it. */
export function notFoundPageTree(lang: Lang): PageTree {
  const s = uiStrings(lang);
  const head: DocumentHead = {
    title: `${s.notFoundTitle} · ${s.siteTitle}`,
    description: s.tagline,
    names: [["robots", "noindex"]],
    properties: [],
    links: [],
  };
  return {
    status: 404,
    document: (
      <StaticDocument lang={lang} head={head} css={inlineCss()} rum={rumSettings(loadEnv())} headerPath="">
        <main id="main" tabIndex={-1}>
          <h1>{s.notFoundTitle}</h1>
          <p>{s.notFoundText}</p>
          <p>
            <a href={paths.home(lang)}>{s.backHome}</a>
          </p>
        </main>
      </StaticDocument>
    ),
  };
}

/** The HTTP response of a rendered page. */
export function htmlResponse(page: RenderedPage): Response {
  return new Response(page.html, { status: page.status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
