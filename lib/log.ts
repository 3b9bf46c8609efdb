/**
 * Structured logs: one JSON line per event with time, level, message and
 * context (run id, agent...). Secret values from the environment and fields
 * whose names say "secret" are redacted before anything is written; the
 * envelope (ts, level, msg) cannot be overwritten by context fields.
 */
import { messageOf } from "./error-message";

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  fields?: LogFields;
  /** Where lines go (default: stderr for warn/error, stdout otherwise). */
  write?: (line: string, level: LogLevel) => void;
  /** Exact values that must never appear (tokens, keys, passwords). */
  secrets?: readonly string[];
}

const SECRET_KEY = /(pass(word)?|secret|token|authorization|(api|app|access|private)[_-]?key|cookie|credential)/i;
export const REDACTED = "[redacted]";
const MAX_DEPTH = 6;

/**
 * Secret values are replaced wherever they appear; a field whose name says
 * secret loses its value when that value could hold one (a string or an
 * object: `tokens_in: 120` is a count and stays). Deeper than MAX_DEPTH
 * nothing is written, rather than something unchecked.
 */
export function redact(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === "string") {
    let out = value;
    for (const s of secrets) if (s.length > 0 && out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return redact({ name: value.name, message: value.message }, secrets, depth);
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) return "[truncated]";
  // Dates, URLs, Buffers...: what JSON.stringify would have written.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return redact((value as { toJSON(): unknown }).toJSON(), secrets, depth);
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) && v !== "" && (typeof v === "string" || (typeof v === "object" && v !== null)) ? REDACTED : redact(v, secrets, depth + 1),
    ]),
  );
}

const defaultWrite = (line: string, level: LogLevel) => {
  (level === "warn" || level === "error" ? process.stderr : process.stdout).write(`${line}\n`);
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? "info"];
  const write = options.write ?? defaultWrite;
  // Every configured secret, however short: a short one garbles log text, but is never written.
  const secrets = [...(options.secrets ?? [])].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    const ts = new Date().toISOString();
    // Context first, then the envelope, so a field named `level` cannot change the line's level.
    const record = redact(Object.assign({ ts, level, msg: message }, base, fields, { ts, level, msg: message }), secrets);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (error) {
      line = JSON.stringify(redact({ ts, level, msg: message, log_error: `fields not serializable: ${messageOf(error)}` }, secrets));
    }
    write(line, level);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that records lines in memory (tests). */
export function memoryLogger(options: Omit<LoggerOptions, "write"> = {}): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", ...options, write: (line) => lines.push(line) });
  return Object.assign(logger, { lines });
}
