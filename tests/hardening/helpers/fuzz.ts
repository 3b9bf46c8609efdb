import { expect } from "vitest";
import type { Gen } from "./gen";
import { callHandler, isJsonError, readAnswer, type Answer, type Handler, type RouteServer } from "./http";
import { HARDENING_SECRETS } from "./setup";

/**
 * The fuzz runner shared by the ingest routes' suites: each generated bad
 * input goes to the real handler — in process, or every fifth one over
 * loopback HTTP (streamed body) — and the answer must be a 4xx with a JSON
 * `error`, no stack trace or SQL in it, the handler must not throw, and no
 * row may appear (counted before and after every input).
 */

export interface FuzzCase {
  label: string;
  body: Uint8Array<ArrayBuffer>;
  /** null: no Content-Type header at all. */
  contentType: string | null;
  headers?: Record<string, string>;
}

export const utf8 = (text: string) => new TextEncoder().encode(text);
export const json = (value: unknown) => utf8(JSON.stringify(value));

/** Byte-level corruption of a body that is valid: invalid UTF-8 sequences spliced into it. */
export function invalidUtf8(g: Gen, valid: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const bad = g.pick([[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82]]);
  // Inside the first string value (after its opening quote), or at the very end.
  const quote = valid.indexOf(0x22);
  const at = g.chance(0.7) && quote >= 0 ? quote + 1 : valid.length;
  return new Uint8Array([...valid.subarray(0, at), ...bad, ...valid.subarray(at)]);
}

/** A prefix of a valid body that is not itself valid JSON (nor a whole NDJSON line set). */
export function truncated(g: Gen, valid: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  let cut = g.int(0, valid.length - 1);
  // Never at a line boundary (the NDJSON lines before it would be whole and valid).
  while (cut > 0 && (valid[cut - 1] === 0x0a || valid[cut] === 0x0a)) cut -= 1;
  return valid.subarray(0, cut);
}

export const BAD_CONTENT_TYPES = [
  null,
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/xml",
  "multipart/form-data; boundary=xyz",
  "application/x-www-form-urlencoded",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "application/jsonx",
  "json",
  "APPLICATION/JSON; charset=iso-8859-1",
  "*/*",
] as const;

const LEAKY = /DB::Exception|Code: \d+\.|\n\s+at \S|SELECT |INSERT INTO|node_modules|\.ts:\d+/;

export interface FuzzOptions {
  route: string;
  handler: Handler;
  server: RouteServer;
  cases: FuzzCase[];
  /** Rows of the tables the route writes, summed. */
  rows(): Promise<number>;
  seed: number;
}

/** Runs every case; returns the failures (empty when the route held) and the statuses seen. */
export async function fuzzRoute(options: FuzzOptions): Promise<{ failures: string[]; statuses: Record<number, number> }> {
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let before = await options.rows();
  for (const [i, c] of options.cases.entries()) {
    const headers: Record<string, string> = { authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`, ...(c.headers ?? {}) };
    if (c.contentType !== null) headers["content-type"] = c.contentType;
    let answer: Answer;
    const where = `case ${i} (${c.label}, ${c.body.length} bytes, seed ${options.seed})`;
    try {
      if (i % 5 === 4) {
        const res = await fetch(`${options.server.url}${options.route}`, { method: "POST", headers, body: c.body });
        answer = await readAnswer(res, `response of ${options.route}`);
      } else {
        const result = await callHandler(options.handler, new Request(`http://localhost${options.route}`, { method: "POST", headers, body: c.body }));
        if ("threw" in result) {
          failures.push(`${where}: the handler threw ${String(result.threw)}`);
          continue;
        }
        answer = result;
      }
    } catch (error) {
      failures.push(
        `${where}: request failed ${String(error)} ${String((error as { cause?: unknown }).cause)}; previous over HTTP: ${options.cases[i - 5]?.label}`,
      );
      continue;
    }
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    if (answer.status < 400 || answer.status > 499) failures.push(`${where}: status ${answer.status} ${answer.text.slice(0, 200)}`);
    else if (!isJsonError(answer)) failures.push(`${where}: ${answer.status} without a JSON error: ${answer.text.slice(0, 200)}`);
    else if (LEAKY.test(answer.text)) failures.push(`${where}: the error leaks internals: ${answer.text.slice(0, 300)}`);
    const problems = (answer.json as { problems?: unknown }).problems;
    if (problems !== undefined) {
      const ok =
        Array.isArray(problems) &&
        problems.length <= 100 &&
        problems.every(
          (p) => typeof p === "object" && p !== null && typeof p.index === "number" && typeof p.path === "string" && typeof p.message === "string",
        );
      if (!ok) failures.push(`${where}: malformed problems ${JSON.stringify(problems).slice(0, 200)}`);
    }
    const after = await options.rows();
    if (after !== before) failures.push(`${where}: ${after - before} row(s) written`);
    before = after;
  }
  if (options.server.thrown.length > 0) failures.push(...options.server.thrown.map((t) => `over HTTP: the handler threw ${String(t.error)}`));
  expect(options.cases.length).toBeGreaterThanOrEqual(500);
  return { failures, statuses: Object.fromEntries(statuses) };
}
