/**
 * The languages of episodes and of the site, declared once. No imports: the
 * site's client islands read it too.
 */
export const LANGS = ["en", "de", "zh", "hi"] as const;
export type Lang = (typeof LANGS)[number];
/** The languages episodes are translated into: every language but the original's. */
export const TRANSLATION_LANGS = ["de", "zh", "hi"] as const satisfies readonly Exclude<Lang, "en">[];
export type TranslationLang = (typeof TRANSLATION_LANGS)[number];
/** The locale each language renders numbers and dates in. */
export const NUMBER_LOCALES: Record<Lang, string> = { en: "en-US", de: "de-DE", zh: "zh-CN", hi: "hi-IN" };
