import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { scanForSecrets } from "./leaks";

/**
 * The route handlers served over real HTTP on loopback: a node:http server
 * that turns each request into a web Request and writes the handler's
 * Response back. The body reaches the handler as a stream of the chunks that
 * arrived on the socket (so a route's size checks see several reads), but is
 * received whole first: a handler that answers without reading it (a 413 from
 * Content-Length, a 415) must not leave unread bytes on a kept-alive
 * connection, which Node answers by resetting the client's next request.
 * A handler that throws is answered 500 and recorded in `thrown`, so a test
 * can assert it never happens. Every response body is scanned for secrets.
 */

export type Handler = (request: Request) => Promise<Response>;

export interface RouteServer {
  url: string;
  /** Errors handlers threw (a Next route would answer those with a bare 500). */
  thrown: { path: string; error: unknown }[];
  close(): Promise<void>;
}

export async function serveRoutes(routes: Record<string, Handler>): Promise<RouteServer> {
  const thrown: RouteServer["thrown"] = [];
  let base = "";
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      thrown.push({ path: req.url ?? "", error });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", base);
    const handler = routes[url.pathname];
    if (!handler) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: `no route ${url.pathname}` }));
      return;
    }
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const chunks: Uint8Array[] = [];
    for await (const chunk of req) chunks.push(new Uint8Array(chunk as Buffer));
    let response: Response;
    try {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
      const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined, duplex: "half" } as RequestInit);
      response = await handler(request);
    } catch (error) {
      thrown.push({ path: url.pathname, error });
      response = Response.json({ error: "internal error: the handler threw" }, { status: 500 });
    }
    const body = Buffer.from(await response.arrayBuffer());
    scanForSecrets(`response of ${req.method} ${url.pathname}`, body.toString("utf8"));
    const out: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      if (key !== "content-length" && key !== "transfer-encoding") out[key] = value;
    });
    res.writeHead(response.status, { ...out, "content-length": String(body.length) }).end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    thrown,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  json: unknown;
}

/** A Response read whole (and scanned for secrets). */
export async function readAnswer(response: Response, where = "response"): Promise<Answer> {
  const text = await response.text();
  scanForSecrets(where, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Calls a handler in process; a throw is returned, never raised, so callers can assert on it. */
export async function callHandler(handler: Handler, request: Request): Promise<Answer | { threw: unknown }> {
  let response: Response;
  try {
    response = await handler(request);
  } catch (error) {
    return { threw: error };
  }
  return readAnswer(response, `response of ${request.method} ${new URL(request.url).pathname}`);
}

/** The JSON error contract of api.md: an object with a non-empty string `error`. */
export function isJsonError(answer: Answer): boolean {
  const body = answer.json as { error?: unknown } | undefined;
  return (answer.headers.get("content-type") ?? "").startsWith("application/json") && typeof body?.error === "string" && body.error.length > 0;
}
