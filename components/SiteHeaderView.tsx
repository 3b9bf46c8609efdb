import type { ReactNode } from "react";
import { LANG_NAMES, SITE_LANGS, uiStrings, type Lang } from "@/lib/site/i18n";
import { paths } from "@/lib/site/paths";

export type Section = "episodes" | "series" | "tags" | "status" | "none";

/**
 * The banner of every page: brand, main navigation, the language switch (the
 * same page in each language; `path` is the part after `/<lang>`) and a theme
 * toggle passed in by the caller: the client component on App Router pages
 * (SiteHeader), the script-driven button on the static episode page
 * (StaticThemeToggle). Hook-free, so it renders to static markup too.
 */
export function SiteHeaderView({ lang, path, section = "none", toggle }: { lang: Lang; path: string; section?: Section; toggle: ReactNode }) {
  const s = uiStrings(lang);
  const items: { key: Section; href: string; label: string }[] = [
    { key: "episodes", href: paths.home(lang), label: s.episodes },
    { key: "series", href: paths.seriesIndex(lang), label: s.series },
    { key: "tags", href: paths.tags(lang), label: s.tags },
    { key: "status", href: paths.status(lang), label: s.status },
  ];
  return (
    <header className="site">
      <div className="bar">
        <a className="brand" href={paths.home(lang)}>
          {s.siteTitle}
        </a>
        <nav aria-label={s.mainNav} className="main-nav">
          <ul>
            {items.map((item) => (
              <li key={item.key}>
                <a href={item.href} aria-current={item.key === section ? "page" : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
            <li>
              <a href={paths.rss(lang)} type="application/rss+xml">
                {s.rss}
              </a>
            </li>
          </ul>
        </nav>
        <div className="tools">
          <LanguageSwitch lang={lang} path={path} label={s.languageNav} />
          {toggle}
        </div>
      </div>
    </header>
  );
}

export function LanguageSwitch({ lang, path, label }: { lang: Lang; path: string; label: string }) {
  return (
    <nav aria-label={label} className="lang-switch">
      <ul>
        {SITE_LANGS.map((l) => (
          <li key={l}>
            <a href={`/${l}${path}`} hrefLang={l} lang={l} aria-current={l === lang ? "true" : undefined}>
              {LANG_NAMES[l]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
