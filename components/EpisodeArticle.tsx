import { resolveEpisode, type Episode, type ResolvedEpisode } from "@/lib/content/episodes";
import type { TocEntry } from "@/lib/content/markdown";
import { formatDate } from "@/lib/site/format";
import { languageName, uiStrings, type Lang } from "@/lib/site/i18n";
import { metricRows, seriesName } from "@/lib/site/episode-metrics";
import { paths } from "@/lib/site/paths";
import { ChangesTable, ClaimsTable, MetricsTable, TableOfContents } from "./EpisodeParts";
import { Evidence } from "./Evidence";
import { InlineMarkdown } from "./InlineMarkdown";
import { SampleBadge } from "./SampleBadge";

/**
 * The body of an episode page (<main>): header with the notices, table of
 * contents, the sanitised prose, metrics, Evidence charts, claims and the
 * series navigation. Synchronous and hook-free: the episode route renders it
 * to static HTML (lib/site/episode-page.tsx).
 */

export interface EpisodeArticleProps {
  lang: Lang;
  episode: Episode;
  resolved: ResolvedEpisode;
  /** The episode body as sanitised HTML (lib/content/markdown.ts). */
  html: string;
  toc: TocEntry[];
  prev?: Episode;
  next?: Episode;
}

export function EpisodeArticle({ lang, episode, resolved: r, html, toc, prev, next }: EpisodeArticleProps) {
  const s = uiStrings(lang);
  const fm = r.variant.frontMatter;
  const original = episode.original.frontMatter;
  const contentLang = r.fallback ? r.contentLang : undefined;
  const fullToc: TocEntry[] = [
    ...toc,
    { id: "episode-metrics", text: s.metrics, depth: 2 },
    { id: "episode-evidence", text: s.evidence, depth: 2 },
    { id: "episode-claims", text: s.claims, depth: 3 },
  ];
  return (
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
              <InlineMarkdown text={s.untranslatedNotice(languageName(lang, lang))} />
            </p>
          ) : null}
          {episode.sample ? (
            <p className="notice sample" role="note" data-notice="sample">
              <strong>{s.sampleData}.</strong> <InlineMarkdown text={s.sampleDataNotice} />
            </p>
          ) : null}
          {!r.fallback && lang !== "en" ? (
            <p className="muted">
              {s.translatedFrom}:{" "}
              <a href={paths.episode("en", episode.series, episode.episode)} hrefLang="en" lang="en">
                {original.title}
              </a>
            </p>
          ) : null}
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

        <section className="deferred deferred-metrics" aria-labelledby="episode-metrics">
          <h2 id="episode-metrics">{s.metrics}</h2>
          <MetricsTable rows={metricRows(original.metrics, lang)} caption={s.metrics} metricLabel={s.metric} valueLabel={s.value} />
          <ChangesTable metrics={original.metrics} lang={lang} caption={s.changes} strings={s.changeEvents} />
        </section>

        <section className="deferred deferred-evidence" aria-labelledby="episode-evidence">
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
                <NeighbourLink episode={prev} lang={lang} rel="prev" label={`← ${s.previousEpisode}`} />
              </li>
            ) : null}
            {next ? (
              <li>
                <NeighbourLink episode={next} lang={lang} rel="next" label={`${s.nextEpisode} →`} />
              </li>
            ) : null}
          </ul>
        </nav>
      ) : null}
    </main>
  );
}

/** A link to the previous/next episode, titled in the page's language or (marked `lang`) the English original's. */
function NeighbourLink({ episode, lang, rel, label }: { episode: Episode; lang: Lang; rel: "prev" | "next"; label: string }) {
  const r = resolveEpisode(episode, lang);
  const other = r.fallback ? r.contentLang : undefined;
  return (
    <a href={paths.episode(lang, episode.series, episode.episode)} rel={rel} lang={other}>
      <small lang={other ? lang : undefined}>{label}</small>
      {r.variant.frontMatter.title}
    </a>
  );
}
