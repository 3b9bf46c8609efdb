import type { Metadata, Viewport } from "next";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { Rum } from "@/components/Rum";
import { loadEnv } from "@/lib/env";
import { isLang, OG_LOCALES, SITE_LANGS, uiStrings } from "@/lib/site/i18n";
import { feedAlternate } from "@/lib/site/paths";
import { rumSettings } from "@/lib/site/rum";
import { siteUrl } from "@/lib/site/view";
import "../globals.css";

/**
 * The root layout: every reader page lives under its language, so <html lang>
 * comes from the route. Only the four languages exist: any other first
 * segment is a 404 (notFound below). No `dynamicParams = false` here: it would
 * apply to every route beneath, and episodes and tags published after the
 * build must render on first request.
 */

export function generateStaticParams() {
  return SITE_LANGS.map((lang) => ({ lang }));
}

type Props = { children: ReactNode; params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Omit<Props, "children">): Promise<Metadata> {
  const { lang } = await params;
  if (!isLang(lang)) return {};
  const s = uiStrings(lang);
  return {
    metadataBase: new URL(siteUrl()),
    title: { default: s.siteTitle, template: `%s · ${s.siteTitle}` },
    description: s.tagline,
    applicationName: s.siteTitle,
    alternates: { types: feedAlternate(lang) },
    openGraph: { siteName: s.siteTitle, locale: OG_LOCALES[lang], type: "website" },
  };
}

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#0f1115" },
  ],
};

/** Applies the stored theme before first paint (no flash); the toggle changes it later. */
const THEME_SCRIPT = `try{var t=localStorage.getItem("muse-theme");if(t==="light"||t==="dark")document.documentElement.dataset.theme=t}catch(e){}`;

export default async function RootLayout({ children, params }: Props) {
  const { lang } = await params;
  if (!isLang(lang)) notFound();
  const s = uiStrings(lang);
  const rum = rumSettings(loadEnv());
  return (
    <html lang={lang} suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <a className="skip-link" href="#main">
          {s.skipToContent}
        </a>
        {children}
        <footer className="site">
          <div>
            <p>{s.footer}</p>
          </div>
        </footer>
        {rum ? <Rum {...rum} /> : null}
      </body>
    </html>
  );
}
