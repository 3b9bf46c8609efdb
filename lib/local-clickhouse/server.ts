import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { createRequire } from "node:module";
import { randomUUID, timingSafeEqual, createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { gunzipSync, gzipSync, inflateSync, deflateSync, brotliDecompressSync } from "node:zlib";
import { messageOf } from "../error-message";

/**
 * ClickHouse's HTTP interface served over the embedded engine chDB.
 *
 * Only this process opens the data directory; everything else (Next.js, the
 * CLI, tests) talks to it over HTTP with @clickhouse/client-web, exactly as it
 * would talk to ClickHouse Cloud. It implements the parts of the protocol that
 * client uses and is never imported by the Next.js app.
 *
 * It is a development server on loopback, but a loopback server is still
 * reachable from every web page a developer opens: a page can POST SQL to it
 * (a "simple" cross-origin request needs no preflight) and, through DNS
 * rebinding, read the answers. So it refuses every request a browser makes on
 * another site's behalf (an `Origin` header, or `Sec-Fetch-Site` other than
 * `none`), every request whose `Host` names something other than an IP
 * literal, `localhost` or the configured host (DNS rebinding), and, with a
 * user configured (scripts/clickhouse-server.ts always configures one; see
 * credentials.ts), every request without its password. See docs/security.md.
 */

const require = createRequire(import.meta.url);

interface NativeResult {
  bytes: Uint8Array;
  elapsed: number;
  rowsRead: number;
  bytesRead: number;
}
interface NativeInsertResult {
  elapsed: number;
  rowsWritten: number;
  bytesWritten: number;
}
interface ChdbNative {
  QueryAsyncConnection(conn: unknown, sql: string, format: string, params?: Record<string, string>): Promise<NativeResult>;
  InsertRawAsyncConnection(conn: unknown, prefix: string, body: Buffer, countLines: boolean): Promise<NativeInsertResult>;
}
interface ChdbSession {
  connection: unknown;
  close(): void;
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }>;
}

/**
 * chDB's public `queryBindAsync` escapes string values itself, but an HTTP
 * server receives `param_<name>` values already in ClickHouse's escaped text
 * form (the client sends `it's` as `it\'s`). Passing them straight to the
 * engine's native binder is the only way to keep ClickHouse's own parsing of
 * that text, arrays and tuples included, so we use the addon the package loads.
 */
function loadChdb(): { Session: new (p: string) => ChdbSession; native: ChdbNative } {
  const chdb = require("chdb") as { Session: new (p: string) => ChdbSession };
  const loaderPath = path.join(path.dirname(require.resolve("chdb")), "dist", "loader.js");
  const native = (require(loaderPath) as { loadNative(): ChdbNative }).loadNative();
  return { Session: chdb.Session, native };
}

/** Settings that live in ClickHouse's HTTP layer, not in the engine. */
const HTTP_LAYER_SETTINGS = new Set([
  "wait_end_of_query", // we always buffer the whole result before answering
  "buffer_size",
  "send_progress_in_http_headers",
  "http_headers_progress_interval_ms",
  "http_response_buffer_size",
  "enable_http_compression", // honoured below
  "http_zlib_compression_level",
  "http_wait_end_of_query",
  "cancel_http_readonly_queries_on_client_close",
  "session_timeout",
  "session_check",
  "query_id",
  "database",
  "default_format",
  "session_id",
  "query",
  "user",
  "password",
  "compress",
  "decompress",
  "role",
  "client_protocol_version",
]);

/** HTTP status ClickHouse gives an exception code (subset of HTTPHandler's map). */
function statusFor(code: number): number {
  if (code === 194) return 401; // REQUIRED_PASSWORD
  if ([192, 193, 516, 497].includes(code)) return 403; // UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, ACCESS_DENIED
  if ([60, 81, 46, 47, 16].includes(code)) return 404; // UNKNOWN_TABLE/DATABASE/FUNCTION/IDENTIFIER, NO_SUCH_COLUMN_IN_TABLE
  if ([62, 27, 26, 6, 38, 41, 53, 69, 70, 72, 115, 117, 36, 43, 44, 49, 113, 135, 352, 184, 456, 457].includes(code)) return 400;
  if (code === 159) return 408; // TIMEOUT_EXCEEDED
  if (code === 241 || code === 173) return 507;
  return 500;
}

const FORMAT_CONTENT_TYPES: Record<string, string> = {
  JSON: "application/json; charset=UTF-8",
  JSONCompact: "application/json; charset=UTF-8",
  JSONStrings: "application/json; charset=UTF-8",
  JSONEachRow: "application/x-ndjson; charset=UTF-8",
  JSONCompactEachRow: "application/x-ndjson; charset=UTF-8",
  JSONStringsEachRow: "application/x-ndjson; charset=UTF-8",
  JSONEachRowWithProgress: "application/x-ndjson; charset=UTF-8",
  JSONCompactEachRowWithNames: "application/x-ndjson; charset=UTF-8",
  JSONCompactEachRowWithNamesAndTypes: "application/x-ndjson; charset=UTF-8",
  TabSeparated: "text/tab-separated-values; charset=UTF-8",
  TSV: "text/tab-separated-values; charset=UTF-8",
  TabSeparatedWithNames: "text/tab-separated-values; charset=UTF-8",
  TSVWithNames: "text/tab-separated-values; charset=UTF-8",
  CSV: "text/csv; charset=UTF-8; header=absent",
  CSVWithNames: "text/csv; charset=UTF-8; header=present",
};

export interface LocalClickHouseOptions {
  host: string;
  port: number;
  dataDir: string;
  /** With a user, every request must authenticate (basic auth, X-ClickHouse-User/Key or URL). */
  user?: string;
  password?: string;
  /**
   * More users it accepts (credentials.ts: muse_migrator, muse_agent,
   * muse_reader). chDB has no grants: a `readonly` user's every request runs on
   * a connection of its own with `readonly=1` set by the server after the
   * request's own settings, so the engine refuses its writes, DDL and any
   * attempt to change `readonly` again.
   */
  users?: { user: string; password: string; readonly?: boolean }[];
  /** Largest accepted request body. */
  maxBodyBytes?: number;
  /** Host names (besides IP literals, `localhost` and `host`) a request's Host header may name. */
  allowedHosts?: string[];
  log?: (line: string) => void;
}

export interface LocalClickHouse {
  url: string;
  version: string;
  close(): Promise<void>;
}

class ClickHouseHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses `Code: N. DB::Exception: ...` out of an engine error. */
function toClickHouseError(e: unknown): ClickHouseHttpError {
  if (e instanceof ClickHouseHttpError) return e;
  const message = messageOf(e);
  const m = /Code:\s*(\d+)\./.exec(message);
  const code = m ? Number(m[1]) : 1001;
  const text = m ? message.slice(m.index) : `Code: ${code}. DB::Exception: ${message}. (STD_EXCEPTION)`;
  return new ClickHouseHttpError(code, text);
}

const READONLY_SETTING_ERROR = "Code: 164. DB::Exception: Cannot modify 'readonly' setting in readonly mode. (READONLY)";

function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** IPv4 or IPv6 literal (a DNS-rebinding attack needs a name, never an address). */
function isIpLiteral(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || (hostname.includes(":") && /^[0-9a-f:.]+$/i.test(hostname));
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-cased. */
export function hostHeaderName(value: string): string {
  const v = value.trim().toLowerCase();
  if (v.startsWith("[")) return v.slice(1, v.indexOf("]") >= 0 ? v.indexOf("]") : undefined);
  const colon = v.lastIndexOf(":");
  return colon >= 0 && v.indexOf(":") === colon ? v.slice(0, colon) : v;
}

/**
 * Why a request must be refused before it is read, or undefined: requests a
 * browser sends for a web page (cross-site request forgery) and requests for a
 * name that is not this machine's (DNS rebinding). ClickHouse clients outside
 * browsers (Node's fetch, curl, the CLI) send neither `Origin` nor `Sec-Fetch-Site`.
 */
export function refusedRequest(headers: IncomingMessage["headers"], allowedHosts: ReadonlySet<string>): string | undefined {
  if (headers.origin !== undefined) return `requests from web pages (Origin: ${String(headers.origin).slice(0, 100)}) are refused`;
  const site = headers["sec-fetch-site"];
  if (site !== undefined && site !== "none") return `requests a browser sends for a page (Sec-Fetch-Site: ${String(site).slice(0, 40)}) are refused`;
  const host = headers.host;
  if (host === undefined) return undefined; // HTTP/1.0 without Host: not a browser
  const name = hostHeaderName(host);
  if (name === "localhost" || isIpLiteral(name) || allowedHosts.has(name)) return undefined;
  return `Host ${host.slice(0, 100)} is not this server's (DNS rebinding?)`;
}

function quoteIdentifier(name: string): string {
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

function quoteString(value: string): string {
  return "'" + value.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

/** The first keyword of a statement, skipping whitespace and comments. */
function leadingKeyword(sql: string): string {
  const stripped = sql.replace(/^(\s+|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/g, "");
  return (/^[A-Za-z]+/.exec(stripped)?.[0] ?? "").toUpperCase();
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ClickHouseHttpError(1001, `Code: 1001. DB::Exception: Request body exceeds ${limit} bytes. (STD_EXCEPTION)`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  switch ((req.headers["content-encoding"] ?? "").toLowerCase()) {
    case "":
    case "identity":
      return body;
    case "gzip":
      return gunzipSync(body);
    case "deflate":
      return inflateSync(body);
    case "br":
      return brotliDecompressSync(body);
    default:
      throw new ClickHouseHttpError(1001, `Code: 1001. DB::Exception: Unknown Content-Encoding: ${req.headers["content-encoding"]}. (STD_EXCEPTION)`);
  }
}

export async function startLocalClickHouse(options: LocalClickHouseOptions): Promise<LocalClickHouse> {
  const log = options.log ?? (() => {});
  const maxBody = options.maxBodyBytes ?? 256 * 1024 * 1024;
  mkdirSync(options.dataDir, { recursive: true });
  const { Session, native } = loadChdb();
  const session = new Session(path.resolve(options.dataDir));
  const version = (await session.queryAsync("SELECT version()", { format: "TSVRaw" })).text().trim();

  // chDB reports the rows a query returned, not the rows it scanned: that is
  // what X-ClickHouse-Summary's read_rows carries here (written_rows is exact).
  /** Settings kept per `session_id` (from `SET` statements sent with one). */
  const sessionSettings = new Map<string, { settings: Map<string, string>; touched: number }>();
  /** chDB runs one statement at a time per connection; so do we, which also keeps per-request settings from leaking. */
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  async function engineQuery(sql: string, format = "TSV", params?: Record<string, string>): Promise<NativeResult> {
    return native.QueryAsyncConnection(session.connection, sql, format, params ?? {});
  }

  // The engine's settings at start-up; every request runs with these plus its
  // own. Rather than SET-and-reset around each statement, the server tracks
  // what is set now and applies only the differences (most requests repeat
  // the previous request's settings, so they cost no extra statement).
  const defaults = new Map<string, string>(
    Buffer.from((await engineQuery("SELECT name, value FROM system.settings", "JSONEachRow")).bytes)
      .toString("utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; value: string })
      .map((r) => [r.name, r.value]),
  );
  /** Settings currently differing from `defaults`, as last requested. */
  const engineSettings = new Map<string, string>();
  let currentDatabase = "";

  async function applySettings(wanted: Map<string, string>): Promise<void> {
    for (const name of wanted.keys()) {
      if (!defaults.has(name)) {
        throw new ClickHouseHttpError(115, `Code: 115. DB::Exception: Unknown setting '${name}'. (UNKNOWN_SETTING)`);
      }
    }
    for (const name of [...engineSettings.keys()]) {
      if (wanted.has(name)) continue;
      await engineQuery(`SET ${quoteIdentifier(name)} = ${quoteString(defaults.get(name)!)}`);
      engineSettings.delete(name);
    }
    for (const [name, value] of wanted) {
      if (engineSettings.get(name) === value) continue;
      // A value the engine refuses fails here with ClickHouse's own error.
      await engineQuery(`SET ${quoteIdentifier(name)} = ${quoteString(value)}`);
      engineSettings.set(name, value);
    }
  }

  async function useDatabase(database: string): Promise<void> {
    if (database === currentDatabase) return;
    await engineQuery(`USE ${quoteIdentifier(database)}`);
    currentDatabase = database;
  }

  const accounts = [
    ...(options.user ? [{ user: options.user, password: options.password ?? "", readonly: false }] : []),
    ...(options.users ?? []).map((u) => ({ user: u.user, password: u.password, readonly: u.readonly ?? false })),
  ];

  /** Who is asking: undefined when the server requires no authentication. */
  function authenticate(req: IncomingMessage, url: URL): { user: string; readonly: boolean } | undefined {
    if (accounts.length === 0) return undefined;
    let user = url.searchParams.get("user") ?? undefined;
    let password = url.searchParams.get("password") ?? undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const i = decoded.indexOf(":");
      user = i >= 0 ? decoded.slice(0, i) : decoded;
      password = i >= 0 ? decoded.slice(i + 1) : "";
    }
    const headerUser = req.headers["x-clickhouse-user"];
    if (typeof headerUser === "string") {
      user = headerUser;
      const key = req.headers["x-clickhouse-key"];
      password = typeof key === "string" ? key : "";
    }
    if (user === undefined) {
      throw new ClickHouseHttpError(194, "Code: 194. DB::Exception: default: Authentication failed: password is required. (REQUIRED_PASSWORD)");
    }
    // Every account is compared (no early exit), so timing says nothing about which names exist.
    let matched: { user: string; readonly: boolean } | undefined;
    for (const account of accounts) {
      const ok = safeEqual(user, account.user) && safeEqual(password ?? "", account.password);
      if (ok && !matched) matched = { user: account.user, readonly: account.readonly };
    }
    if (!matched) {
      throw new ClickHouseHttpError(
        516,
        `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
      );
    }
    return matched;
  }

  /**
   * One statement of a read-only user, on a connection of its own: its
   * database and settings, then `readonly=1`, then the statement; the
   * connection is closed afterwards, so nothing carries over. The engine itself
   * refuses INSERT, DDL and every later change of `readonly` (a SETTINGS clause,
   * a SET) on that connection.
   */
  async function readonlyStatement(
    database: string,
    settings: Map<string, string>,
    run: (connection: unknown) => Promise<{ bytes: Uint8Array; readRows: number; readBytes: number; writtenRows: number; writtenBytes: number }>,
  ) {
    const reader = new Session(path.resolve(options.dataDir));
    try {
      await native.QueryAsyncConnection(reader.connection, `USE ${quoteIdentifier(database)}`, "TSV", {}).catch((e: unknown) => {
        throw toClickHouseError(e);
      });
      for (const [name, value] of settings) {
        if (!defaults.has(name)) throw new ClickHouseHttpError(115, `Code: 115. DB::Exception: Unknown setting '${name}'. (UNKNOWN_SETTING)`);
        await native.QueryAsyncConnection(reader.connection, `SET ${quoteIdentifier(name)} = ${quoteString(value)}`, "TSV", {});
      }
      await native.QueryAsyncConnection(reader.connection, "SET readonly = 1", "TSV", {});
      return await run(reader.connection);
    } finally {
      reader.close();
    }
  }

  /** A read-only user's own settings: `readonly` may only be restated as 1, never lifted. */
  function readonlySettings(settings: Map<string, string>): Map<string, string> {
    const value = settings.get("readonly");
    if (value !== undefined && value.trim() !== "1") throw new ClickHouseHttpError(164, READONLY_SETTING_ERROR);
    return new Map([...settings].filter(([name]) => name !== "readonly"));
  }

  const allowedHosts = new Set([options.host, ...(options.allowedHosts ?? [])].map((h) => hostHeaderName(h)));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusedRequest(req.headers, allowedHosts);
    if (refused) {
      log(`refused ${req.method} ${String(req.url).slice(0, 60)}: ${refused}`);
      // No CORS headers: a browser's page never reads this (or any) answer.
      res.writeHead(403, { "Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": "497" });
      res.end(`Code: 497. DB::Exception: ${refused}. (ACCESS_DENIED)\n`);
      req.resume();
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/ping" || (url.pathname === "/" && req.method === "GET" && !url.searchParams.has("query"))) {
      res.writeHead(200, { "Content-Type": "text/plain; charset=UTF-8" }).end("Ok.\n");
      return;
    }
    if (url.pathname === "/replicas_status") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=UTF-8" }).end("Ok.\n");
      return;
    }
    if (url.pathname !== "/") {
      res.writeHead(404, { "Content-Type": "text/plain; charset=UTF-8" }).end(`There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n`);
      return;
    }
    if (req.method !== "GET" && req.method !== "POST") {
      res.writeHead(405, { Allow: "GET, POST" }).end();
      return;
    }

    const queryId = url.searchParams.get("query_id") || randomUUID();
    const format = url.searchParams.get("default_format") || (req.headers["x-clickhouse-format"] as string | undefined) || "TabSeparated";
    const headers: Record<string, string> = {
      "X-ClickHouse-Query-Id": queryId,
      "X-ClickHouse-Server-Display-Name": "muse-local-chdb",
      "X-ClickHouse-Timezone": "UTC",
      "X-ClickHouse-Format": format,
    };
    try {
      const account = authenticate(req, url);
      let body = await readBody(req, maxBody);
      let urlQuery = url.searchParams.get("query") ?? "";
      const formParams = new Map<string, string>();
      const contentType = String(req.headers["content-type"] ?? "");
      if (contentType.startsWith("multipart/form-data")) {
        // Long query parameters travel as form parts (`query`, `param_<name>`).
        const form = await new Response(new Uint8Array(body), { headers: { "content-type": contentType } }).formData();
        for (const [key, value] of form) {
          if (typeof value !== "string") continue;
          if (key === "query") urlQuery = urlQuery ? `${urlQuery}\n${value}` : value;
          else formParams.set(key, value);
        }
        body = Buffer.alloc(0);
      }
      if (
        req.method === "GET" &&
        body.length === 0 &&
        urlQuery &&
        !["SELECT", "SHOW", "DESCRIBE", "DESC", "EXISTS", "WITH", "EXPLAIN"].includes(leadingKeyword(urlQuery))
      ) {
        // ClickHouse treats GET as readonly=1.
        throw new ClickHouseHttpError(164, "Code: 164. DB::Exception: Cannot execute query in readonly mode. (READONLY)");
      }

      const database = url.searchParams.get("database") || (req.headers["x-clickhouse-database"] as string | undefined) || "default";
      const params: Record<string, string> = {};
      const settings = new Map<string, string>();
      const sessionId = url.searchParams.get("session_id") || undefined;
      if (sessionId) {
        const kept = sessionSettings.get(sessionId);
        if (kept) {
          kept.touched = Date.now();
          for (const [k, v] of kept.settings) settings.set(k, v);
        } else if (url.searchParams.get("session_check") === "1") {
          throw new ClickHouseHttpError(372, `Code: 372. DB::Exception: Session ${sessionId} not found. (SESSION_NOT_FOUND)`);
        }
      }
      for (const [key, value] of [...url.searchParams, ...formParams]) {
        if (key.startsWith("param_")) params[key.slice(6)] = value;
        else if (!HTTP_LAYER_SETTINGS.has(key)) settings.set(key, value);
      }

      const isInsertWithData = body.length > 0 && urlQuery !== "" && leadingKeyword(urlQuery) === "INSERT";
      const sql = isInsertWithData ? urlQuery : [urlQuery, body.toString("utf8")].filter((s) => s !== "").join("\n");
      if (sql.trim() === "") {
        throw new ClickHouseHttpError(62, "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)");
      }

      // A SET outside a session lasts for its own request only: it changes nothing.
      if (!isInsertWithData && leadingKeyword(sql) === "SET") {
        const assignments = parseSet(sql);
        if (account?.readonly) readonlySettings(assignments);
        // Validated by the engine; they stay in effect only until the next request sets its own.
        await exclusive(() => applySettings(assignments));
        if (sessionId) {
          const kept = sessionSettings.get(sessionId) ?? { settings: new Map(), touched: Date.now() };
          for (const [k, v] of assignments) kept.settings.set(k, v);
          sessionSettings.set(sessionId, kept);
        }
        res.writeHead(200, { ...headers, "X-ClickHouse-Summary": summary(0, 0, 0, 0, 0) }).end();
        return;
      }

      const started = process.hrtime.bigint();
      const outcome = await exclusive(async () => {
        if (account?.readonly) {
          return readonlyStatement(database, readonlySettings(settings), async (connection) => {
            if (isInsertWithData) {
              const r = await native.InsertRawAsyncConnection(connection, sql, body, true);
              return { bytes: new Uint8Array(), readRows: r.rowsWritten, readBytes: r.bytesWritten, writtenRows: r.rowsWritten, writtenBytes: r.bytesWritten };
            }
            const r = await native.QueryAsyncConnection(connection, sql, format, params);
            return { bytes: r.bytes, readRows: r.rowsRead, readBytes: r.bytesRead, writtenRows: 0, writtenBytes: 0 };
          });
        }
        await useDatabase(database).catch((e: unknown) => {
          throw toClickHouseError(e);
        });
        await applySettings(settings);
        if (isInsertWithData) {
          const r = await native.InsertRawAsyncConnection(session.connection, sql, body, true);
          return { bytes: new Uint8Array(), readRows: r.rowsWritten, readBytes: r.bytesWritten, writtenRows: r.rowsWritten, writtenBytes: r.bytesWritten };
        }
        const r = await engineQuery(sql, format, params);
        const write = leadingKeyword(sql) === "INSERT";
        return { bytes: r.bytes, readRows: r.rowsRead, readBytes: r.bytesRead, writtenRows: write ? r.rowsRead : 0, writtenBytes: write ? r.bytesRead : 0 };
      });
      const elapsedNs = Number(process.hrtime.bigint() - started);
      let payload = Buffer.from(outcome.bytes);
      const responseHeaders: Record<string, string> = {
        ...headers,
        "Content-Type": FORMAT_CONTENT_TYPES[format] ?? "text/plain; charset=UTF-8",
        "X-ClickHouse-Summary": summary(outcome.readRows, outcome.readBytes, outcome.writtenRows, outcome.writtenBytes, elapsedNs, outcome.readRows),
      };
      if (url.searchParams.get("enable_http_compression") === "1") {
        const accepted = String(req.headers["accept-encoding"] ?? "");
        if (/\bgzip\b/.test(accepted)) {
          payload = gzipSync(payload);
          responseHeaders["Content-Encoding"] = "gzip";
        } else if (/\bdeflate\b/.test(accepted)) {
          payload = deflateSync(payload);
          responseHeaders["Content-Encoding"] = "deflate";
        }
      }
      res.writeHead(200, responseHeaders).end(payload);
    } catch (e) {
      const error = toClickHouseError(e);
      log(`query ${queryId} failed: ${error.message.split("\n")[0]}`);
      res
        .writeHead(statusFor(error.code), {
          ...headers,
          "Content-Type": "text/plain; charset=UTF-8",
          "X-ClickHouse-Exception-Code": String(error.code),
        })
        .end(`${error.message.trim()} (version ${version})\n`);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`internal error: ${messageOf(e)}`);
      if (!res.headersSent) res.writeHead(500).end("Internal error\n");
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
  log(`ClickHouse ${version} (chDB) on http://${hostForUrl}:${port}, data in ${options.dataDir}`);

  return {
    url: `http://${hostForUrl}:${port}`,
    version,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue.catch(() => undefined);
      session.close();
    },
  };
}

function summary(readRows: number, readBytes: number, writtenRows: number, writtenBytes: number, elapsedNs: number, resultRows = 0): string {
  return JSON.stringify({
    read_rows: String(readRows),
    read_bytes: String(readBytes),
    written_rows: String(writtenRows),
    written_bytes: String(writtenBytes),
    total_rows_to_read: "0",
    result_rows: String(resultRows),
    result_bytes: "0",
    elapsed_ns: String(elapsedNs),
  });
}

/** `SET a = 1, b = 'x'` → settings. Values are passed back to the engine as strings. */
function parseSet(sql: string): Map<string, string> {
  const body = sql.replace(/^\s*SET\s+/i, "").replace(/;\s*$/, "");
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^,]+)\s*(,|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(body)) !== null && m[0] !== "") {
    const raw = m[2].trim();
    out.set(m[1], raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw);
    consumed = re.lastIndex;
    if (m[3] === "") break;
  }
  if (out.size === 0 || consumed < body.length) {
    throw new ClickHouseHttpError(62, `Code: 62. DB::Exception: Syntax error: failed at position 1 ('${sql.slice(0, 40)}'). (SYNTAX_ERROR)`);
  }
  return out;
}
