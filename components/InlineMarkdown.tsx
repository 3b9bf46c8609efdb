import { Fragment } from "react";
import { escapeHtml } from "@/lib/site/static-markup";

/**
 * The inline Markdown a UI string may carry (lib/site/i18n.ts): `code` and
 * **strong**, nothing else (no links, no HTML: the strings are ours, and a
 * notice is no place for more). Everything else is text, escaped as usual.
 * One parser for both outputs: React nodes for the pages, an HTML string for
 * the RSS feed.
 */

type Part = { kind: "text" | "code" | "strong"; text: string };

const INLINE = /`([^`]+)`|\*\*([^*]+)\*\*/g;

export function parseInlineMarkdown(source: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(INLINE)) {
    if (m.index > last) parts.push({ kind: "text", text: source.slice(last, m.index) });
    parts.push(m[1] !== undefined ? { kind: "code", text: m[1] } : { kind: "strong", text: m[2] });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push({ kind: "text", text: source.slice(last) });
  return parts;
}

export function InlineMarkdown({ text }: { text: string }) {
  return (
    <>
      {parseInlineMarkdown(text).map((p, i) =>
        p.kind === "code" ? <code key={i}>{p.text}</code> : p.kind === "strong" ? <strong key={i}>{p.text}</strong> : <Fragment key={i}>{p.text}</Fragment>,
      )}
    </>
  );
}

/** The same, as escaped HTML (feeds). */
export function inlineMarkdownHtml(text: string): string {
  return parseInlineMarkdown(text)
    .map((p) =>
      p.kind === "code" ? `<code>${escapeHtml(p.text)}</code>` : p.kind === "strong" ? `<strong>${escapeHtml(p.text)}</strong>` : escapeHtml(p.text),
    )
    .join("");
}
