import { episodeStaticParams, htmlResponse, renderEpisodePage, type EpisodeRouteParams } from "@/lib/site/episode-page";

/**
 * An episode page, served as a complete static HTML document with no
 * framework JavaScript (lib/site/episode-page.tsx): a route handler, not a
 * page, because every App Router page ships the Next.js + React client
 * runtime (~128 kB gzip) and this one needs no hydration.
 *
 * Statically generated for every episode × language at build time, and only
 * those: any other path is a 404 that is neither rendered nor cached
 * (`dynamicParams = false`), so made-up URLs cannot fill the cache. A newly
 * published episode's page comes with the next build (in production every
 * publish commit deploys; `npm run demo` rebuilds and swaps: lib/demo/redeploy.ts). Like every cached route, its entries carry the
 * implicit tag of the root layout, so the publisher's
 * `revalidatePath("/", "layout")` (lib/http/revalidate.ts) refreshes them.
 */

export const dynamic = "force-static";
export const dynamicParams = false;

export async function generateStaticParams(): Promise<EpisodeRouteParams[]> {
  return episodeStaticParams();
}

export async function GET(_request: Request, { params }: { params: Promise<EpisodeRouteParams> }): Promise<Response> {
  return htmlResponse(await renderEpisodePage(await params));
}
