import { loadContent, tagCounts } from "@/lib/content/episodes";
import { loadEnv } from "@/lib/env";
import { OG_LOCALES, SITE_LANGS, uiStrings, type Lang } from "@/lib/site/i18n";
import { inlineCss } from "@/lib/site/inline-css";
import { SERIES_NAMES } from "@/lib/site/episode-metrics";
import { rumSettings } from "@/lib/site/rum";
import { absoluteUrl, paths } from "@/lib/site/paths";
import { browserStrings, listLabels, siteUrl, toIndexItems } from "@/lib/site/view";
import { EpisodeBrowser, type BrowserProps } from "./EpisodeBrowser";
import { StaticDocument, type DocumentHead } from "./StaticDocument";

/**
 * The home page (the episode index) as a whole static document, like the
 * episode page: no Next.js/React client runtime. Its only script besides the
 * theme toggle's is the search island (EpisodeBrowser), so a phone spends no
 * time booting a framework before it can react (Lighthouse TBT).
 */

export async function homeDocument(lang: Lang) {
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
  const site = siteUrl();
  const title = `${s.siteTitle} · ${s.episodes}`;
  const head: DocumentHead = {
    title,
    description: s.tagline,
    names: [["application-name", s.siteTitle]],
    properties: [
      ["og:title", title],
      ["og:description", s.tagline],
      ["og:url", absoluteUrl(site, paths.home(lang))],
      ["og:site_name", s.siteTitle],
      ["og:locale", OG_LOCALES[lang]],
      ["og:type", "website"],
    ],
    links: [
      { rel: "canonical", href: absoluteUrl(site, paths.home(lang)) },
      ...SITE_LANGS.map((l) => ({ rel: "alternate", hrefLang: l, href: absoluteUrl(site, paths.home(l)) })),
      { rel: "alternate", hrefLang: "x-default", href: absoluteUrl(site, paths.home("en")) },
      { rel: "alternate", type: "application/rss+xml", href: absoluteUrl(site, paths.rss(lang)), title: `Banterblogs (${lang})` },
    ],
  };
  return (
    <StaticDocument lang={lang} head={head} css={inlineCss()} rum={rumSettings(loadEnv())} headerPath="" section="episodes">
      <main id="main" tabIndex={-1}>
        <h1>{s.episodes}</h1>
        <p className="lede">{s.tagline}</p>
        <EpisodeBrowser {...props} />
      </main>
    </StaticDocument>
  );
}
