import { ImageResponse } from "next/og";
import { OG_SIZE } from "./og-meta";

/**
 * Open Graph images with next/og and its built-in font only (no font is
 * fetched: the build is offline). That font covers Latin script, and
 * ImageResponse would try to download fonts for other scripts, so text is
 * reduced to what it can draw; callers pass the English title when a
 * translation's title is in another script.
 */

export { OG_SIZE };

/** Characters the built-in font draws (Basic Latin, Latin-1, Latin Extended-A, common punctuation). */
export function ogSafe(text: string): string {
  return text
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[–—]/g, "-")
    .replace(/…/g, "...")
    .replace(/[^\u0020-\u007E\u00A0-\u017F]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

export const isOgSafe = (text: string) => ogSafe(text) === text.replace(/\s+/g, " ").trim();

export function ogImage({ eyebrow, title, footer, sample }: { eyebrow: string; title: string; footer: string; sample?: boolean }): ImageResponse {
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
      }}
    >
      <div style={{ display: "flex", fontSize: 30, color: "#b19cff", gap: 24 }}>
        <span>{ogSafe(eyebrow)}</span>
        {sample ? <span style={{ color: "#ffb59b" }}>SAMPLE DATA</span> : null}
      </div>
      <div style={{ display: "flex", fontSize: title.length > 60 ? 60 : 72, fontWeight: 700, lineHeight: 1.15 }}>{ogSafe(title)}</div>
      <div style={{ display: "flex", fontSize: 28, color: "#a0a7b4" }}>{ogSafe(footer)}</div>
    </div>,
    OG_SIZE,
  );
}
