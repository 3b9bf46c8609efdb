import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * lib/site mixes modules the browser may load with server-only ones. The
 * browser-safe ones (client islands and pages' shared helpers) must not reach
 * ClickHouse, the environment, Node's APIs or the content reader, directly or
 * through what they import; type-only imports are erased and do not count.
 * Server-only modules say so in their name (status.server.ts) or header.
 */

const ROOT = path.resolve(__dirname, "..");
const BROWSER_SAFE = [
  "episode-metrics.ts",
  "events.ts",
  "format.ts",
  "i18n.ts",
  "list.ts",
  "og-meta.ts",
  "paths.ts",
  "rum.ts",
  "static-markup.ts",
  "status.ts",
];
const FORBIDDEN = [/^node:/, /\/clickhouse\/(client|index)$/, /^@clickhouse\//, /\/env$/, /\/content\//, /^next\//, /\.server$/];

function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)";/gms), ...text.matchAll(/^export\s+(?!type\b)[^;]*?from\s+"([^"]+)";/gms)].map(
    (m) => m[1],
  );
}

function resolve(from: string, spec: string): string | undefined {
  const base = spec.startsWith("@/") ? path.join(ROOT, spec.slice(2)) : spec.startsWith(".") ? path.resolve(path.dirname(from), spec) : undefined;
  if (!base) return undefined;
  for (const ext of [".ts", ".tsx", "/index.ts"]) {
    try {
      readFileSync(base + ext);
      return base + ext;
    } catch {
      // next
    }
  }
  return undefined;
}

function reachable(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const specs = runtimeImports(file);
  seen.set(file, specs);
  for (const spec of specs) {
    const next = resolve(file, spec);
    if (next) reachable(next, seen);
  }
  return seen;
}

describe("lib/site: browser-safe modules", () => {
  for (const name of BROWSER_SAFE) {
    it(`${name} reaches no server-only import`, () => {
      const offending: string[] = [];
      for (const [file, specs] of reachable(path.join(ROOT, "lib/site", name))) {
        for (const spec of specs) if (FORBIDDEN.some((re) => re.test(spec))) offending.push(`${path.relative(ROOT, file)} → ${spec}`);
      }
      expect(offending).toEqual([]);
    });
  }
});
