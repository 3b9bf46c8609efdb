import { preferredLang } from "@/lib/site/i18n";

/**
 * `/` → the reader in the visitor's language (Accept-Language), English by
 * default. Temporary redirect, varied on the header.
 */

export const dynamic = "force-dynamic";

export function GET(request: Request): Response {
  const lang = preferredLang(request.headers.get("accept-language"));
  return new Response(null, { status: 307, headers: { Location: `/${lang}`, Vary: "Accept-Language", "Cache-Control": "no-store" } });
}
