import type { Lang } from "./fact";
import { latinPrototype, matchKey, visible } from "./normalise";

/**
 * Number words by family, not by exact token: a writer who may not type a
 * figure can still state one in words — "tenfold", "doubling", "a fifth", "a
 * score of", "XIV", "verdoppelte", "翻倍", "डेढ़". Each language's family
 * covers cardinals with their compounds, ordinals and fractions,
 * multiplicatives with their inflections, collectives and scale words.
 * Tokens are matched by `matchKey` (normalise.ts), so invisible characters
 * and look-alike letters do not hide a word.
 *
 * English, Chinese and Hindi words are numbers in every file (a writer can
 * switch language, and their scripts or spellings cannot be mistaken); German
 * in every file too, except the few German words that are also English ones
 * ("null", "elf"), which count in German files only.
 */

const key = (words: string[]) => new Set(words.map(matchKey));

// ---------------------------------------------------------------- English

const EN_CORE =
  "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion";
/** Stems that only occur before -th: fifth, eighth, ninth, twelfth, twentieth. */
const EN_ORDINAL_STEM = "fif|eigh|nin|twelf|twentie|thirtie|fortie|fiftie|sixtie|seventie|eightie|ninetie";
const EN_COMPOUND = new RegExp(`^(?:(?:${EN_CORE})+(?:fold|folds)?|(?:${EN_CORE})*(?:${EN_CORE}|${EN_ORDINAL_STEM})ths?)$`);
const EN_WORDS = key([
  ...EN_CORE.split("|").map((w) => `${w}s`),
  "twice",
  "thrice",
  ...["double", "triple", "quadruple", "quintuple", "halve"].flatMap((w) => [w, `${w}s`, `${w}d`, `${w.slice(0, -1)}ing`]),
  "doubly",
  "triply",
  "half",
  "halves",
  "third",
  "thirds",
  "quarter",
  "quarters",
  "dozen",
  "dozens",
  "couple",
  "couples",
  "lakh",
  "lakhs",
  "crore",
  "crores",
  "myriad",
]);
/** Word sequences that state a number together, though each word alone does not ("score" is also a confidence score). */
const EN_PHRASES = [/\ba score of\b/, /\bscores of\b/, /\borders? of magnitude\b/, /\ba pair of\b/];

// ---------------------------------------------------------------- German

const DE_CORE = "eins|ein|zwei|drei|vier|fünf|sechs|sech|sieben|sieb|acht|neun|zehn|elf|zwölf|zwan|zig|ßig|und|hundert|tausend";
const DE_SUFFIX = "fach|fache|fachen|facher|faches|mal|malig|malige|maligen|tel|tels|te|ten|ter|tes|ste|sten|ster|stes";
const DE_COMPOUND = new RegExp(`^(?:${DE_CORE})+(?:${DE_SUFFIX})?$`);
const DE_STEMS = [/^ver(?:doppel|dreifach|vierfach|fünffach|zehnfach|hundertfach|tausendfach|vielfach)/, /^halbier/, /^dutzend/, /^doppelt/];
const DE_WORDS = key([
  "million",
  "millionen",
  "milliarde",
  "milliarden",
  "anderthalb",
  "eineinhalb",
  "zweieinhalb",
  "halb",
  "halbe",
  "halben",
  "halber",
  "halbes",
  "hälfte",
  "hälften",
  "drittel",
  "achtel",
  "dritte",
  "dritten",
  "dritter",
  "drittes",
  "verdoppelt",
]);
/** German words that are English words too: numbers in German files only. */
const DE_ONLY_IN_GERMAN = key(["null", "elf"]);
/** Words the compound pattern would take that are not numbers ("ein" is the article, "einmal" also means "once upon"). */
const DE_NOT_NUMBERS = key(["ein", "und", "einmal", "einte", "einten"]);

// ---------------------------------------------------------------- Chinese

/** Han numerals: simplified, traditional (萬, 億, 兩) and financial (壹, 贰/貳, 叁/參 …), and the multiplicative and fraction characters. */
const ZH_NUMERAL = /[〇零二三四五六七八九十百千万亿两俩廿卅萬億兩壹贰貳叁參肆伍陆陸柒捌玖拾佰仟半倍]|一(?=[倍半成百千万亿十萬億])|翻番/u;
/** Fractions: 十分之一, 三分之二. Matched before 十分 ("very") is set aside. */
const ZH_FRACTION = /[〇零一二三四五六七八九十百千万两壹贰貳叁參肆伍陆陸柒捌玖拾]*分之[〇零一二三四五六七八九十百千万两壹贰貳叁參肆伍陆陸柒捌玖拾]*/u;
/** Words that hold those characters without stating a number. */
const ZH_WORDS_OK = ["十分", "万一", "千万", "一一"];

// ---------------------------------------------------------------- Hindi

const HI_CARDINALS = [
  "शून्य",
  "दो",
  "तीन",
  "चार",
  "पाँच",
  "छह",
  "छः",
  "छै",
  "सात",
  "आठ",
  "नौ",
  "दस",
  "ग्यारह",
  "बारह",
  "तेरह",
  "चौदह",
  "पंद्रह",
  "पन्द्रह",
  "सोलह",
  "सत्रह",
  "अठारह",
  "उन्नीस",
  "बीस",
  "इक्कीस",
  "बाईस",
  "तेईस",
  "चौबीस",
  "पच्चीस",
  "छब्बीस",
  "सत्ताईस",
  "अट्ठाईस",
  "उनतीस",
  "तीस",
  "इकतीस",
  "इकत्तीस",
  "बत्तीस",
  "तैंतीस",
  "चौंतीस",
  "पैंतीस",
  "छत्तीस",
  "सैंतीस",
  "अड़तीस",
  "उनतालीस",
  "उंतालीस",
  "चालीस",
  "इकतालीस",
  "बयालीस",
  "तैंतालीस",
  "चौवालीस",
  "चवालीस",
  "पैंतालीस",
  "छियालीस",
  "सैंतालीस",
  "अड़तालीस",
  "उनचास",
  "पचास",
  "इक्यावन",
  "बावन",
  "तिरपन",
  "तिरेपन",
  "चौवन",
  "चौव्वन",
  "पचपन",
  "छप्पन",
  "सत्तावन",
  "अट्ठावन",
  "उनसठ",
  "साठ",
  "इकसठ",
  "बासठ",
  "तिरसठ",
  "चौंसठ",
  "पैंसठ",
  "छियासठ",
  "सड़सठ",
  "सरसठ",
  "अड़सठ",
  "उनहत्तर",
  "सत्तर",
  "इकहत्तर",
  "बहत्तर",
  "तिहत्तर",
  "चौहत्तर",
  "पचहत्तर",
  "छिहत्तर",
  "सतहत्तर",
  "अठहत्तर",
  "उन्यासी",
  "उनासी",
  "अस्सी",
  "इक्यासी",
  "बयासी",
  "तिरासी",
  "चौरासी",
  "पचासी",
  "छियासी",
  "सत्तासी",
  "अट्ठासी",
  "नवासी",
  "नब्बे",
  ...["इक्या", "बा", "तिरा", "चौरा", "पचा", "छिया", "सत्ता", "अट्ठा", "निन्या"].flatMap((s) => [`${s}नबे`, `${s}नवे`]),
  "सौ",
];
const HI_WORDS = key([
  ...HI_CARDINALS,
  // scale words and collectives
  "सैकड़ा",
  "सैकड़े",
  "सैकड़ों",
  "हज़ार",
  "हज़ारों",
  "लाख",
  "लाखों",
  "करोड़",
  "करोड़ों",
  "अरब",
  "अरबों",
  "खरब",
  "दर्जन",
  "दर्जनों",
  // fractions
  "डेढ़",
  "ढाई",
  "सवा",
  "साढ़े",
  "पौने",
  "पौना",
  "आधा",
  "आधी",
  "आधे",
  "तिहाई",
  "चौथाई",
  // multiplicatives and ordinals
  "दुगना",
  "दुगनी",
  "दुगने",
  "दुगुना",
  "दुगुनी",
  "तीसरा",
  "तीसरी",
  "तीसरे",
  "चौथा",
  "चौथी",
  "चौथे",
]);
/** -गुना (-fold) on any stem: दोगुना, दसगुनी; and -वाँ ordinals on a cardinal: पाँचवाँ, दसवीं. */
const HI_FOLD = new RegExp(`${matchKey("गुन")}[ाीे]$`, "u");
const HI_ORDINAL = new RegExp(`^(?:${HI_CARDINALS.map(matchKey).join("|")})(?:${["वाँ", "वां", "वीं", "वें", "वे"].map(matchKey).join("|")})$`, "u");

// ---------------------------------------------------------------- Roman numerals

const ROMAN = /^M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$/;
/** Upper-case acronyms that happen to be valid Roman numerals. */
const ROMAN_ACRONYMS = new Set(["CI", "CD", "CLI", "MD", "DC", "DL", "ML", "MC", "CV", "CC", "DI", "MI", "MIX", "DIV", "LCD", "MM", "XL", "LI", "MIL"]);

export interface NumberWord {
  word: string;
  index: number;
  kind: "number word" | "Roman numeral" | "Chinese numeral";
}

/** A token is a number word (lower-cased key). */
function isNumberWord(k: string, lang: Lang): boolean {
  if (EN_WORDS.has(k) || EN_COMPOUND.test(k)) return true;
  if (DE_WORDS.has(k) || DE_STEMS.some((s) => s.test(k))) return true;
  if (DE_ONLY_IN_GERMAN.has(k)) return lang === "de";
  if (DE_COMPOUND.test(k) && !DE_NOT_NUMBERS.has(k)) return true;
  if (HI_WORDS.has(k) || HI_FOLD.test(k) || HI_ORDINAL.test(k)) return true;
  return false;
}

const TOKEN = /[\p{L}\p{M}]+/gu;

/**
 * Number words, Roman numerals and Han numerals in a piece of visible text.
 * Words joined by a hyphen or dash are tried joined too ("dou-bled").
 */
export function numberWordsIn(text: string, lang: Lang): NumberWord[] {
  const shown = visible(text);
  const found: NumberWord[] = [];
  const tokens = [...shown.matchAll(TOKEN)];
  for (const [i, m] of tokens.entries()) {
    const word = m[0];
    const k = matchKey(word);
    if (isNumberWord(k, lang)) found.push({ word, index: m.index, kind: "number word" });
    else {
      const latin = latinPrototype(word).replace(/l/g, "I");
      if (latin.length >= 2 && !/\p{Ll}/u.test(word) && ROMAN.test(latin) && !ROMAN_ACRONYMS.has(latin))
        found.push({ word, index: m.index, kind: "Roman numeral" });
    }
    const next = tokens[i + 1];
    if (next && /^[\p{Pd}\u00AD]$/u.test(shown.slice(m.index + word.length, next.index))) {
      const joined = `${word}${next[0]}`;
      if (isNumberWord(matchKey(joined), lang) && !isNumberWord(k, lang) && !isNumberWord(matchKey(next[0]), lang))
        found.push({ word: `${word}-${next[0]}`, index: m.index, kind: "number word" });
    }
  }
  const lower = matchKey(shown);
  for (const phrase of EN_PHRASES) {
    const m = phrase.exec(lower);
    if (m) found.push({ word: m[0], index: m.index, kind: "number word" });
  }
  const fraction = ZH_FRACTION.exec(shown);
  if (fraction && fraction[0] !== "分之") found.push({ word: fraction[0], index: fraction.index, kind: "Chinese numeral" });
  let han = shown;
  for (const ok of ZH_WORDS_OK) han = han.split(ok).join(" ".repeat(ok.length));
  const numeral = ZH_NUMERAL.exec(han);
  if (numeral) found.push({ word: numeral[0], index: numeral.index, kind: "Chinese numeral" });
  return found;
}
