import { LANG_LOCALES, type Lang } from "./i18n";

/**
 * Numbers are written the way the episode prose writes them (en-US digits and
 * separators: translations keep every number unchanged), dates in the page's
 * language. Client-safe.
 */

export function formatNumber(value: number | null | undefined, maxDecimals = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { maximumFractionDigits: maxDecimals });
}

/** A fraction (0..1) as a percentage. */
export function formatFractionPct(value: number | null | undefined, decimals = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `${(value * 100).toLocaleString("en-US", { maximumFractionDigits: decimals })}%`;
}

export function formatUsd(value: number | null | undefined, decimals = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `$${value.toLocaleString("en-US", { minimumFractionDigits: Math.min(2, decimals), maximumFractionDigits: decimals })}`;
}

export function formatDate(iso: string, lang: Lang, style: "medium" | "long" = "medium"): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Intl.DateTimeFormat(LANG_LOCALES[lang], { dateStyle: style, timeZone: "UTC" }).format(t);
}

export function formatDateTime(iso: string, lang: Lang): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Intl.DateTimeFormat(LANG_LOCALES[lang], { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(t) + " UTC";
}

/** `2026-11-03` → `11-03` (chart axes). */
export function shortDay(day: string): string {
  return day.length >= 10 ? day.slice(5, 10) : day;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

/** A claim's value with its unit, as the prose would state it. */
export function formatClaimValue(value: number, unit: string): string {
  switch (unit) {
    case "ms":
      return `${formatNumber(value, 3)} ms`;
    case "tokens/s":
      return `${formatNumber(value, 3)} tokens/s`;
    case "usd":
      return formatUsd(value, 6);
    case "percent":
      return `${formatNumber(value, 3)}%`;
    case "days":
      return `${formatNumber(value, 0)} d`;
    default:
      return formatNumber(value, 4);
  }
}
