import { createPublicKey, createVerify, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { SUPPORTED_API_VERSIONS } from "./fake-github";

/**
 * A local stand-in for the GitHub REST endpoints a pull-request check uses (one repository), for
 * tests/pr-checks.test.ts. It answers as api.github.com does and checks each request's shape as
 * tests/helpers/fake-github-issues.ts does (token, Accept, User-Agent, API version, known query parameters,
 * documented body fields only, 422 otherwise), plus GitHub's rules for who may do what:
 *
 * - POST /app/installations/{id}/access_tokens takes only the App's JWT (`Authorization: Bearer <jwt>`, RS256,
 *   verified with the App's public key, `iss` the App id, `exp` at most 10 minutes after `iat`) and answers an
 *   installation token (https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app);
 * - check runs (POST /repos/{o}/{r}/check-runs, PATCH …/check-runs/{id}, GET …/commits/{ref}/check-runs) take only
 *   an installation token: a personal token gets 403 "You must authenticate via a GitHub App." as on GitHub;
 * - POST /repos/{o}/{r}/statuses/{sha}; GET/POST /repos/{o}/{r}/issues/{n}/comments;
 *   PATCH /repos/{o}/{r}/issues/comments/{id}; GET /repos/{o}/{r}/compare/{base}...{head} (merge_base_commit from
 *   the `mergeBases` the test sets); GET /repos/{o}/{r} (default_branch "main").
 */

export const INSTALLATION_TOKEN = "ghs_fakeInstallationToken0123456789abcd";

export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  output: { title: string; summary: string; text?: string };
}
export interface FakeStatus {
  sha: string;
  state: string;
  description: string;
  context: string;
}
export interface FakeComment {
  id: number;
  issue: number;
  body: string;
}
export interface ChecksRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  status: number;
}

const CONCLUSIONS = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"] as const;
const output = z.strictObject({
  title: z.string().min(1),
  summary: z.string().min(1).max(65535),
  text: z.string().max(65535).optional(),
  annotations: z.array(z.unknown()).optional(),
  images: z.array(z.unknown()).optional(),
});
const createCheck = z.strictObject({
  name: z.string().min(1),
  head_sha: z.string().regex(/^[0-9a-f]{40}$/),
  details_url: z.string().optional(),
  external_id: z.string().optional(),
  status: z.enum(["queued", "in_progress", "completed"]).optional(),
  started_at: z.string().optional(),
  conclusion: z.enum(CONCLUSIONS).optional(),
  completed_at: z.string().optional(),
  output: output.optional(),
  actions: z.array(z.unknown()).optional(),
});
const updateCheck = createCheck.omit({ head_sha: true }).partial();
const createStatus = z.strictObject({
  state: z.enum(["error", "failure", "pending", "success"]),
  target_url: z.string().nullable().optional(),
  description: z.string().max(140).nullable().optional(),
  context: z.string().optional(),
});
const commentBody = z.strictObject({ body: z.string().min(1).max(65536) });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeGitHubChecks {
  readonly requests: ChecksRequest[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  readonly statuses: FakeStatus[] = [];
  readonly comments: FakeComment[] = [];
  /** head sha → merge base sha, for the compare API (`main...head`). */
  readonly mergeBases = new Map<string, string>();
  /** Pull-request numbers that exist (comments on others are 404). */
  readonly pullRequests = new Set<number>();
  tokensIssued = 0;
  url = "";
  private server?: http.Server;
  private readonly publicKey: KeyObject;

  private constructor(
    readonly owner: string,
    readonly repo: string,
    readonly pat: string,
    readonly app: { id: string; installationId: string; publicKeyPem: string },
  ) {
    this.publicKey = createPublicKey(app.publicKeyPem);
  }

  static async start(options: { repo: string; pat: string; app: { id: string; installationId: string; publicKeyPem: string } }): Promise<FakeGitHubChecks> {
    const [owner, repo] = options.repo.split("/");
    const gh = new FakeGitHubChecks(owner, repo, options.pat, options.app);
    const server = http.createServer((req, res) => {
      gh.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake-github-checks bug: ${String(error)}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    gh.server = server;
    gh.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return gh;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  writes(from = 0): ChecksRequest[] {
    return this.requests.slice(from).filter((r) => r.method !== "GET");
  }

  /** Verifies an App JWT as GitHub does; throws a 401 naming the problem. */
  private verifyJwt(jwt: string): void {
    const parts = jwt.split(".");
    if (parts.length !== 3) throw new HttpError(401, "A JSON web token could not be decoded");
    const [h, p, s] = parts;
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { alg?: string };
    if (header.alg !== "RS256") throw new HttpError(401, "'alg' must be RS256");
    const ok = createVerify("RSA-SHA256").update(`${h}.${p}`).verify(this.publicKey, Buffer.from(s, "base64url"));
    if (!ok) throw new HttpError(401, "A JSON web token could not be decoded");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { iat?: number; exp?: number; iss?: string | number };
    if (String(payload.iss) !== this.app.id) throw new HttpError(401, "'Issuer' claim ('iss') must be an Integer");
    if (typeof payload.iat !== "number" || typeof payload.exp !== "number" || payload.exp - payload.iat > 600)
      throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future");
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const record: ChecksRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: undefined,
      status: 0,
    };
    this.requests.push(record);
    let status = 200;
    let reply: unknown;
    try {
      let body: unknown = undefined;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, "Problems parsing JSON");
        }
      }
      record.body = body;
      if (!headers.accept) throw new HttpError(400, "fake-github-checks: an Accept header is required");
      if (!headers["user-agent"]) throw new HttpError(403, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header");
      const version = headers["x-github-api-version"];
      if (version && !SUPPORTED_API_VERSIONS.includes(version)) throw new HttpError(400, `API version ${version} is not supported`);
      const knownQuery = (allowed: string[]) => {
        for (const key of url.searchParams.keys()) if (!allowed.includes(key)) throw new HttpError(400, `fake-github-checks: unknown query parameter ${key}`);
      };
      const parse = <S extends z.ZodType>(schema: S): z.output<S> => {
        const result = schema.safeParse(body);
        if (!result.success)
          throw new HttpError(422, `Invalid request: ${result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
        return result.data;
      };
      const auth = headers.authorization ?? "";
      let m: RegExpExecArray | null;

      if ((m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname)) && req.method === "POST") {
        knownQuery([]);
        if (!/^bearer /i.test(auth)) throw new HttpError(401, "A JSON web token could not be decoded");
        this.verifyJwt(auth.replace(/^bearer /i, ""));
        if (m[1] !== this.app.installationId) throw new HttpError(404, "Not Found");
        this.tokensIssued++;
        status = 201;
        reply = {
          token: INSTALLATION_TOKEN,
          expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          permissions: { checks: "write", pull_requests: "write" },
        };
      } else {
        const asApp = auth === `token ${INSTALLATION_TOKEN}` || auth === `Bearer ${INSTALLATION_TOKEN}`;
        const asPat = auth === `token ${this.pat}` || auth === `Bearer ${this.pat}`;
        if (!asApp && !asPat) throw new HttpError(401, "Bad credentials");
        const prefix = `/repos/${this.owner}/${this.repo}`;
        if (!url.pathname.startsWith(prefix)) throw new HttpError(404, "Not Found");
        const rest = url.pathname.slice(prefix.length);
        const appOnly = () => {
          if (!asApp) throw new HttpError(403, "You must authenticate via a GitHub App.");
        };
        if (rest === "" && req.method === "GET") {
          knownQuery([]);
          reply = { full_name: `${this.owner}/${this.repo}`, default_branch: "main" };
        } else if (rest === "/check-runs" && req.method === "POST") {
          appOnly();
          knownQuery([]);
          const input = parse(createCheck);
          const run: FakeCheckRun = {
            id: 9000 + this.checkRuns.length + 1,
            name: input.name,
            head_sha: input.head_sha,
            status: input.status ?? "queued",
            conclusion: input.conclusion ?? null,
            output: input.output ?? { title: "", summary: "" },
          };
          if (run.status === "completed" && !run.conclusion) throw new HttpError(422, "Invalid request: conclusion is required when status is completed");
          this.checkRuns.push(run);
          status = 201;
          reply = run;
        } else if ((m = /^\/check-runs\/(\d+)$/.exec(rest)) && req.method === "PATCH") {
          appOnly();
          knownQuery([]);
          const run = this.checkRuns.find((c) => c.id === Number(m![1]));
          if (!run) throw new HttpError(404, "Not Found");
          const input = parse(updateCheck);
          Object.assign(run, {
            ...(input.name ? { name: input.name } : {}),
            ...(input.status ? { status: input.status } : {}),
            ...(input.conclusion ? { conclusion: input.conclusion } : {}),
            ...(input.output ? { output: input.output } : {}),
          });
          reply = run;
        } else if ((m = /^\/commits\/([0-9a-f]{40})\/check-runs$/.exec(rest)) && req.method === "GET") {
          appOnly();
          knownQuery(["check_name", "status", "filter", "per_page", "page", "app_id"]);
          const name = url.searchParams.get("check_name");
          const runs = this.checkRuns.filter((c) => c.head_sha === m![1] && (!name || c.name === name));
          reply = { total_count: runs.length, check_runs: runs };
        } else if ((m = /^\/statuses\/([0-9a-f]{40})$/.exec(rest)) && req.method === "POST") {
          knownQuery([]);
          const input = parse(createStatus);
          const s: FakeStatus = { sha: m[1], state: input.state, description: input.description ?? "", context: input.context ?? "default" };
          this.statuses.push(s);
          status = 201;
          reply = { id: this.statuses.length, ...s };
        } else if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
          const issue = Number(m[1]);
          if (!this.pullRequests.has(issue)) throw new HttpError(404, "Not Found");
          if (req.method === "GET") {
            knownQuery(["per_page", "page", "since"]);
            reply = this.comments.filter((c) => c.issue === issue).map((c) => ({ id: c.id, body: c.body, user: { login: "muse[bot]" } }));
          } else if (req.method === "POST") {
            knownQuery([]);
            const c: FakeComment = { id: 5000 + this.comments.length + 1, issue, body: parse(commentBody).body };
            this.comments.push(c);
            status = 201;
            reply = { id: c.id, body: c.body };
          } else throw new HttpError(404, "Not Found");
        } else if ((m = /^\/issues\/comments\/(\d+)$/.exec(rest)) && req.method === "PATCH") {
          knownQuery([]);
          const c = this.comments.find((x) => x.id === Number(m![1]));
          if (!c) throw new HttpError(404, "Not Found");
          c.body = parse(commentBody).body;
          reply = { id: c.id, body: c.body };
        } else if ((m = /^\/compare\/([^/]+)\.\.\.([^/]+)$/.exec(rest)) && req.method === "GET") {
          knownQuery(["per_page", "page"]);
          if (decodeURIComponent(m[1]) !== "main") throw new HttpError(404, "Not Found");
          const base = this.mergeBases.get(m[2]);
          if (!base) throw new HttpError(404, "Not Found");
          reply = { status: "diverged", ahead_by: 1, behind_by: 1, total_commits: 1, merge_base_commit: { sha: base }, commits: [] };
        } else {
          throw new HttpError(404, "Not Found");
        }
      }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      reply = { message: error.message, documentation_url: "https://docs.github.com/rest" };
    }
    record.status = status;
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(reply));
  }
}
