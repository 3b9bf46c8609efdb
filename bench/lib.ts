import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Shared pieces of the bench sections: progress, timing, figures, temp dirs, the table. */

const started = performance.now();

/** A progress line on stderr, with the time since the bench started. */
export function say(line: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${line}\n`);
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One line of the printed table (and of results.json). */
export interface Row {
  section: string;
  measure: string;
  value: string;
  /** "a vs b" figure, e.g. "route 0.42× raw". */
  ratio?: string;
  note?: string;
}

export interface SectionResult {
  rows: Row[];
  /** Everything measured, for results.json. */
  details: Record<string, unknown>;
}

export const fmt = {
  ms: (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`),
  rate: (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0)),
  mib: (bytes: number | undefined) => (bytes === undefined ? "n/a" : `${(bytes / 2 ** 20).toFixed(0)} MiB`),
  kb: (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`,
  x: (ratio: number) => `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×`,
};

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `muse-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The table, as printed and as quoted in the README. */
export function renderTable(rows: Row[]): string {
  const header: Row = { section: "section", measure: "measure", value: "value", ratio: "ratio", note: "note" };
  const all = [header, ...rows];
  const cols = ["section", "measure", "value", "ratio", "note"] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((r) => (r[c] ?? "").length))])) as Record<(typeof cols)[number], number>;
  const line = (r: Row) => `| ${cols.map((c) => (r[c] ?? "").padEnd(width[c])).join(" | ")} |`;
  return [line(header), `|${cols.map((c) => "-".repeat(width[c] + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
