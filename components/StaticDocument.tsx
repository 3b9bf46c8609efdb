import type { ReactNode } from "react";
import { uiStrings, type Lang } from "@/lib/site/i18n";
import { RUM_INIT_OPTIONS, type RumSettings } from "@/lib/site/rum";
import { SiteHeaderView, type Section } from "./SiteHeaderView";
import { StaticThemeToggle, THEME_SCRIPT } from "./StaticThemeToggle";

/**
 * A whole HTML document served without the Next.js/React client runtime (the
 * episode page): the <head> the App Router would have produced from metadata
 * (title, description, canonical, hreflang, feed, Open Graph, Twitter, icon,
 * theme colour), the site's CSS inlined, the theme script, optional JSON-LD;
 * the <body> with the skip link, the site header, the page, the footer and —
 * only with RUM keys — the Datadog RUM loader.
 *
 * Head order is React DOM's (charset, viewport, then title/meta/link, then
 * scripts and styles), so react-dom/server renders the same string.
 */

export interface HeadLink {
  rel: string;
  href: string;
  hrefLang?: string;
  type?: string;
  title?: string;
  sizes?: string;
}

export interface DocumentHead {
  title: string;
  description: string;
  /** `<meta name>` pairs after the description (application-name, keywords, robots, twitter:*). */
  names: [string, string][];
  /** `<meta property>` pairs (og:*, article:*). */
  properties: [string, string][];
  links: HeadLink[];
  jsonLd?: Record<string, unknown>;
}

/** Where the route app/rum/[...path] serves @datadog/browser-rum's own browser bundle. */
export const RUM_BUNDLE_PATH = "/rum/datadog-rum.js";

/** JSON inside a <script>: `<` escaped so no value can close the element. */
export const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

/**
 * Loads the RUM bundle asynchronously (never part of the first load, never
 * render-blocking) and initialises it with the same options as components/Rum.
 */
export function rumScript(rum: RumSettings): string {
  const config = { ...rum, ...RUM_INIT_OPTIONS };
  return `(function(c){var s=document.createElement("script");s.src=${scriptJson(RUM_BUNDLE_PATH)};s.async=true;s.onload=function(){var R=window.DD_RUM;if(R&&!R.getInitConfiguration())R.init(c)};document.head.appendChild(s)})(${scriptJson(config)})`;
}

export function StaticDocument({
  lang,
  head,
  css,
  rum,
  headerPath,
  section,
  children,
}: {
  lang: Lang;
  head: DocumentHead;
  css: string;
  rum?: RumSettings;
  headerPath: string;
  section?: Section;
  children: ReactNode;
}) {
  const s = uiStrings(lang);
  return (
    <html lang={lang}>
      {/* eslint-disable-next-line @next/next/no-head-element -- a whole document rendered outside Next.js (no next/head there) */}
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{head.title}</title>
        <meta name="description" content={head.description} />
        {head.names.map(([name, content], i) => (
          <meta key={`n${i}`} name={name} content={content} />
        ))}
        {head.properties.map(([property, content], i) => (
          <meta key={`p${i}`} property={property} content={content} />
        ))}
        <meta name="theme-color" content="#ffffff" media="(prefers-color-scheme: light)" />
        <meta name="theme-color" content="#0f1115" media="(prefers-color-scheme: dark)" />
        {head.links.map((l, i) => (
          <link key={i} rel={l.rel} href={l.href} hrefLang={l.hrefLang} type={l.type} title={l.title} sizes={l.sizes} />
        ))}
        <link rel="icon" href="/icon.svg" type="image/svg+xml" sizes="any" />
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
        <style dangerouslySetInnerHTML={{ __html: css }} />
        {head.jsonLd ? <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: scriptJson(head.jsonLd) }} /> : null}
      </head>
      <body>
        <a className="skip-link" href="#main">
          {s.skipToContent}
        </a>
        <SiteHeaderView
          lang={lang}
          path={headerPath}
          section={section}
          toggle={<StaticThemeToggle labels={{ theme: s.theme, system: s.themeSystem, light: s.themeLight, dark: s.themeDark }} />}
        />
        {children}
        <footer className="site">
          <div>
            <p>{s.footer}</p>
          </div>
        </footer>
        {rum ? <script dangerouslySetInnerHTML={{ __html: rumScript(rum) }} /> : null}
      </body>
    </html>
  );
}
