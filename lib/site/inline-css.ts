import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * The site's stylesheet (app/globals.css, the one the App Router pages load
 * through the root layout) as text to inline in the static episode page: one
 * source for both, no extra request. Read once per process, lightly minified
 * (comments and layout whitespace; never inside quoted strings).
 */

let cached: string | undefined;

export function minifyCss(css: string): string {
  const parts = css.split(/("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return part; // a string literal
      return part
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\s+/g, " ")
        .replace(/\s*([{};,>])\s*/g, "$1")
        .replace(/:\s+/g, ":")
        .replace(/;}/g, "}");
    })
    .join("")
    .trim();
}

export function inlineCss(): string {
  if (cached === undefined) {
    const css = readFileSync(path.join(process.cwd(), "app", "globals.css"), "utf8");
    // `</style` can never end the element early.
    cached = minifyCss(css).replace(/<\//g, "<\\/");
  }
  return cached;
}
