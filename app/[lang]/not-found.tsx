import { lang as rootLang } from "next/root-params";
import { SiteHeader } from "@/components/SiteHeader";
import { DEFAULT_LANG, isLang, uiStrings, type Lang } from "@/lib/site/i18n";
import { paths } from "@/lib/site/paths";

/** 404 inside a language (an unknown episode, series or tag), in that language. */
export default async function NotFound() {
  let lang: Lang = DEFAULT_LANG;
  try {
    const value: unknown = await rootLang();
    if (isLang(value)) lang = value;
  } catch {
    // outside a language route: English
  }
  const s = uiStrings(lang);
  return (
    <>
      <SiteHeader lang={lang} path="" />
      <main id="main" tabIndex={-1}>
        <h1>{s.notFoundTitle}</h1>
        <p>{s.notFoundText}</p>
        <p>
          <a href={paths.home(lang)}>{s.backHome}</a>
        </p>
      </main>
    </>
  );
}
