import { z } from "zod";
import { loadContent, resolveEpisode, SERIES } from "@/lib/content/episodes";
import { readQuery } from "@/lib/http/query";
import { json, jsonError } from "@/lib/http/responses";
import { SITE_LANGS } from "@/lib/site/i18n";
import { absoluteUrl, paths } from "@/lib/site/paths";
import { siteUrl } from "@/lib/site/view";
import { limitApi } from "@/lib/http/rate-limit";
import { loadEnv } from "@/lib/env";

/**
 * GET /api/episodes?lang=&series=&limit=&offset= — the published episodes,
 * newest first, each in the requested language when translated, else the
 * English original (`fallback: true`). Paged: at most `limit` (default 50,
 * at most 100) from `offset`; `count` is the total, `next` the URL of the
 * next page (null on the last). Unknown or repeated parameters are refused
 * (400 naming the parameter).
 */

export const dynamic = "force-dynamic";
export const maxDuration = 10;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "expected a non-negative integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

const query = z.strictObject({
  lang: z.enum(SITE_LANGS).default("en"),
  series: z.enum(SERIES).optional(),
  limit: integer(1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
  offset: integer(0, 1_000_000, 0),
});

export async function GET(request: Request): Promise<Response> {
  const parsed = readQuery(request, query);
  if (!parsed.ok) return parsed.response;
  const { lang, series, limit, offset } = parsed.data;
  let content;
  try {
    const limitedResponse = await limitApi(request, loadEnv());
    if (limitedResponse) return limitedResponse;
    content = await loadContent();
  } catch {
    return jsonError(500, "the content directory could not be read");
  }
  const site = siteUrl();
  const matching = content.episodes.filter((e) => series === undefined || e.series === series);
  const episodes = matching.slice(offset, offset + limit).map((e) => {
    const r = resolveEpisode(e, lang);
    const fm = r.variant.frontMatter;
    const original = e.original.frontMatter;
    return {
      series: e.series,
      episode: e.episode,
      lang: r.contentLang,
      requested_lang: lang,
      fallback: r.fallback,
      languages: e.langs,
      title: fm.title,
      summary: fm.summary,
      date: e.date,
      url: absoluteUrl(site, paths.episode(lang, e.series, e.episode)),
      path: r.variant.path,
      tags: e.tags,
      models: original.models,
      sample: e.sample,
      window: original.window,
      confidence: original.metrics.confidence.value,
      correlation: original.metrics.correlation,
      regressions: original.metrics.regressions,
      improvements: original.metrics.improvements,
      run_id: original.run_id,
    };
  });
  let next: string | null = null;
  if (offset + limit < matching.length) {
    const url = new URL("/api/episodes", site);
    url.searchParams.set("lang", lang);
    if (series) url.searchParams.set("series", series);
    url.searchParams.set("limit", String(limit));
    url.searchParams.set("offset", String(offset + limit));
    next = url.toString();
  }
  return json({ lang, series: series ?? null, count: matching.length, limit, offset, next, episodes });
}
