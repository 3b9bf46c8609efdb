import { uiStrings, type Lang } from "@/lib/site/i18n";
import { SiteHeaderView, type Section } from "./SiteHeaderView";
import { ThemeToggle } from "./ThemeToggle";

export { LanguageSwitch, type Section } from "./SiteHeaderView";

/**
 * The banner of the App Router pages, with the client-side theme toggle.
 * Server-rendered: the language switch needs no JavaScript. (The static
 * episode page uses SiteHeaderView with StaticThemeToggle instead.)
 */
export function SiteHeader({ lang, path, section = "none" }: { lang: Lang; path: string; section?: Section }) {
  const s = uiStrings(lang);
  return (
    <SiteHeaderView
      lang={lang}
      path={path}
      section={section}
      toggle={<ThemeToggle labels={{ theme: s.theme, system: s.themeSystem, light: s.themeLight, dark: s.themeDark }} />}
    />
  );
}
