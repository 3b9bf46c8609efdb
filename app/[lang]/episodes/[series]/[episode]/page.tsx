import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ChangesTable, ClaimsTable, JsonLd, MetricsTable, TableOfContents } from "@/components/EpisodeParts";
import { Evidence } from "@/components/Evidence";
import { SampleBadge } from "@/components/SampleBadge";
import { SiteHeader } from "@/components/SiteHeader";
import { findEpisode, loadContent, resolveEpisode, seriesNeighbours, type Episode } from "@/lib/content/episodes";
import { renderMarkdown } from "@/lib/content/markdown";
import { formatDate } from "@/lib/site/format";
import { isLang, languageName, OG_LOCALES, uiStrings, type Lang } from "@/lib/site/i18n";
import { metricRows, seriesName } from "@/lib/site/metrics";
import { absoluteUrl, episodeSlug, parseEpisodeSlug, paths, feedAlternate } from "@/lib/site/paths";
import { siteUrl } from "@/lib/site/view";

/**
 * An episode: statically generated per language; a language without a
 * translation shows the English original and says so. New episodes (after a
 * publish and revalidatePath) are rendered on first request.
 */

type Params = { lang: string; series: string; episode: string };

/** Episodes published after the build render on first request (the root layout's `false` applies to languages only). */
export const dynamicParams = true;
type Props = { params: Promise<Params> };

export async function generateStaticParams() {
  return (await loadContent()).episodes.map((e) => ({ series: e.series, episode: e.slug }));
}

async function lookup(params: Promise<Params>): Promise<{ lang: Lang; episode: Episode } | undefined> {
  const { lang, series, episode: slug } = await params;
  const n = parseEpisodeSlug(slug);
  if (!isLang(lang) || n === undefined) return undefined;
  const episode = findEpisode(await loadContent(), series, n);
  return episode ? { lang, episode } : undefined;
}

const pathOf = (e: Episode) => `/episodes/${e.series}/${episodeSlug(e.episode)}`;

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const found = await lookup(params);
  if (!found) return {};
  const { lang, episode } = found;
  const r = resolveEpisode(episode, lang);
  const fm = r.variant.frontMatter;
  const languages: Record<string, string> = {};
  for (const l of episode.langs) languages[l] = `/${l}${pathOf(episode)}`;
  languages["x-default"] = `/en${pathOf(episode)}`;
  return {
    title: fm.title,
    description: fm.summary,
    keywords: episode.tags,
    // A page showing the English original points search engines at it.
    alternates: { types: feedAlternate(lang), canonical: `/${r.contentLang}${pathOf(episode)}`, languages },
    robots: r.fallback ? { index: false, follow: true } : undefined,
    openGraph: {
      type: "article",
      title: fm.title,
      description: fm.summary,
      url: `/${lang}${pathOf(episode)}`,
      locale: OG_LOCALES[r.contentLang],
      publishedTime: episode.date,
      modifiedTime: fm.date,
      section: seriesName(episode.series),
      tags: episode.tags,
    },
  };
}

export default async function EpisodePage({ params }: Props) {
  const found = await lookup(params);
  if (!found) notFound();
  const { lang, episode } = found;
  const s = uiStrings(lang);
  const content = await loadContent();
  const r = resolveEpisode(episode, lang);
  const fm = r.variant.frontMatter;
  const original = episode.original.frontMatter;
  const { html, toc } = await renderMarkdown(r.variant.body);
  const { prev, next } = seriesNeighbours(content, episode);
  const contentLang = r.fallback ? r.contentLang : undefined;
  const site = siteUrl();
  const url = absoluteUrl(site, paths.episode(lang, episode.series, episode.episode));
  const fullToc = [
    ...toc,
    { id: "episode-metrics", text: s.metrics, depth: 2 as const },
    { id: "episode-evidence", text: s.evidence, depth: 2 as const },
    { id: "episode-claims", text: s.claims, depth: 3 as const },
  ];
  const titleOf = (e: Episode) => resolveEpisode(e, lang).variant.frontMatter.title;

  return (
    <>
      <SiteHeader lang={lang} path={pathOf(episode)} section="episodes" />
      <main id="main" tabIndex={-1}>
        <article aria-labelledby="episode-title">
          <header className="episode-header">
            <p className="eyebrow">
              <a href={paths.series(lang, episode.series)}>{seriesName(episode.series)}</a> · {s.episode(episode.episode)} ·{" "}
              <time dateTime={episode.date}>{formatDate(episode.date, lang, "long")}</time>
              {episode.sample ? (
                <>
                  {" "}
                  <SampleBadge label={s.sampleData} />
                </>
              ) : null}
            </p>
            <h1 id="episode-title" lang={contentLang}>
              {fm.title}
            </h1>
            <p className="lede" lang={contentLang}>
              {fm.summary}
            </p>
            {r.fallback ? (
              <p className="notice" role="note" data-notice="untranslated">
                {s.untranslatedNotice(languageName(lang, lang))}
              </p>
            ) : null}
            {episode.sample ? (
              <p className="notice sample" role="note" data-notice="sample">
                <strong>{s.sampleData}.</strong>
                {s.sampleDataNotice}
              </p>
            ) : null}
            {!r.fallback && lang !== "en" ? <p className="muted">{s.translatedFrom}: <a href={paths.episode("en", episode.series, episode.episode)} hrefLang="en" lang="en">{original.title}</a></p> : null}
            <dl className="episode-meta">
              <dt>{s.window}</dt>
              <dd>
                <time dateTime={fm.window.from}>{formatDate(fm.window.from, lang)}</time> – <time dateTime={fm.window.to}>{formatDate(fm.window.to, lang)}</time>
              </dd>
              <dt>{s.models}</dt>
              <dd>{original.models.join(", ") || "–"}</dd>
              <dt>{s.writer}</dt>
              <dd>
                {original.writer.kind}
                {original.writer.model ? ` (${original.writer.model})` : ""}
              </dd>
              <dt>{s.commits}</dt>
              <dd>
                Banterhearts {original.commits.hearts.length}, Banterpacks {original.commits.packs.length}
              </dd>
              <dt>{s.tags}</dt>
              <dd>
                <ul className="tags" aria-label={s.tags}>
                  {episode.tags.map((t) => (
                    <li key={t}>
                      <a href={paths.tag(lang, t)}>{t}</a>
                    </li>
                  ))}
                </ul>
              </dd>
            </dl>
          </header>

          <TableOfContents entries={fullToc} label={s.tableOfContents} />

          <div className="prose" lang={contentLang} dangerouslySetInnerHTML={{ __html: html }} />

          <section aria-labelledby="episode-metrics">
            <h2 id="episode-metrics">{s.metrics}</h2>
            <MetricsTable rows={metricRows(original.metrics, lang)} caption={s.metrics} metricLabel={s.metric} valueLabel={s.value} />
            <ChangesTable changes={original.metrics.changes} caption={s.changes} />
          </section>

          <section aria-labelledby="episode-evidence">
            <h2 id="episode-evidence">{s.evidence}</h2>
            <p className="muted">{s.evidenceIntro}</p>
            <Evidence frontMatter={original} lang={lang} tableLabel={s.dataTable} />
            <h3 id="episode-claims">{s.claims}</h3>
            <p className="muted">{s.claimsIntro}</p>
            <ClaimsTable claims={original.claims} caption={s.claims} labels={{ claim: s.claim, value: s.value, source: s.source }} />
          </section>
        </article>

        {prev || next ? (
          <nav className="prev-next" aria-label={s.seriesNav}>
            <ul>
              {prev ? (
                <li>
                  <a href={paths.episode(lang, prev.series, prev.episode)} rel="prev">
                    <small>← {s.previousEpisode}</small>
                    {titleOf(prev)}
                  </a>
                </li>
              ) : null}
              {next ? (
                <li>
                  <a href={paths.episode(lang, next.series, next.episode)} rel="next">
                    <small>{s.nextEpisode} →</small>
                    {titleOf(next)}
                  </a>
                </li>
              ) : null}
            </ul>
          </nav>
        ) : null}

        <JsonLd
          data={{
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            headline: fm.title,
            description: fm.summary,
            datePublished: episode.date,
            dateModified: fm.date,
            inLanguage: r.contentLang,
            url,
            mainEntityOfPage: url,
            image: `${url}/opengraph-image`,
            keywords: episode.tags.join(", "),
            isPartOf: { "@type": "CreativeWorkSeries", name: seriesName(episode.series), url: absoluteUrl(site, paths.series(lang, episode.series)) },
            author: { "@type": "Organization", name: "Muse" },
            publisher: { "@type": "Organization", name: s.siteTitle, url: absoluteUrl(site, paths.home(lang)) },
            ...(r.variant.lang !== "en" ? { translationOfWork: { "@type": "BlogPosting", url: absoluteUrl(site, paths.episode("en", episode.series, episode.episode)) } } : {}),
          }}
        />
      </main>
    </>
  );
}
