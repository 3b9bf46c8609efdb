import { secretNames } from "../../../lib/env";

/**
 * Secret-leak watch for the hardening suites: every line written to stdout or
 * stderr (the loggers, console) and every response body the suites read is
 * scanned for the values of the secret variables of lib/env.ts — set to
 * distinctive values by setup.ts — and for secrets the tests register
 * (a fake GitHub token, a Datadog key). A hit is recorded, and setup.ts fails
 * the file in afterAll.
 */

export interface Leak {
  where: string;
  secret: string;
  excerpt: string;
}

const registered = new Map<string, string>();
const found: Leak[] = [];

/** Also watch for `value` (named `name` in reports). */
export function registerSecret(name: string, value: string): void {
  if (value.length >= 4) registered.set(value, name);
}

function watched(): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name of secretNames()) {
    const value = process.env[name];
    if (typeof value === "string" && value.length >= 4) pairs.push([value, name]);
  }
  for (const [value, name] of registered) pairs.push([value, name]);
  return pairs;
}

/** Records every watched secret that occurs in `text`. */
export function scanForSecrets(where: string, text: string): void {
  for (const [value, name] of watched()) {
    const at = text.indexOf(value);
    if (at < 0) continue;
    const excerpt = text
      .slice(Math.max(0, at - 80), at + value.length + 80)
      .split(value)
      .join(`<${name}>`);
    found.push({ where, secret: name, excerpt });
  }
}

export function leaks(): Leak[] {
  return [...found];
}

/** Removes the recorded leaks `where` names (the watch's own self-test). */
export function forgetLeaks(where: (leak: Leak) => boolean): void {
  for (let i = found.length - 1; i >= 0; i--) if (where(found[i])) found.splice(i, 1);
}

type Write = typeof process.stdout.write;

const realStderrWrite = process.stderr.write.bind(process.stderr) as Write;

/** A line for the person running the suite (figures, seeds): always shown, and scanned too. */
export function report(line: string): void {
  scanForSecrets("report", line);
  realStderrWrite(`  [hardening] ${line}\n`);
}

/**
 * Routes stdout/stderr writes and console output through the scanner. Output
 * is swallowed (the routes log every request) unless HARDENING_VERBOSE=1.
 */
export function installLeakWatch(): () => void {
  const verbose = process.env.HARDENING_VERBOSE === "1";
  const restore: (() => void)[] = [];
  for (const [name, stream] of [
    ["stdout", process.stdout],
    ["stderr", process.stderr],
  ] as const) {
    const original = stream.write.bind(stream) as Write;
    const patched = ((chunk: unknown, ...rest: unknown[]) => {
      scanForSecrets(name, typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      if (verbose) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as Write;
    stream.write = patched;
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      scanForSecrets(`console.${method}`, args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" "));
      if (verbose) original(...args);
    };
    restore.push(() => {
      console[method] = original;
    });
  }
  return () => restore.forEach((r) => r());
}

function safeJson(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
