import { ImageResponse } from "next/og";
import { ogCovers, ogFontFamily, ogFonts } from "./og-fonts";
import { OG_SIZE } from "./og-meta";

/**
 * Open Graph images with next/og, in every script the site is written in: the fonts come from npm packages
 * (og-fonts.ts: Noto Sans Devanagari's Latin and Devanagari subsets, Noto Sans SC's Han subsets), chosen for the
 * card's text, and nothing is fetched — ImageResponse would download a font for a character none of them holds, so
 * such characters (emoji, other scripts) are dropped from the text instead.
 */

export { OG_SIZE };

/** The text with typographic quotes and dashes made plain, and characters no card font holds dropped. */
export function ogSafe(text: string): string {
  const plain = text.replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/[–—]/g, "-").replace(/…/g, "...").replace(/\s+/g, " ").trim();
  return [...plain].filter((ch) => ogCovers(ch)).join("");
}

export const isOgSafe = (text: string) => ogSafe(text) === text.replace(/\s+/g, " ").trim();

export function ogImage({ eyebrow, title, footer, sample }: { eyebrow: string; title: string; footer: string; sample?: boolean }): ImageResponse {
  const [head, main, foot] = [ogSafe(eyebrow), ogSafe(title), ogSafe(footer)];
  const fonts = ogFonts(`${head}${main}${foot}${sample ? "SAMPLE DATA" : ""}`);
  return new ImageResponse(
    <div
      style={{
        width: "100%",
        height: "100%",
        display: "flex",
        flexDirection: "column",
        justifyContent: "space-between",
        padding: 72,
        background: "#0f1115",
        color: "#e8eaef",
        fontFamily: ogFontFamily(fonts),
      }}
    >
      <div style={{ display: "flex", fontSize: 30, color: "#b19cff", gap: 24 }}>
        <span>{head}</span>
        {sample ? <span style={{ color: "#ffb59b" }}>SAMPLE DATA</span> : null}
      </div>
      <div style={{ display: "flex", fontSize: title.length > 60 ? 60 : 72, fontWeight: 700, lineHeight: 1.15 }}>{main}</div>
      <div style={{ display: "flex", fontSize: 28, color: "#a0a7b4" }}>{foot}</div>
    </div>,
    { ...OG_SIZE, fonts },
  );
}
