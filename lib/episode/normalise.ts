import unhomoglyph from "unhomoglyph";

/**
 * Text as a reader sees it, before anything is matched against it. A writer
 * can make a number word or a unit look like something else to a matcher
 * while a reader still reads it: full-width or compatibility forms (NFKC
 * folds them), invisible characters inside a word (`tw\u200bice`, a soft
 * hyphen), and letters of another script that look the same (Cyrillic `і`
 * in `twіce`). Unicode's own security mechanisms are the model: NFKC, then
 * default-ignorable code points removed, then confusables mapped to their
 * skeleton (UTS #39, the confusables table as the `unhomoglyph` package ships
 * it).
 */

/** Default-ignorable code points: zero-width characters, soft hyphen, combining grapheme joiner, variation selectors, bidi controls. */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/** What a reader sees: ignorables removed, compatibility forms folded (NFKC). */
export function visible(text: string): string {
  return text.replace(IGNORABLE, "").normalize("NFKC").replace(IGNORABLE, "");
}

/**
 * Each character that is confusable with Latin letters (UTS #39's table, as
 * the `unhomoglyph` package ships it) replaced by them, case kept: Cyrillic
 * `і` and Greek `Ι` become `i` and `I`. ASCII stays as it is (the table would
 * turn `m` into `rn`), and so does every character whose prototype is not
 * Latin (Devanagari, Han): those scripts are matched by their own lexicons.
 */
export function latinPrototype(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) {
      out += ch;
      continue;
    }
    const mapped = unhomoglyph(ch.normalize("NFD")).normalize("NFC");
    out += /^[A-Za-z]+$/.test(mapped) ? mapped : ch;
  }
  return out;
}

/**
 * The key a token is matched by: visible, Latin prototypes for look-alikes,
 * lower case, and for Devanagari without the nukta and with chandrabindu as
 * anusvara (फ़ीसदी, फीसदी and पाँच, पांच are spelt both ways). Lexicon
 * entries go through the same function.
 */
export function matchKey(text: string): string {
  return latinPrototype(visible(text))
    .toLowerCase()
    .replace(/\u093C/g, "")
    .replace(/\u0901/g, "\u0902");
}

/** Dash punctuation and minus signs of every script: `-`, U+2010–2015, U+2212, `－`, `﹣`, `⁻`, `₋`. */
export const DASH = /[\p{Pd}\u2212\u207B\u208B\uFE63\uFF0D]/u;
/** A character that turns a figure into its negative, positive or approximate: any dash, plus, plus-minus, tilde, comparison sign. */
export const SIGN = /[\p{Pd}\u2212\u207A\u207B\u208A\u208B\uFE62\uFE63\uFF0B\uFF0D+±∓~∼≈≃<>≤≥＜＞]/u;
