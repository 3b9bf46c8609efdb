import { z } from "zod";

/**
 * A computed fact: the only way a number reaches an episode. The council
 * computes facts from ClickHouse rows (lib/analysis); writers refer to them by
 * id (`{{fact:<id>}}`, see references.ts) and never type a figure; one
 * formatter renders them (value, rounding, unit, sign, locale).
 */

export const factUnit = z.enum([
  "ms",
  "tokens/s",
  "usd",
  "ratio",
  "percent",
  "count",
  "days",
  "hours",
  "coefficient",
  "score",
  "mb",
  "p_value",
  "date",
  "points",
]);
export type FactUnit = z.infer<typeof factUnit>;

export const fact = z.object({
  id: z.string().regex(/^[a-z0-9_.]+$/),
  label: z.string(),
  /** For unit "date": milliseconds since the epoch (UTC). */
  value: z.number(),
  unit: factUnit,
  /** Decimal places the value is rendered with. */
  decimals: z.number().int().min(0).max(6),
  /** Rendered with an explicit sign (+12.5 %): changes, whose direction matters. */
  signed: z.boolean().optional(),
  source: z.string(),
});
export type Fact = z.infer<typeof fact>;

export { LANGS, NUMBER_LOCALES, TRANSLATION_LANGS, type Lang, type TranslationLang } from "./langs";
import { NUMBER_LOCALES, type Lang } from "./langs";

/** The word for accuracy points after a figure, per language. */
const POINTS: Record<Lang, string> = { en: "points", de: "Punkte", zh: "个点", hi: "अंक" };

/** Significant digits kept for p-values (they are never rounded to 0). */
const P_VALUE_DIGITS = 2;

/**
 * THE formatter: a fact as a reader sees it, in a language. Every number of
 * every episode file goes through here (Intl.NumberFormat: German gets 1,5).
 */
export function formatFact(f: Pick<Fact, "value" | "unit" | "decimals" | "signed">, lang: Lang = "en"): string {
  const locale = NUMBER_LOCALES[lang];
  const signDisplay = f.signed ? ("exceptZero" as const) : ("auto" as const);
  const fixed = (value: number, decimals = f.decimals) =>
    new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals, signDisplay }).format(value);
  switch (f.unit) {
    case "date":
      return new Intl.DateTimeFormat(locale, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }).format(new Date(f.value));
    case "percent":
      return new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: f.decimals, maximumFractionDigits: f.decimals, signDisplay }).format(
        f.value / 100,
      );
    case "usd":
      return new Intl.NumberFormat(locale, {
        style: "currency",
        currency: "USD",
        minimumFractionDigits: f.decimals,
        maximumFractionDigits: f.decimals,
        signDisplay,
      }).format(f.value);
    case "ms":
      return `${fixed(f.value)} ms`;
    case "tokens/s":
      return `${fixed(f.value)} tokens/s`;
    case "mb":
      return `${fixed(f.value)} MB`;
    case "points":
      // Accuracy points (a fraction × 100): "1.5 points", never a percent of a percent.
      return `${fixed(f.value)} ${POINTS[lang]}`;
    case "hours":
      return `${fixed(f.value)} h`;
    case "p_value": {
      // Small p-values keep their significant digits: 0.00031, never 0.00.
      if (f.value !== 0 && Math.abs(f.value) < 0.01) {
        return new Intl.NumberFormat(locale, {
          maximumSignificantDigits: P_VALUE_DIGITS,
          notation: Math.abs(f.value) < 1e-4 ? "scientific" : "standard",
        }).format(f.value);
      }
      return fixed(f.value, Math.max(f.decimals, 2));
    }
    default:
      return fixed(f.value);
  }
}

/** The value a fact states once rendered at its decimals (what a reader can check). */
export function roundTo(value: number, decimals: number): number {
  const abs = Math.abs(value);
  const shifted = Math.round(Number(`${abs.toFixed(Math.min(20, decimals + 8))}e${decimals}`));
  return Math.sign(value) * Number(`${shifted}e-${decimals}`);
}
