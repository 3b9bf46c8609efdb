import { z } from "zod";
import { COUNT_NOUNS, nounText } from "./nouns";

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
  "times",
  "pct_per_run",
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
  /** A count's noun, rendered with it ("42 sessions", nouns.ts); set by code from the id. Older facts have none and render bare. */
  noun: z.enum(COUNT_NOUNS).optional(),
  source: z.string(),
});
export type Fact = z.infer<typeof fact>;

export { LANGS, NUMBER_LOCALES, TRANSLATION_LANGS, type Lang, type TranslationLang } from "./langs";
import { NUMBER_LOCALES, type Lang } from "./langs";

/** The word for accuracy points after a figure, per language. */
const POINTS: Record<Lang, string> = { en: "points", de: "Punkte", zh: "个点", hi: "अंक" };
/** A ratio told as a multiple ("2.04×": the noise deviation after / before), per language. */
const TIMES: Record<Lang, (n: string) => string> = { en: (n) => `${n}×`, de: (n) => `${n}-fach`, zh: (n) => `${n}倍`, hi: (n) => `${n} गुना` };
/** A slope in percent of the level per benchmark run ("+0.41% per run"), per language. */
const PER_RUN: Record<Lang, (pct: string) => string> = {
  en: (p) => `${p} per run`,
  de: (p) => `${p} pro Lauf`,
  zh: (p) => `每次运行${p}`,
  hi: (p) => `${p} प्रति रन`,
};

/** Significant digits p- and q-values are printed with at or above the floor: 0.012, 0.0012, 0.50 (never 0.00). */
const P_VALUE_DIGITS = 2;
/**
 * Below this a p- or q-value is printed as a floor, "< 0.001", as statisticians print it: never "0.00", "q = 0" or
 * "7E-6" (digits beyond the floor claim a precision that the tails of a t or normal approximation do not have).
 */
export const P_VALUE_FLOOR = 0.001;

/** A p- or q-value that renders as its floor ("< 0.001"): its rendering carries its own "<" (references.ts, docs/truth-rule.md). */
export function isPValueFloor(f: Pick<Fact, "value" | "unit">): boolean {
  return f.unit === "p_value" && !(f.value >= P_VALUE_FLOOR);
}

/**
 * THE formatter: a fact as a reader sees it, in a language. Every number of
 * every episode file goes through here (Intl.NumberFormat: German gets 1,5),
 * a count with its noun when it carries one (nouns.ts).
 */
export function formatFact(f: Pick<Fact, "value" | "unit" | "decimals" | "signed" | "noun">, lang: Lang = "en"): string {
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
    case "times":
      // A ratio as a multiple, never as a percent or a number word ("twice"): the noise deviation after / before.
      return TIMES[lang](fixed(f.value));
    case "pct_per_run":
      // A drift's slope: percent of the level per benchmark run (runs, not days: their spacing is the benchmarks' cadence).
      return PER_RUN[lang](
        new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: f.decimals, maximumFractionDigits: f.decimals, signDisplay }).format(
          f.value / 100,
        ),
      );
    case "points":
      // Accuracy points (a fraction × 100): "1.5 points", never a percent of a percent.
      return `${fixed(f.value)} ${POINTS[lang]}`;
    case "hours":
      return `${fixed(f.value)} h`;
    case "p_value": {
      // A floor below 0.001 ("< 0.001", a no-break space so the sign never ends a line), two significant digits above
      // it (0.012, 0.0012, 0.50), in every locale; decimals do not apply.
      if (isPValueFloor(f)) {
        const floor = new Intl.NumberFormat(locale, { minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(P_VALUE_FLOOR);
        return `<\u00A0${floor}`;
      }
      return new Intl.NumberFormat(locale, { minimumSignificantDigits: P_VALUE_DIGITS, maximumSignificantDigits: P_VALUE_DIGITS }).format(f.value);
    }
    case "count":
      // A count with its noun: what it counts is the fact's, never the writer's ("42 sessions", "42 个会话").
      return f.noun ? `${fixed(f.value)} ${nounText(f.noun, lang, f.value)}` : fixed(f.value);
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
