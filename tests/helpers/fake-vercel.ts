import { createServer, type Server } from "node:http";

/**
 * A local stand-in for Vercel's REST API, as much of it as lib/deployments/settle.ts uses: `GET /v7/deployments`
 * (list a project's deployments). It checks the request as Vercel would — a Bearer token, the project and team ids,
 * the sha and limit filters as query parameters — and answers in the documented response shape (`deployments` with
 * uid, name, url, created, createdAt, buildingAt, ready, readyState, type, creator, inspectorUrl, projectId, meta,
 * errorMessage; `pagination`), which the official SDK validates. Anything else is a 404, and every problem with a
 * request is kept in `problems` for the test to assert empty.
 */

export interface FakeDeployment {
  uid: string;
  sha: string;
  readyState: "QUEUED" | "INITIALIZING" | "BUILDING" | "READY" | "ERROR" | "CANCELED";
  created: number;
  buildingAt?: number;
  ready?: number;
  url?: string;
  errorMessage?: string;
}

export class FakeVercel {
  server!: Server;
  url = "";
  readonly token: string;
  readonly projectId: string;
  readonly teamId: string;
  deployments: FakeDeployment[] = [];
  requests: { method: string; path: string; query: Record<string, string>; authorization: string }[] = [];
  problems: string[] = [];

  constructor(options: { token: string; projectId: string; teamId: string }) {
    this.token = options.token;
    this.projectId = options.projectId;
    this.teamId = options.teamId;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const query = Object.fromEntries(url.searchParams);
      const authorization = req.headers.authorization ?? "";
      this.requests.push({ method: req.method ?? "GET", path: url.pathname, query, authorization });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (authorization !== `Bearer ${this.token}`) {
        this.problems.push(`bad authorization: ${authorization}`);
        return send(403, { error: { code: "forbidden", message: "Not authorized" } });
      }
      if (req.method !== "GET" || url.pathname !== "/v7/deployments") {
        this.problems.push(`unexpected ${req.method} ${url.pathname}`);
        return send(404, { error: { code: "not_found", message: "Not found" } });
      }
      if (query.projectId !== this.projectId) this.problems.push(`projectId ${query.projectId}`);
      if (query.teamId !== this.teamId) this.problems.push(`teamId ${query.teamId}`);
      if (!/^[0-9a-f]{40}$/.test(query.sha ?? "")) this.problems.push(`sha ${query.sha}`);
      if (!(Number(query.limit) >= 1 && Number(query.limit) <= 100)) this.problems.push(`limit ${query.limit}`);
      const matching = this.deployments.filter((d) => d.sha === query.sha).sort((a, b) => b.created - a.created);
      send(200, {
        deployments: matching.map((d) => ({
          uid: d.uid,
          name: "muse-site",
          url: d.url ?? `muse-site-${d.uid.slice(4, 10)}.vercel.app`,
          created: d.created,
          createdAt: d.created,
          ...(d.buildingAt ? { buildingAt: d.buildingAt } : {}),
          ...(d.ready ? { ready: d.ready } : {}),
          state: d.readyState,
          readyState: d.readyState,
          type: "LAMBDAS",
          creator: { uid: "user_1", username: "muse-bot" },
          inspectorUrl: `https://vercel.com/muse/site/${d.uid}`,
          projectId: this.projectId,
          target: "production",
          source: "git",
          meta: { githubCommitSha: d.sha, githubCommitRef: "main", githubOrg: "muse", githubRepo: "site" },
          ...(d.errorMessage ? { errorMessage: d.errorMessage } : {}),
        })),
        pagination: { count: matching.length, next: null, prev: null },
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
