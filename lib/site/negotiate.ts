import Negotiator from "negotiator";
import { DEFAULT_LANG, SITE_LANGS, isLang, type Lang } from "./i18n";

/**
 * The best of the site's languages for an Accept-Language header, by
 * `negotiator` (RFC 9110 quality values, `*`, region and script subtags
 * falling back to their language: de-AT → de, zh-Hant-TW → zh); English when
 * nothing matches or the header is absent or unreadable. Server-only (the
 * proxy): kept out of lib/site/i18n.ts, which client components import.
 */
export function preferredLang(header: string | null | undefined): Lang {
  if (!header) return DEFAULT_LANG;
  const best = new Negotiator({ headers: { "accept-language": header } }).language([...SITE_LANGS]);
  return isLang(best) ? best : DEFAULT_LANG;
}
