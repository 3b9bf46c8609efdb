import { describe, expect, it, vi } from "vitest";
import { ogCovers, ogFontFamily, ogFonts } from "../lib/site/og-fonts";
import { isOgSafe, ogImage, ogSafe } from "../lib/site/og";

/**
 * Share cards in every language (lib/site/og-fonts.ts, lib/site/og.tsx): fonts from npm packages, nothing fetched,
 * each card rendered with the subsets its text needs; Hindi keeps the English title (satori does not shape Devanagari).
 */

const TITLES = {
  en: "int4 got faster and less accurate: the attention refactor slowed p95",
  de: "int4 schneller, aber ungenauer: größere Latenz nach dem Umbau",
  zh: "int4 变得更快但准确率下降：注意力重构拖慢 p95",
  hi: "int4 तेज़ हुआ पर सटीकता घटी: ध्यान रिफैक्टर ने p95 धीमा किया",
} as const;

describe("share-card fonts", () => {
  it("take Latin always and, for a Chinese title, exactly the Han subsets holding its characters", () => {
    const latin = ogFonts(TITLES.en, [700]);
    expect(latin.map((f) => f.name).sort()).toEqual(["noto-sans-devanagari-latin", "noto-sans-devanagari-latin-ext"]);
    const zh = ogFonts(TITLES.zh, [700]);
    const han = zh.filter((f) => f.name.startsWith("noto-sans-sc-"));
    expect(han.length).toBeGreaterThan(0);
    expect(han.length).toBeLessThan(20);
    // Every character of the title is in one of them (so nothing is fetched), and Latin is listed first.
    expect(ogCovers(TITLES.zh)).toBe(true);
    expect(ogFontFamily(zh).startsWith('"noto-sans-devanagari-latin')).toBe(true);
  });

  it("keep German and Chinese titles as written, and refuse a Devanagari one (the card falls back to English)", () => {
    expect(isOgSafe(TITLES.de)).toBe(true);
    expect(isOgSafe(TITLES.zh)).toBe(true);
    expect(isOgSafe(TITLES.hi)).toBe(false);
    expect(ogSafe("p95 “up” — 3…")).toBe('p95 "up" - 3...');
  });

  it("render one card per language as a PNG without fetching anything", async () => {
    const fetches: string[] = [];
    const realFetch = globalThis.fetch;
    vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      // next/og loads its own WebAssembly from data: URLs; any network request is a font it had to look for.
      if (!url.startsWith("data:")) fetches.push(url);
      return realFetch(input, init);
    });
    try {
      const sizes: Record<string, number> = {};
      for (const [lang, title] of Object.entries(TITLES)) {
        const shown = isOgSafe(title) ? title : TITLES.en;
        const png = Buffer.from(await ogImage({ eyebrow: "Chimera - Episode 3", title: shown, footer: "Banterblogs - 2026-12-06" }).arrayBuffer());
        expect(png.subarray(1, 4).toString("latin1"), lang).toBe("PNG");
        sizes[lang] = png.length;
      }
      expect(fetches).toEqual([]);
      // The Chinese card draws its own glyphs: a different image from the English one.
      expect(sizes.zh).not.toBe(sizes.en);
      expect(sizes.hi).toBe(sizes.en);
    } finally {
      vi.unstubAllGlobals();
    }
  }, 60_000);
});
