import { LANG_NAMES, SITE_LANGS, uiStrings, type Lang } from "@/lib/site/i18n";
import { paths } from "@/lib/site/paths";
import { ThemeToggle } from "./ThemeToggle";

export type Section = "episodes" | "series" | "tags" | "status" | "none";

/**
 * The banner of every page: brand, main navigation, the language switch (the
 * same page in each language; `path` is the part after `/<lang>`) and the
 * theme toggle. Server-rendered: the language switch needs no JavaScript.
 */
export function SiteHeader({ lang, path, section = "none" }: { lang: Lang; path: string; section?: Section }) {
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
          <ThemeToggle labels={{ theme: s.theme, system: s.themeSystem, light: s.themeLight, dark: s.themeDark }} />
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
