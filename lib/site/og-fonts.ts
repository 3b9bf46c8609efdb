import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Fonts for the Open Graph cards, from npm packages and nothing fetched: Noto Sans Devanagari's Latin and Latin
 * Extended subsets (English and German) and Noto Sans SC (a hundred subsets of Han characters, Chinese), as fontsource
 * publishes them. Devanagari is not drawn: next/og's renderer (satori) does not reorder Indic vowel signs — "किया"
 * came out as "कयिा", a misspelling on every Hindi card — so a Hindi card keeps the English title (og.tsx) until it
 * shapes them. next/og reads TTF, OTF and WOFF — not
 * WOFF2 — so the WOFF files are read. A card takes only the subsets its text needs, chosen by each subset's
 * unicode-range in the package's CSS: a Chinese title loads a few hundred kilobytes, not the whole 76 MB package.
 */

export interface OgFont {
  name: string;
  data: ArrayBuffer;
  weight: 400 | 700;
  style: "normal";
}

interface Face {
  family: string;
  /** The subset's name from the CSS comment, e.g. noto-sans-devanagari-latin-700-normal. */
  subset: string;
  file: string;
  ranges: [number, number][];
}

const PACKAGES = [
  { pkg: "@fontsource/noto-sans-devanagari", family: "Noto Sans Devanagari" },
  { pkg: "@fontsource/noto-sans-sc", family: "Noto Sans SC" },
] as const;

const packageDirs = new Map<string, string>();
/**
 * The directory of an installed package, found as Node finds one: node_modules in the working directory (the project,
 * where the build and the server run) or in a directory above it (an app built in a subdirectory of the project).
 */
function packageDir(pkg: string): string {
  const known = packageDirs.get(pkg);
  if (known) return known;
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", pkg);
    if (existsSync(path.join(candidate, "package.json"))) {
      packageDirs.set(pkg, candidate);
      return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error(`the share-card font package ${pkg} is not installed (npm install)`);
  }
}

const facesCache = new Map<string, Face[]>();

/** The @font-face blocks of a package's CSS for one weight: each subset's WOFF file and unicode ranges. */
export function fontFaces(pkg: string, family: string, weight: 400 | 700): Face[] {
  const key = `${pkg}:${weight}`;
  const cached = facesCache.get(key);
  if (cached) return cached;
  const css = readFileSync(path.join(packageDir(pkg), `${weight}.css`), "utf8");
  const faces: Face[] = [];
  for (const block of css.split("@font-face").slice(1)) {
    const file = /url\(\.\/files\/([^)]+\.woff)\) format\('woff'\)/.exec(block)?.[1];
    const range = /unicode-range:\s*([^;]+);/.exec(block)?.[1];
    if (!file || !range) continue;
    const ranges = range.split(",").map((r): [number, number] => {
      const [from, to] = r.trim().replace(/^U\+/i, "").split("-");
      return [parseInt(from, 16), parseInt(to ?? from, 16)];
    });
    faces.push({ family, subset: file.replace(/\.woff$/, ""), file, ranges });
  }
  facesCache.set(key, faces);
  return faces;
}

const dataCache = new Map<string, ArrayBuffer>();
function fontData(pkg: string, file: string): ArrayBuffer {
  const key = `${pkg}/${file}`;
  let data = dataCache.get(key);
  if (!data) {
    const bytes = readFileSync(path.join(packageDir(pkg), "files", file));
    data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    dataCache.set(key, data);
  }
  return data;
}

/**
 * The fonts a card needs for `text` at each weight: Latin always (it replaces next/og's built-in font), and every
 * subset holding one of the text's other characters. Characters no subset holds are left to the caller (ogSafe).
 */
export function ogFonts(text: string, weights: readonly (400 | 700)[] = [400, 700]): OgFont[] {
  const codes = [...new Set([...text].map((c) => c.codePointAt(0)!))].filter((c) => !isDevanagari(c));
  const fonts: OgFont[] = [];
  for (const weight of weights) {
    for (const { pkg, family } of PACKAGES) {
      for (const face of drawable(fontFaces(pkg, family, weight))) {
        const latin = family === "Noto Sans Devanagari" && /-latin(-ext)?-/.test(face.subset);
        const needed = codes.some((c) => c > 0x7e && face.ranges.some(([a, b]) => c >= a && c <= b));
        // Each subset its own name: satori keeps one font per name and weight, so subsets sharing a name would hide
        // each other's glyphs. The card's font-family lists them all (ogFontFamily).
        if (latin || needed) fonts.push({ name: subsetName(face), data: fontData(pkg, face.file), weight, style: "normal" });
      }
    }
  }
  return fonts;
}

/** The subsets a card may use: not Devanagari's own (see above). */
const drawable = (faces: Face[]) => faces.filter((f) => !/-devanagari-devanagari-/.test(f.subset));
/** Devanagari and its extensions: never drawn, even where a Han subset happens to hold a few of its letters. */
const isDevanagari = (c: number) => (c >= 0x0900 && c <= 0x097f) || (c >= 0xa8e0 && c <= 0xa8ff) || (c >= 0x1cd0 && c <= 0x1cff);

/** A subset's font name: its file's stem without weight and style, e.g. noto-sans-sc-17. */
const subsetName = (face: Face) => face.subset.replace(/-\d{3}-normal$/, "");

/** The CSS font-family of a card using `fonts`: every subset, Latin first. */
export function ogFontFamily(fonts: readonly OgFont[]): string {
  const names = [...new Set(fonts.map((f) => f.name))].sort((a, b) => Number(/-latin/.test(b)) - Number(/-latin/.test(a)));
  return names.map((n) => `"${n}"`).join(", ");
}

/** The drawable subsets of both packages (one weight: the same characters at every weight), read once. */
let coverFaces: Face[] | undefined;

/** Whether every character of `text` (but spaces) is in one of the fonts' subsets. */
export function ogCovers(text: string): boolean {
  const faces = (coverFaces ??= PACKAGES.flatMap(({ pkg, family }) => drawable(fontFaces(pkg, family, 700))));
  return [...text].every((ch) => {
    const c = ch.codePointAt(0)!;
    if (isDevanagari(c)) return false;
    return /\s/.test(ch) || faces.some((f) => f.ranges.some(([a, b]) => c >= a && c <= b));
  });
}
