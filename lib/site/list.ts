import type { Lang } from "./i18n";

/**
 * The episode index's search, filters, sort and paging: pure functions over a
 * small JSON list, shared by the client-side browser and the server-rendered
 * first view. State lives in the URL (?q=&series=&tag=&sort=&page=).
 * Client-safe.
 */

export interface IndexItem {
  id: string;
  series: string;
  episode: number;
  title: string;
  summary: string;
  date: string;
  href: string;
  tags: string[];
  models: string[];
  sample: boolean;
  /** The title/summary are the English original's (no translation in the page's language). */
  fallback: boolean;
  contentLang: Lang;
  confidence: number;
}

export const SORTS = ["newest", "oldest", "confidence"] as const;
export type Sort = (typeof SORTS)[number];

export interface ListQuery {
  q: string;
  series: string;
  tag: string;
  sort: Sort;
  page: number;
}

export const DEFAULT_QUERY: ListQuery = { q: "", series: "", tag: "", sort: "newest", page: 1 };
export const PAGE_SIZE = 10;

type ParamSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function read(source: ParamSource, name: string): string {
  if (typeof (source as { get?: unknown }).get === "function") return (source as { get(name: string): string | null }).get(name) ?? "";
  const v = (source as Record<string, string | string[] | undefined>)[name];
  return (Array.isArray(v) ? v[0] : v) ?? "";
}

/** Lenient: a bad value means the default (the index never fails on a hand-edited URL). */
export function parseListQuery(source: ParamSource): ListQuery {
  const sort = read(source, "sort");
  const page = Number.parseInt(read(source, "page"), 10);
  return {
    q: read(source, "q").slice(0, 200),
    series: read(source, "series"),
    tag: read(source, "tag"),
    sort: (SORTS as readonly string[]).includes(sort) ? (sort as Sort) : "newest",
    page: Number.isFinite(page) && page >= 1 ? page : 1,
  };
}

/** `?q=..&page=2`, defaults omitted; "" when everything is default. */
export function listQueryString(query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.series) params.set("series", query.series);
  if (query.tag) params.set("tag", query.tag);
  if (query.sort !== "newest") params.set("sort", query.sort);
  if (query.page > 1) params.set("page", String(query.page));
  const s = params.toString();
  return s ? `?${s}` : "";
}

const normalize = (s: string) => s.toLocaleLowerCase().normalize("NFKC");

export function matchesSearch(item: IndexItem, q: string): boolean {
  const terms = normalize(q).split(/\s+/).filter(Boolean);
  if (terms.length === 0) return true;
  const haystack = normalize(
    [item.title, item.summary, item.series, `ep-${String(item.episode).padStart(3, "0")}`, ...item.tags, ...item.models].join(" \u0000 "),
  );
  return terms.every((t) => haystack.includes(t));
}

export interface ListResult {
  items: IndexItem[];
  total: number;
  page: number;
  pages: number;
}

export function applyListQuery(all: readonly IndexItem[], query: ListQuery, pageSize = PAGE_SIZE): ListResult {
  const filtered = all.filter(
    (item) => (!query.series || item.series === query.series) && (!query.tag || item.tags.includes(query.tag)) && matchesSearch(item, query.q),
  );
  const sorted = [...filtered].sort((a, b) => {
    if (query.sort === "oldest") return a.date.localeCompare(b.date) || a.episode - b.episode;
    if (query.sort === "confidence") return b.confidence - a.confidence || b.date.localeCompare(a.date);
    return b.date.localeCompare(a.date) || b.episode - a.episode;
  });
  const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
  const page = Math.min(query.page, pages);
  return { items: sorted.slice((page - 1) * pageSize, page * pageSize), total: sorted.length, page, pages };
}
