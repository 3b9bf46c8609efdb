import { NextResponse, type NextRequest } from "next/server";
import { preferredLang } from "./lib/site/negotiate";

/**
 * Paths without a language — `/`, `/status`, `/tags/…`, `/series/…`,
 * `/episodes/…`, `/rss.xml` — redirect (307, `Vary: Accept-Language`, not
 * cached) to the same path and query under the visitor's language, negotiated
 * from Accept-Language (lib/site/negotiate.ts), English by default.
 *
 * Only those paths reach the proxy (`config.matcher`): `/{en,de,zh,hi}/…`,
 * the API, `_next`, `/og`, `/rum`, robots and the sitemap never do, so the
 * reader pages stay static — the language of a page is its first path
 * segment, never a request header.
 */
export function proxy(request: NextRequest): NextResponse {
  const lang = preferredLang(request.headers.get("accept-language"));
  const url = request.nextUrl.clone();
  url.pathname = url.pathname === "/" ? `/${lang}` : `/${lang}${url.pathname}`;
  const response = NextResponse.redirect(url, 307);
  response.headers.set("Vary", "Accept-Language");
  response.headers.set("Cache-Control", "no-store");
  return response;
}

export const config = {
  matcher: ["/", "/status", "/tags/:path*", "/series/:path*", "/episodes/:path*", "/rss.xml"],
};
