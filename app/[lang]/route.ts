import { homeDocument } from "@/components/HomeDocument";
import { htmlResponse, notFoundPageTree, renderPage } from "@/lib/site/episode-page";
import { DEFAULT_LANG, isLang, SITE_LANGS } from "@/lib/site/i18n";

/**
 * The home page (the episode index), served as a complete static HTML
 * document without the Next.js/React client runtime, like the episode pages
 * (components/HomeDocument.tsx): on a phone the framework's boot and
 * hydration were the page's whole Total Blocking Time. Search, filters, sort
 * and paging are a small inline island (components/EpisodeBrowser.tsx).
 *
 * Statically generated per language and revalidated with the rest of the
 * site (the publisher's `revalidatePath("/", "layout")`); any other first
 * segment is a 404 that is neither rendered nor cached.
 */

export const dynamic = "force-static";
export const dynamicParams = false;

export function generateStaticParams() {
  return SITE_LANGS.map((lang) => ({ lang }));
}

export async function GET(_request: Request, { params }: { params: Promise<{ lang: string }> }): Promise<Response> {
  const { lang } = await params;
  if (!isLang(lang)) return htmlResponse(renderPage(notFoundPageTree(DEFAULT_LANG)));
  return htmlResponse(renderPage({ status: 200, document: await homeDocument(lang) }));
}
