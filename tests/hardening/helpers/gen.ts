import { seededRandom } from "../../../lib/seed/random";

/**
 * A seeded generator for the load and fuzz suites (fast-check is not a
 * dependency): the same seed gives the same inputs, so a failure reproduces
 * with HARDENING_SEED=<the seed printed in the failure>.
 */

export const HARDENING_SEED = Number(process.env.HARDENING_SEED ?? 20_261_122);

export class Gen {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length) % items.length];
  }
  hex(length: number): string {
    let s = "";
    for (let i = 0; i < length; i++) s += "0123456789abcdef"[this.int(0, 15)];
    return s;
  }
  /** A version-4 UUID from the generator. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[this.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  /** Printable ASCII letters and digits. */
  word(min = 1, max = 12): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let s = "";
    for (let i = this.int(min, max); i > 0; i--) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
  /** Arbitrary Unicode text (BMP and astral, no lone surrogates). */
  unicode(min = 1, max = 20): string {
    let s = "";
    for (let i = this.int(min, max); i > 0; i--) {
      const cp = this.pick([() => this.int(0x20, 0x7e), () => this.int(0xa0, 0x2fff), () => this.int(0x1f300, 0x1faff)])();
      s += String.fromCodePoint(cp);
    }
    return s;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** Nested arrays `depth` levels deep, built without recursion. */
export function deepArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** The same as text: `[[[...]]]`. */
export function deepArrayText(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/** Strings an attacker sends hoping something builds SQL or HTML from them. */
export const INJECTIONS = [
  "'; DROP TABLE ui_events; --",
  "\\'; DROP TABLE ui_events; --",
  "1' OR '1'='1",
  'x") UNION ALL SELECT * FROM system.users --',
  "{sid:UUID}",
  "`; TRUNCATE TABLE bench_runs; --",
  "<script>alert(document.cookie)</script>",
  "<img src=x onerror=alert(1)>",
  "[click](javascript:alert(1))",
  "![x](javascript:alert(1))",
  "---\ntitle: injected\n---",
  "${process.env.MUSE_INGEST_TOKEN}",
  "{{constructor.constructor('return process')()}}",
  "%00\u0000null-byte",
  "../../../../etc/passwd",
] as const;
