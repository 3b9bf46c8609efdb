import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { FAKE_TOKEN, SUPPORTED_API_VERSIONS } from "./fake-github";

/**
 * A local stand-in for GitHub's Issues REST API (one repository), for the
 * tests of lib/reach/github-issues.ts. It answers as api.github.com does
 * (https://docs.github.com/rest/issues) and checks each request's shape the
 * way tests/helpers/fake-github.ts does: a token in `Authorization`, an
 * `Accept` header, a `User-Agent`, a supported `X-GitHub-Api-Version`, known
 * query parameters and bodies of the documented fields only (a 422 naming the
 * problem otherwise, as GitHub does for a bad body).
 *
 * Endpoints: GET/POST /repos/{o}/{r}/issues (list: state, labels, per_page,
 * page with a Link header), PATCH /repos/{o}/{r}/issues/{n}, GET/POST
 * /repos/{o}/{r}/issues/{n}/comments, POST /repos/{o}/{r}/issues/{n}/labels,
 * DELETE /repos/{o}/{r}/issues/{n}/labels/{name}. Every request is recorded.
 */

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  state_reason: string | null;
  labels: string[];
  comments: string[];
}

export interface IssuesRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  status: number;
}

const createBody = z.strictObject({
  title: z.string().min(1),
  body: z.string().optional(),
  labels: z.array(z.string()).optional(),
  assignees: z.array(z.string()).optional(),
  milestone: z.number().nullable().optional(),
});
const updateBody = z.strictObject({
  title: z.string().min(1).optional(),
  body: z.string().optional(),
  state: z.enum(["open", "closed"]).optional(),
  state_reason: z.enum(["completed", "not_planned", "duplicate", "reopened"]).nullable().optional(),
  labels: z.array(z.string()).optional(),
});
const commentBody = z.strictObject({ body: z.string().min(1) });
const labelsBody = z.strictObject({ labels: z.array(z.string()).min(1) });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeGitHubIssues {
  readonly requests: IssuesRequest[] = [];
  readonly issues: FakeIssue[] = [];
  url = "";
  private server?: http.Server;

  private constructor(
    readonly owner: string,
    readonly repo: string,
    readonly token: string,
  ) {}

  static async start(fullName = "banter/banterhearts", token = FAKE_TOKEN): Promise<FakeGitHubIssues> {
    const [owner, repo] = fullName.split("/");
    const gh = new FakeGitHubIssues(owner, repo, token);
    const server = http.createServer((req, res) => {
      gh.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake-github-issues bug: ${String(error)}` }));
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

  /** Issues whose body carries `marker`. */
  withMarker(marker: string): FakeIssue[] {
    return this.issues.filter((i) => i.body.includes(marker));
  }

  /** Write requests (anything but GET) since index `from`. */
  writes(from = 0): IssuesRequest[] {
    return this.requests.slice(from).filter((r) => r.method !== "GET");
  }

  private json(issue: FakeIssue) {
    const base = `${this.url}/repos/${this.owner}/${this.repo}`;
    return {
      id: 100_000 + issue.number,
      node_id: `I_${issue.number}`,
      url: `${base}/issues/${issue.number}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/issues/${issue.number}`,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      state_reason: issue.state_reason,
      labels: issue.labels.map((name, i) => ({ id: i + 1, name, color: "ededed", default: false })),
      comments: issue.comments.length,
      user: { login: "muse-bot" },
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    let body: unknown = undefined;
    const record: IssuesRequest = { method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body, status: 0 };
    this.requests.push(record);
    let status = 200;
    let reply: unknown;
    const extraHeaders: Record<string, string> = {};
    try {
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, "Problems parsing JSON");
        }
      }
      record.body = body;
      const auth = headers.authorization ?? "";
      if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) throw new HttpError(401, "Bad credentials");
      if (!headers.accept) throw new HttpError(400, "fake-github-issues: an Accept header is required");
      if (!headers["user-agent"]) throw new HttpError(403, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header");
      const version = headers["x-github-api-version"];
      if (version && !SUPPORTED_API_VERSIONS.includes(version)) throw new HttpError(400, `API version ${version} is not supported`);
      const prefix = `/repos/${this.owner}/${this.repo}/issues`;
      if (!url.pathname.startsWith(prefix)) throw new HttpError(404, "Not Found");
      const rest = url.pathname.slice(prefix.length);
      const knownQuery = (allowed: string[]) => {
        for (const key of url.searchParams.keys()) if (!allowed.includes(key)) throw new HttpError(400, `fake-github-issues: unknown query parameter ${key}`);
      };
      const issueOf = (n: string) => {
        const issue = this.issues.find((i) => i.number === Number(n));
        if (!issue) throw new HttpError(404, "Not Found");
        return issue;
      };
      const parse = <S extends z.ZodType>(schema: S): z.output<S> => {
        const result = schema.safeParse(body);
        if (!result.success)
          throw new HttpError(422, `Invalid request: ${result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
        return result.data;
      };
      let m: RegExpExecArray | null;
      if (rest === "" && req.method === "GET") {
        knownQuery(["state", "labels", "per_page", "page", "sort", "direction", "since", "creator"]);
        const state = url.searchParams.get("state") ?? "open";
        const labels = (url.searchParams.get("labels") ?? "").split(",").filter(Boolean);
        const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
        const page = Number(url.searchParams.get("page") ?? 1);
        const all = this.issues
          .filter((i) => state === "all" || i.state === state)
          .filter((i) => labels.every((l) => i.labels.includes(l)))
          .sort((a, b) => b.number - a.number);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        if (page * perPage < all.length) {
          const next = new URL(url);
          next.searchParams.set("page", String(page + 1));
          extraHeaders.link = `<${next.toString()}>; rel="next"`;
        }
        reply = slice.map((i) => this.json(i));
      } else if (rest === "" && req.method === "POST") {
        knownQuery([]);
        const input = parse(createBody);
        const issue: FakeIssue = {
          number: this.issues.length + 1,
          title: input.title,
          body: input.body ?? "",
          state: "open",
          state_reason: null,
          labels: [...new Set(input.labels ?? [])],
          comments: [],
        };
        this.issues.push(issue);
        status = 201;
        reply = this.json(issue);
      } else if ((m = /^\/(\d+)$/.exec(rest)) && req.method === "PATCH") {
        knownQuery([]);
        const issue = issueOf(m[1]);
        const input = parse(updateBody);
        if (input.title !== undefined) issue.title = input.title;
        if (input.body !== undefined) issue.body = input.body;
        if (input.labels !== undefined) issue.labels = [...new Set(input.labels)];
        if (input.state !== undefined) {
          issue.state = input.state;
          issue.state_reason = input.state_reason ?? (input.state === "closed" ? "completed" : null);
        }
        reply = this.json(issue);
      } else if ((m = /^\/(\d+)\/comments$/.exec(rest)) && req.method === "GET") {
        knownQuery(["per_page", "page", "since"]);
        reply = issueOf(m[1]).comments.map((c, i) => ({ id: i + 1, body: c, user: { login: "muse-bot" } }));
      } else if ((m = /^\/(\d+)\/comments$/.exec(rest)) && req.method === "POST") {
        knownQuery([]);
        const issue = issueOf(m[1]);
        issue.comments.push(parse(commentBody).body);
        status = 201;
        reply = { id: issue.comments.length, body: issue.comments.at(-1) };
      } else if ((m = /^\/(\d+)\/labels$/.exec(rest)) && req.method === "POST") {
        knownQuery([]);
        const issue = issueOf(m[1]);
        issue.labels = [...new Set([...issue.labels, ...parse(labelsBody).labels])];
        reply = issue.labels.map((name) => ({ name }));
      } else if ((m = /^\/(\d+)\/labels\/([^/]+)$/.exec(rest)) && req.method === "DELETE") {
        knownQuery([]);
        const issue = issueOf(m[1]);
        const name = decodeURIComponent(m[2]);
        if (!issue.labels.includes(name)) throw new HttpError(404, "Label does not exist");
        issue.labels = issue.labels.filter((l) => l !== name);
        reply = issue.labels.map((l) => ({ name: l }));
      } else {
        throw new HttpError(404, "Not Found");
      }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      reply = { message: error.message, documentation_url: "https://docs.github.com/rest/issues" };
    }
    record.status = status;
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...extraHeaders });
    res.end(JSON.stringify(reply));
  }
}
