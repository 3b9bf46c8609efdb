import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/**
 * A local stand-in for GitHub's REST API, for tests: a node:http server on
 * 127.0.0.1 backed by a real git object model (blobs, trees and commits hashed
 * exactly as git hashes them, so shas are real and an unchanged tree keeps its sha).
 *
 * It answers the endpoints Muse uses the way api.github.com does (bodies, status
 * codes, `Link` pagination, rate-limit headers) and checks each request's shape:
 * a token in `Authorization`, an `Accept` header, a `User-Agent`, a supported
 * `X-GitHub-Api-Version` when one is sent, and known query parameters. Where the
 * real API silently accepts a sloppy request (an unknown query parameter, no
 * Accept header) the fake refuses it with a 400 naming the problem, so mistakes
 * surface in tests instead of in production. Every request is recorded.
 *
 * Endpoints: GET /repos/{o}/{r}, /commits (list, paginated), /commits/{ref}
 * (files paginated by 300), /compare/{base}...{head} (commits oldest first,
 * paginated), /branches/{b}, /contents/{path}?ref (base64; `encoding:
 * "none"` above the inline limit; raw media type), and the git data API: GET/POST
 * /git/blobs, /git/trees, /git/commits, GET /git/ref/{ref}, POST /git/refs,
 * PATCH /git/refs/{ref} (422 on a non-fast-forward without force); pull
 * requests: GET /pulls (state, head as owner:branch — a bare branch name is
 * refused, as GitHub would silently ignore it and list every pull request —,
 * base, paginated), POST /pulls (422 "A pull request already exists" for a
 * second open one of the same head and base, "No commits between" when the
 * head adds nothing), GET and PATCH /pulls/{n} (title, body, state); GET
 * /collaborators/{user}/permission (the roles a test sets). `mergePull` and
 * `closePull` do what a person does on GitHub. Links use
 * /repositories/{id}/... like GitHub's do. Routes are a table (ROUTES), so
 * another endpoint is one more entry.
 *
 * Faults: `injectFault` answers the next N (matching) requests with a 5xx, a
 * secondary rate limit (403 + retry-after), a primary rate limit (403 +
 * x-ratelimit-remaining: 0) or a dropped connection. `beforeRequest` runs an
 * action just before the next matching request is answered (a concurrent
 * writer moving a branch between a client's read and its ref update).
 */

export const FAKE_TOKEN = "ghp_fakeTokenForTests0123456789abcdef";
export const SUPPORTED_API_VERSIONS = ["2022-11-28"];
/** GitHub's contents API inlines files up to 1 MB; bigger ones come back with encoding "none". */
export const CONTENTS_INLINE_LIMIT = 1024 * 1024;
const DOCS = "https://docs.github.com/rest";

// ---------------------------------------------------------------- git objects

export type FileMode = "100644" | "100755" | "120000" | "040000" | "160000";
type EntryType = "blob" | "tree" | "commit";

export interface TreeEntry {
  name: string;
  mode: FileMode;
  type: EntryType;
  sha: string;
}

export interface Signature {
  name: string;
  email: string;
  date: Date;
}

export interface CommitObject {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

type GitObject = { type: "blob"; content: Buffer } | { type: "tree"; entries: TreeEntry[] } | ({ type: "commit" } & CommitObject);

/** A file in a flattened tree: its path from the root. */
export interface FlatEntry {
  mode: FileMode;
  type: EntryType;
  sha: string;
}

const typeOfMode = (mode: FileMode): EntryType => (mode === "040000" ? "tree" : mode === "160000" ? "commit" : "blob");

/** Git's object database, in memory: content-addressed with git's own hashing. */
export class GitObjectStore {
  private readonly objects = new Map<string, GitObject>();

  private put(type: string, body: Buffer, object: GitObject): string {
    const sha = createHash("sha1").update(`${type} ${body.length}\0`).update(body).digest("hex");
    if (!this.objects.has(sha)) this.objects.set(sha, object);
    return sha;
  }

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  blob(sha: string): Buffer | undefined {
    const o = this.objects.get(sha);
    return o?.type === "blob" ? o.content : undefined;
  }

  tree(sha: string): TreeEntry[] | undefined {
    const o = this.objects.get(sha);
    return o?.type === "tree" ? o.entries : undefined;
  }

  commit(sha: string): CommitObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "commit" ? o : undefined;
  }

  /** A full sha, or the one commit an abbreviated sha (≥ 4 hex digits) names. */
  resolveCommit(ref: string): string | undefined {
    if (!/^[0-9a-f]{4,40}$/i.test(ref)) return undefined;
    const prefix = ref.toLowerCase();
    const hits = [...this.objects.entries()].filter(([sha, o]) => o.type === "commit" && sha.startsWith(prefix));
    return hits.length === 1 ? hits[0][0] : undefined;
  }

  writeBlob(content: Buffer | string): string {
    const buf = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    return this.put("blob", buf, { type: "blob", content: buf });
  }

  writeTree(entries: TreeEntry[]): string {
    // Git orders entries by name, comparing a tree's name as if it ended in "/".
    const key = (e: TreeEntry) => Buffer.from(e.type === "tree" ? `${e.name}/` : e.name);
    const sorted = [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
    const body = Buffer.concat(sorted.flatMap((e) => [Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.name}\0`), Buffer.from(e.sha, "hex")]));
    return this.put("tree", body, { type: "tree", entries: sorted });
  }

  writeCommit(commit: CommitObject): string {
    const sig = (s: Signature) => `${s.name} <${s.email}> ${Math.floor(s.date.getTime() / 1000)} +0000`;
    const text = [
      `tree ${commit.tree}`,
      ...commit.parents.map((p) => `parent ${p}`),
      `author ${sig(commit.author)}`,
      `committer ${sig(commit.committer)}`,
      "",
      commit.message,
    ].join("\n");
    return this.put("commit", Buffer.from(text, "utf8"), { type: "commit", ...commit });
  }

  /** Every non-tree entry under a tree, keyed by its path. */
  flatten(treeSha: string | undefined, prefix = "", into = new Map<string, FlatEntry>()): Map<string, FlatEntry> {
    if (treeSha === undefined) return into;
    for (const e of this.tree(treeSha) ?? []) {
      const p = prefix + e.name;
      if (e.type === "tree") this.flatten(e.sha, `${p}/`, into);
      else into.set(p, { mode: e.mode, type: e.type, sha: e.sha });
    }
    return into;
  }

  /** Writes the nested trees for a set of paths; returns the root tree's sha. */
  writeTreeFromPaths(files: Map<string, FlatEntry>): string {
    interface Dir {
      files: TreeEntry[];
      dirs: Map<string, Dir>;
    }
    const root: Dir = { files: [], dirs: new Map() };
    for (const [p, entry] of files) {
      const parts = p.split("/");
      let dir = root;
      for (const part of parts.slice(0, -1)) {
        let next = dir.dirs.get(part);
        if (!next) dir.dirs.set(part, (next = { files: [], dirs: new Map() }));
        dir = next;
      }
      dir.files.push({ name: parts[parts.length - 1], ...entry });
    }
    const write = (dir: Dir): string =>
      this.writeTree([...dir.files, ...[...dir.dirs].map(([name, sub]): TreeEntry => ({ name, mode: "040000", type: "tree", sha: write(sub) }))]);
    return write(root);
  }

  /** The entry at a path inside a tree ("" is the tree itself). */
  lookup(treeSha: string, filePath: string): TreeEntry | undefined {
    const parts = filePath.split("/").filter(Boolean);
    let entry: TreeEntry = { name: "", mode: "040000", type: "tree", sha: treeSha };
    for (const part of parts) {
      if (entry.type !== "tree") return undefined;
      const next = this.tree(entry.sha)?.find((e) => e.name === part);
      if (!next) return undefined;
      entry = next;
    }
    return entry;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    const seen = new Set<string>();
    const stack = [descendant];
    while (stack.length > 0) {
      const sha = stack.pop()!;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      stack.push(...(this.commit(sha)?.parents ?? []));
    }
    return false;
  }

  /** Commits reachable from `start` in `git log`'s default order: newest committer time first. */
  walk(start: string): string[] {
    const out: string[] = [];
    const seen = new Set([start]);
    const queue = [start];
    const time = (sha: string) => this.commit(sha)!.committer.date.getTime();
    while (queue.length > 0) {
      queue.sort((a, b) => time(b) - time(a)); // stable: ties keep discovery order, as git does
      const sha = queue.shift()!;
      out.push(sha);
      for (const p of this.commit(sha)!.parents) {
        if (!seen.has(p)) {
          seen.add(p);
          queue.push(p);
        }
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------- diffs

export interface DiffFile {
  filename: string;
  previous_filename?: string;
  status: "added" | "removed" | "modified" | "renamed";
  additions: number;
  deletions: number;
  sha: string;
}

const isBinary = (buf: Buffer) => buf.subarray(0, 8000).includes(0);
/** Lines with their terminators, so a missing final newline counts as a change, as in git. */
const splitLines = (buf: Buffer) => (buf.length === 0 ? [] : buf.toString("utf8").split(/(?<=\n)/));

/** Myers' O(ND) shortest edit script length between two line lists. */
function editDistance(a: string[], b: string[]): number {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  if (max === 0) return 0;
  const v = new Int32Array(2 * max + 2);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[k - 1 + max] < v[k + 1 + max]) ? v[k + 1 + max] : v[k - 1 + max] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[k + max] = x;
      if (x >= n && y >= m) return d;
    }
  }
  return max;
}

export function lineStats(before: Buffer | undefined, after: Buffer | undefined): { additions: number; deletions: number } {
  const old = before ?? Buffer.alloc(0);
  const now = after ?? Buffer.alloc(0);
  if (isBinary(old) || isBinary(now)) return { additions: 0, deletions: 0 };
  const a = splitLines(old);
  const b = splitLines(now);
  const common = (a.length + b.length - editDistance(a, b)) / 2;
  return { additions: b.length - common, deletions: a.length - common };
}

/** What a commit changed against its first parent (GitHub's view of a merge too). */
export function diffCommit(store: GitObjectStore, sha: string): DiffFile[] {
  const commit = store.commit(sha)!;
  return diffTrees(store, commit.parents[0] ? store.commit(commit.parents[0])!.tree : undefined, commit.tree);
}

/** Files changed between two trees, sorted by path; renames are detected when the content is identical. */
export function diffTrees(store: GitObjectStore, beforeTree: string | undefined, afterTree: string): DiffFile[] {
  const before = store.flatten(beforeTree);
  const after = store.flatten(afterTree);
  const files: DiffFile[] = [];
  const removed = new Map<string, string>(); // path → blob sha
  const added = new Map<string, string>();
  for (const [p, e] of before) if (!after.has(p)) removed.set(p, e.sha);
  for (const [p, e] of after) {
    const old = before.get(p);
    if (!old) added.set(p, e.sha);
    else if (old.sha !== e.sha || old.mode !== e.mode) {
      files.push({ filename: p, status: "modified", sha: e.sha, ...lineStats(store.blob(old.sha), store.blob(e.sha)) });
    }
  }
  for (const [p, blobSha] of added) {
    const from = [...removed].find(([, s]) => s === blobSha)?.[0];
    if (from !== undefined) {
      removed.delete(from);
      files.push({ filename: p, previous_filename: from, status: "renamed", sha: blobSha, additions: 0, deletions: 0 });
    } else {
      files.push({ filename: p, status: "added", sha: blobSha, ...lineStats(undefined, store.blob(blobSha)) });
    }
  }
  for (const [p, blobSha] of removed) {
    files.push({ filename: p, status: "removed", sha: blobSha, ...lineStats(store.blob(blobSha), undefined) });
  }
  return files.sort((x, y) => (x.filename < y.filename ? -1 : x.filename > y.filename ? 1 : 0));
}

// ---------------------------------------------------------------- repositories

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  store: GitObjectStore;
  /** "heads/main" → commit sha */
  refs: Map<string, string>;
  pulls: FakePull[];
  /** login → role (admin | maintain | write | triage | read) for GET /collaborators/{user}/permission. */
  collaborators: Map<string, string>;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  /** Branch names in this repository. */
  head: string;
  base: string;
  /** The head's commit when the pull request was merged or closed (until then the branch's current head). */
  headSha?: string;
  merged: boolean;
  mergeCommitSha: string | null;
  mergedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  mergedAt: Date | null;
  user: string;
}

export interface CommitSpec {
  /** Branch to commit on (default: the default branch); created if missing. */
  branch?: string;
  message: string;
  /** Files to write (text or bytes) or delete (null), applied to the first parent's tree. */
  files?: Record<string, string | Buffer | null>;
  /** Moves files keeping their content: old path → new path. */
  renames?: Record<string, string>;
  author?: { name: string; email: string };
  /** Default: the author. */
  committer?: { name: string; email: string };
  /** Author and committer time (default: now). */
  date?: Date | string;
  committerDate?: Date | string;
  /** Parents (e.g. [mainHead, featureHead] for a merge); default: the branch head. */
  parents?: string[];
}

// ---------------------------------------------------------------- faults and records

export type Fault =
  | { kind: "server-error"; status?: 500 | 502 | 503 | 504 }
  | { kind: "secondary-rate-limit"; retryAfterSeconds?: number }
  | { kind: "rate-limit"; resetInSeconds: number }
  | { kind: "connection-reset" };

export interface RecordedRequest {
  method: string;
  /** Path without the query, as sent (still URL-encoded). */
  path: string;
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: unknown;
  status: number;
  fault?: Fault["kind"];
  /** Milliseconds since the server started. */
  at: number;
}

/** Runs before a matching request is routed (see FakeGitHub.beforeRequest). */
interface PendingHook {
  action: (request: { method: string; path: string }) => void | Promise<void>;
  remaining: number;
  match?: (request: { method: string; path: string }) => boolean;
}

interface PendingFault {
  fault: Fault;
  remaining: number;
  match?: (request: { method: string; path: string }) => boolean;
}

// ---------------------------------------------------------------- HTTP plumbing

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (raw media type). */
  raw?: Buffer;
}

interface RouteContext {
  gh: FakeGitHub;
  repo: FakeRepo;
  params: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** The request URL, for Link headers. */
  url: URL;
}

interface Route {
  method: string;
  /** Matched against the path after /repos/{owner}/{repo}; capture groups are URL-decoded. */
  pattern: RegExp;
  query: readonly string[];
  handle(ctx: RouteContext): Reply;
}

const notFound = () => new HttpError(404, "Not Found");
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
/** GitHub wraps base64 at 60 characters. */
const base64Lines = (buf: Buffer) => (buf.toString("base64").match(/.{1,60}/g) ?? []).map((l) => `${l}\n`).join("");

function parsePaging(query: URLSearchParams, defaultPerPage: number, maxPerPage: number) {
  const perPage = Math.min(maxPerPage, Math.max(1, Number(query.get("per_page") ?? defaultPerPage) || defaultPerPage));
  const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
  return { perPage, page };
}

/** One page of items and GitHub's Link header (first/prev/next/last) for the others. */
function paginate<T>(ctx: RouteContext, items: T[], defaultPerPage: number, maxPerPage: number, linkBase: string) {
  const { perPage, page } = parsePaging(ctx.query, defaultPerPage, maxPerPage);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (n: number) => {
    const q = new URLSearchParams(ctx.query);
    q.set("page", String(n));
    return `<${ctx.gh.url}${linkBase}?${q.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${pageUrl(page - 1)}; rel="prev"`);
  if (page < last) links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`);
  if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(", ") } : ({} as Record<string, string>),
  };
}

function parseTime(value: string | null, name: string): Date | undefined {
  if (value === null) return undefined;
  // GitHub wants ISO 8601, YYYY-MM-DDTHH:MM:SSZ.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new HttpError(422, `Invalid value for parameter '${name}': expected an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)`);
  }
  return new Date(value);
}

// ---------------------------------------------------------------- JSON shapes

function repoUrl(gh: FakeGitHub, repo: FakeRepo) {
  return `${gh.url}/repos/${repo.fullName}`;
}

function commitSummaryJson(gh: FakeGitHub, repo: FakeRepo, sha: string) {
  const c = repo.store.commit(sha)!;
  const base = repoUrl(gh, repo);
  const sig = (s: Signature) => ({ name: s.name, email: s.email, date: iso(s.date) });
  return {
    sha,
    node_id: Buffer.from(`commit:${sha}`).toString("base64"),
    commit: {
      author: sig(c.author),
      committer: sig(c.committer),
      message: c.message,
      tree: { sha: c.tree, url: `${base}/git/trees/${c.tree}` },
      url: `${base}/git/commits/${sha}`,
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    },
    url: `${base}/commits/${sha}`,
    html_url: `https://github.com/${repo.fullName}/commit/${sha}`,
    comments_url: `${base}/commits/${sha}/comments`,
    // No GitHub account is linked to the fake's commit emails.
    author: null,
    committer: null,
    parents: c.parents.map((p) => ({ sha: p, url: `${base}/commits/${p}`, html_url: `https://github.com/${repo.fullName}/commit/${p}` })),
  };
}

function gitCommitJson(gh: FakeGitHub, repo: FakeRepo, sha: string) {
  const summary = commitSummaryJson(gh, repo, sha);
  const { author, committer, message, tree, verification } = summary.commit;
  return {
    sha,
    node_id: summary.node_id,
    url: summary.commit.url,
    html_url: summary.html_url,
    author,
    committer,
    message,
    tree,
    parents: summary.parents,
    verification,
  };
}

function treeJson(gh: FakeGitHub, repo: FakeRepo, sha: string, recursive: boolean) {
  const base = repoUrl(gh, repo);
  const entries: { path: string; mode: FileMode; type: EntryType; sha: string; size?: number; url?: string }[] = [];
  const visit = (treeSha: string, prefix: string) => {
    for (const e of repo.store.tree(treeSha) ?? []) {
      const p = prefix + e.name;
      const blob = e.type === "blob" ? repo.store.blob(e.sha) : undefined;
      entries.push({
        path: p,
        mode: e.mode,
        type: e.type,
        sha: e.sha,
        ...(blob ? { size: blob.length } : {}),
        ...(e.type !== "commit" ? { url: `${base}/git/${e.type}s/${e.sha}` } : {}),
      });
      if (recursive && e.type === "tree") visit(e.sha, `${p}/`);
    }
  };
  visit(sha, "");
  return { sha, url: `${base}/git/trees/${sha}`, tree: entries, truncated: false };
}

function refJson(gh: FakeGitHub, repo: FakeRepo, ref: string) {
  const sha = repo.refs.get(ref)!;
  const base = repoUrl(gh, repo);
  return {
    ref: `refs/${ref}`,
    node_id: Buffer.from(`ref:${ref}`).toString("base64"),
    url: `${base}/git/refs/${ref}`,
    object: { sha, type: "commit", url: `${base}/git/commits/${sha}` },
  };
}

/** A pull request as GitHub's REST API shows it (the fields a client reads, and their neighbours). */
export function pullJson(gh: FakeGitHub, repo: FakeRepo, pull: FakePull) {
  const base = repoUrl(gh, repo);
  const headSha = pull.headSha ?? repo.refs.get(`heads/${pull.head}`) ?? null;
  const repoRef = {
    id: repo.id,
    name: repo.name,
    full_name: repo.fullName,
    owner: { login: repo.owner },
    private: repo.private,
    html_url: `https://github.com/${repo.fullName}`,
  };
  return {
    url: `${base}/pulls/${pull.number}`,
    id: 500_000 + pull.number,
    node_id: Buffer.from(`pull:${repo.id}:${pull.number}`).toString("base64"),
    html_url: `https://github.com/${repo.fullName}/pull/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: { login: pull.user, type: "User" },
    body: pull.body === "" ? null : pull.body,
    created_at: iso(pull.createdAt),
    updated_at: iso(pull.updatedAt),
    closed_at: pull.closedAt ? iso(pull.closedAt) : null,
    merged_at: pull.mergedAt ? iso(pull.mergedAt) : null,
    merge_commit_sha: pull.mergeCommitSha,
    draft: false,
    head: { label: `${repo.owner}:${pull.head}`, ref: pull.head, sha: headSha, user: { login: repo.owner }, repo: repoRef },
    base: { label: `${repo.owner}:${pull.base}`, ref: pull.base, sha: repo.refs.get(`heads/${pull.base}`) ?? null, user: { login: repo.owner }, repo: repoRef },
    author_association: "MEMBER",
    merged: pull.merged,
    merged_by: pull.mergedBy ? { login: pull.mergedBy, type: "User" } : null,
  };
}

/** A branch name, full sha or abbreviated sha → commit sha. */
function resolveRef(repo: FakeRepo, ref: string): string | undefined {
  return repo.refs.get(`heads/${ref}`) ?? repo.refs.get(`tags/${ref}`) ?? repo.store.resolveCommit(ref);
}

function requireNotEmpty(repo: FakeRepo) {
  if (repo.refs.size === 0) throw new HttpError(409, "Git Repository is empty.");
}

// ---------------------------------------------------------------- request bodies

const gitSignatureBody = z.object({ name: z.string().min(1), email: z.string().min(1), date: z.string().optional() });
const blobBody = z.object({ content: z.string(), encoding: z.enum(["utf-8", "base64"]).default("utf-8") });
const treeBody = z.object({
  base_tree: z.string().optional(),
  tree: z.array(
    z.object({
      path: z.string().min(1),
      mode: z.enum(["100644", "100755", "040000", "160000", "120000"]),
      type: z.enum(["blob", "tree", "commit"]),
      sha: z.string().nullable().optional(),
      content: z.string().optional(),
    }),
  ),
});
const commitBody = z.object({
  message: z.string(),
  tree: z.string(),
  parents: z.array(z.string()).default([]),
  author: gitSignatureBody.optional(),
  committer: gitSignatureBody.optional(),
});
const createRefBody = z.object({ ref: z.string().regex(/^refs\/[\w./-]+$/), sha: z.string() });
// https://docs.github.com/rest/pulls/pulls: only the documented fields (a 422 naming any other).
const createPullBody = z.strictObject({
  title: z.string().min(1).max(256),
  head: z.string().min(1),
  head_repo: z.string().optional(),
  base: z.string().min(1),
  body: z.string().max(65536).optional(),
  maintainer_can_modify: z.boolean().optional(),
  draft: z.boolean().optional(),
  issue: z.number().int().optional(),
});
const updatePullBody = z.strictObject({
  title: z.string().min(1).max(256).optional(),
  body: z.string().max(65536).optional(),
  state: z.enum(["open", "closed"]).optional(),
  base: z.string().min(1).optional(),
  maintainer_can_modify: z.boolean().optional(),
});
const updateRefBody = z.object({ sha: z.string(), force: z.boolean().default(false) });

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new HttpError(422, "Invalid request.", {
      errors: result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`),
    });
  }
  return result.data;
}

// ---------------------------------------------------------------- routes

const PAGING = ["per_page", "page"] as const;

const ROUTES: Route[] = [
  {
    method: "GET",
    pattern: /^$/,
    query: [],
    handle: ({ gh, repo }) => ({
      status: 200,
      body: {
        id: repo.id,
        node_id: Buffer.from(`repo:${repo.id}`).toString("base64"),
        name: repo.name,
        full_name: repo.fullName,
        private: repo.private,
        visibility: repo.private ? "private" : "public",
        owner: { login: repo.owner, id: 1, type: "Organization" },
        html_url: `https://github.com/${repo.fullName}`,
        url: repoUrl(gh, repo),
        fork: false,
        default_branch: repo.defaultBranch,
        permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
      },
    }),
  },
  {
    method: "GET",
    pattern: /^\/commits$/,
    query: ["sha", "path", "since", "until", ...PAGING],
    handle(ctx) {
      const { repo, query } = ctx;
      requireNotEmpty(repo);
      const ref = query.get("sha") ?? repo.defaultBranch;
      const start = resolveRef(repo, ref);
      if (!start) throw new HttpError(404, `No commit found for SHA: ${ref}`);
      const since = parseTime(query.get("since"), "since");
      const until = parseTime(query.get("until"), "until");
      const filePath = query.get("path");
      const shas = repo.store.walk(start).filter((sha) => {
        const time = repo.store.commit(sha)!.committer.date.getTime();
        if (since && time < since.getTime()) return false;
        if (until && time > until.getTime()) return false;
        if (filePath) return diffCommit(repo.store, sha).some((f) => f.filename === filePath || f.filename.startsWith(`${filePath}/`));
        return true;
      });
      const page = paginate(ctx, shas, 30, 100, `/repositories/${repo.id}/commits`);
      return { status: 200, body: page.items.map((sha) => commitSummaryJson(ctx.gh, repo, sha)), headers: page.headers };
    },
  },
  {
    method: "GET",
    pattern: /^\/commits\/(.+)$/,
    query: PAGING,
    handle(ctx) {
      const { repo, params } = ctx;
      requireNotEmpty(repo);
      const sha = resolveRef(repo, params[0]);
      if (!sha) throw new HttpError(422, `No commit found for SHA: ${params[0]}`);
      const files = diffCommit(repo.store, sha);
      // Commit files are paginated, 300 a page, the rest of the commit repeated on each page.
      const page = paginate(ctx, files, 300, 300, `/repositories/${repo.id}/commits/${sha}`);
      const base = repoUrl(ctx.gh, repo);
      const additions = files.reduce((n, f) => n + f.additions, 0);
      const deletions = files.reduce((n, f) => n + f.deletions, 0);
      return {
        status: 200,
        headers: page.headers,
        body: {
          ...commitSummaryJson(ctx.gh, repo, sha),
          stats: { total: additions + deletions, additions, deletions },
          files: page.items.map((f) => ({
            sha: f.sha,
            filename: f.filename,
            status: f.status,
            additions: f.additions,
            deletions: f.deletions,
            changes: f.additions + f.deletions,
            blob_url: `https://github.com/${repo.fullName}/blob/${sha}/${f.filename}`,
            raw_url: `https://github.com/${repo.fullName}/raw/${sha}/${f.filename}`,
            contents_url: `${base}/contents/${f.filename}?ref=${sha}`,
            ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
          })),
        },
      };
    },
  },
  {
    method: "GET",
    pattern: /^\/compare\/(.+?)\.\.\.?(.+)$/,
    query: PAGING,
    handle(ctx) {
      const { repo, params } = ctx;
      requireNotEmpty(repo);
      const base = resolveRef(repo, params[0]);
      const head = resolveRef(repo, params[1]);
      if (!base || !head) throw notFound();
      const fromHead = repo.store.walk(head);
      const fromBase = repo.store.walk(base);
      const headSet = new Set(fromHead);
      const baseSet = new Set(fromBase);
      const ahead = fromHead.filter((s) => !baseSet.has(s));
      const behind = fromBase.filter((s) => !headSet.has(s));
      const mergeBase = fromHead.find((s) => baseSet.has(s));
      // Commits come oldest first, paginated; the diff (three dots: from the merge base) only on the first page.
      const page = paginate(ctx, [...ahead].reverse(), 250, 250, `/repositories/${repo.id}/compare/${params[0]}...${params[1]}`);
      const files = diffTrees(repo.store, mergeBase ? repo.store.commit(mergeBase)!.tree : undefined, repo.store.commit(head)!.tree);
      const base_url = `https://github.com/${repo.fullName}/compare/${params[0]}...${params[1]}`;
      return {
        status: 200,
        headers: page.headers,
        body: {
          url: `${repoUrl(ctx.gh, repo)}/compare/${params[0]}...${params[1]}`,
          html_url: base_url,
          permalink_url: base_url,
          diff_url: `${base_url}.diff`,
          patch_url: `${base_url}.patch`,
          base_commit: commitSummaryJson(ctx.gh, repo, base),
          merge_base_commit: mergeBase ? commitSummaryJson(ctx.gh, repo, mergeBase) : null,
          status: ahead.length > 0 ? (behind.length > 0 ? "diverged" : "ahead") : behind.length > 0 ? "behind" : "identical",
          ahead_by: ahead.length,
          behind_by: behind.length,
          total_commits: ahead.length,
          commits: page.items.map((sha) => commitSummaryJson(ctx.gh, repo, sha)),
          files: ctx.query.get("page") && ctx.query.get("page") !== "1" ? [] : files.slice(0, 300).map((f) => ({ ...f, changes: f.additions + f.deletions })),
        },
      };
    },
  },
  {
    method: "GET",
    pattern: /^\/branches\/(.+)$/,
    query: [],
    handle({ gh, repo, params }) {
      const sha = repo.refs.get(`heads/${params[0]}`);
      if (!sha) throw new HttpError(404, "Branch not found");
      const base = repoUrl(gh, repo);
      return {
        status: 200,
        body: {
          name: params[0],
          commit: commitSummaryJson(gh, repo, sha),
          _links: { self: `${base}/branches/${params[0]}`, html: `https://github.com/${repo.fullName}/tree/${params[0]}` },
          protected: false,
          protection: { enabled: false, required_status_checks: { enforcement_level: "off", contexts: [], checks: [] } },
          protection_url: `${base}/branches/${params[0]}/protection`,
        },
      };
    },
  },
  {
    method: "GET",
    pattern: /^\/contents(?:\/(.*))?$/,
    query: ["ref"],
    handle({ gh, repo, params, query, headers }) {
      if (repo.refs.size === 0) throw new HttpError(404, "This repository is empty.");
      const ref = query.get("ref") ?? repo.defaultBranch;
      const sha = resolveRef(repo, ref);
      if (!sha) throw new HttpError(404, `No commit found for the ref ${ref}`);
      const filePath = (params[0] ?? "").replace(/\/+$/, "");
      const entry = repo.store.lookup(repo.store.commit(sha)!.tree, filePath);
      if (!entry) throw notFound();
      const base = repoUrl(gh, repo);
      const describe = (e: TreeEntry, p: string) => ({
        type: e.type === "tree" ? "dir" : e.type === "commit" ? "submodule" : e.mode === "120000" ? "symlink" : "file",
        name: p.split("/").pop() ?? "",
        path: p,
        sha: e.sha,
        size: e.type === "blob" ? repo.store.blob(e.sha)!.length : 0,
        url: `${base}/contents/${p}?ref=${ref}`,
        git_url: e.type === "commit" ? null : `${base}/git/${e.type}s/${e.sha}`,
        html_url: `https://github.com/${repo.fullName}/blob/${ref}/${p}`,
        download_url: e.type === "blob" ? `https://raw.githubusercontent.com/${repo.fullName}/${ref}/${p}` : null,
      });
      if (entry.type === "tree") {
        return { status: 200, body: (repo.store.tree(entry.sha) ?? []).map((e) => describe(e, filePath ? `${filePath}/${e.name}` : e.name)) };
      }
      const content = entry.type === "blob" ? repo.store.blob(entry.sha)! : Buffer.alloc(0);
      if (/application\/vnd\.github(\.v3)?\.raw/.test(String(headers.accept))) {
        if (entry.type !== "blob") throw notFound();
        return { status: 200, body: undefined, raw: content, headers: { "content-type": "application/vnd.github.raw" } };
      }
      const info = describe(entry, filePath);
      if (info.type === "symlink") return { status: 200, body: { ...info, target: content.toString("utf8") } };
      if (info.type === "submodule") return { status: 200, body: { ...info, submodule_git_url: "" } };
      const inline = content.length <= gh.contentsInlineLimit;
      return {
        status: 200,
        body: { ...info, encoding: inline ? "base64" : "none", content: inline ? base64Lines(content) : "" },
      };
    },
  },
  {
    method: "GET",
    pattern: /^\/git\/blobs\/([0-9a-f]{40})$/,
    query: [],
    handle({ gh, repo, params }) {
      const content = repo.store.blob(params[0]);
      if (!content) throw notFound();
      return {
        status: 200,
        body: {
          sha: params[0],
          node_id: Buffer.from(`blob:${params[0]}`).toString("base64"),
          size: content.length,
          url: `${repoUrl(gh, repo)}/git/blobs/${params[0]}`,
          content: base64Lines(content),
          encoding: "base64",
        },
      };
    },
  },
  {
    method: "POST",
    pattern: /^\/git\/blobs$/,
    query: [],
    handle({ gh, repo, body }) {
      requireNotEmpty(repo); // GitHub's git database API refuses empty repositories
      const input = parseBody(blobBody, body);
      const sha = repo.store.writeBlob(Buffer.from(input.content, input.encoding === "base64" ? "base64" : "utf8"));
      return { status: 201, body: { sha, url: `${repoUrl(gh, repo)}/git/blobs/${sha}` }, headers: { location: `${repoUrl(gh, repo)}/git/blobs/${sha}` } };
    },
  },
  {
    method: "GET",
    pattern: /^\/git\/trees\/(.+)$/,
    query: ["recursive"],
    handle({ gh, repo, params, query }) {
      const sha = repo.store.tree(params[0]) ? params[0] : repo.store.commit(resolveRef(repo, params[0]) ?? "")?.tree;
      if (!sha) throw notFound();
      // GitHub: any value of `recursive` (even "false") asks for the whole tree.
      return { status: 200, body: treeJson(gh, repo, sha, query.has("recursive")) };
    },
  },
  {
    method: "POST",
    pattern: /^\/git\/trees$/,
    query: [],
    handle({ gh, repo, body }) {
      requireNotEmpty(repo);
      const input = parseBody(treeBody, body);
      let files = new Map<string, FlatEntry>();
      if (input.base_tree !== undefined) {
        if (!repo.store.tree(input.base_tree)) throw new HttpError(422, "Invalid tree info", { errors: ["base_tree is not a valid tree oid"] });
        files = repo.store.flatten(input.base_tree);
      }
      for (const item of input.tree) {
        const hasSha = item.sha !== undefined;
        if (hasSha === (item.content !== undefined)) {
          throw new HttpError(422, "Invalid tree info", { errors: [`${item.path}: exactly one of sha or content is required`] });
        }
        if (typeOfMode(item.mode) !== item.type)
          throw new HttpError(422, "Invalid tree info", { errors: [`${item.path}: mode ${item.mode} is not a ${item.type}`] });
        if (item.sha === null) {
          // Deleting a path (a file, or everything under a directory).
          for (const p of [...files.keys()]) if (p === item.path || p.startsWith(`${item.path}/`)) files.delete(p);
          continue;
        }
        if (item.type === "tree") {
          if (!item.sha || !repo.store.tree(item.sha))
            throw new HttpError(422, "Invalid tree info", { errors: [`${item.path}: tree ${item.sha} does not exist`] });
          for (const p of [...files.keys()]) if (p === item.path || p.startsWith(`${item.path}/`)) files.delete(p);
          for (const [p, e] of repo.store.flatten(item.sha)) files.set(`${item.path}/${p}`, e);
          continue;
        }
        const sha = item.content !== undefined ? repo.store.writeBlob(item.content) : item.sha!;
        if (item.type === "blob" && !repo.store.blob(sha))
          throw new HttpError(422, "Invalid tree info", { errors: [`${item.path}: blob ${sha} does not exist`] });
        files.set(item.path, { mode: item.mode, type: item.type, sha });
      }
      const sha = repo.store.writeTreeFromPaths(files);
      return { status: 201, body: treeJson(gh, repo, sha, false), headers: { location: `${repoUrl(gh, repo)}/git/trees/${sha}` } };
    },
  },
  {
    method: "GET",
    pattern: /^\/git\/commits\/([0-9a-f]{40})$/,
    query: [],
    handle({ gh, repo, params }) {
      if (!repo.store.commit(params[0])) throw notFound();
      return { status: 200, body: gitCommitJson(gh, repo, params[0]) };
    },
  },
  {
    method: "POST",
    pattern: /^\/git\/commits$/,
    query: [],
    handle({ gh, repo, body }) {
      requireNotEmpty(repo);
      const input = parseBody(commitBody, body);
      if (!repo.store.tree(input.tree)) throw new HttpError(422, "Tree SHA does not exist");
      for (const p of input.parents) {
        if (!repo.store.commit(p)) throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
      }
      const now = new Date();
      const signature = (s: z.infer<typeof gitSignatureBody> | undefined, fallback: Signature): Signature =>
        s ? { name: s.name, email: s.email, date: s.date ? new Date(s.date) : now } : fallback;
      const author = signature(input.author, { name: gh.user.login, email: gh.user.email, date: now });
      const committer = signature(input.committer, author);
      const sha = repo.store.writeCommit({ tree: input.tree, parents: input.parents, author, committer, message: input.message });
      return { status: 201, body: gitCommitJson(gh, repo, sha), headers: { location: `${repoUrl(gh, repo)}/git/commits/${sha}` } };
    },
  },
  {
    method: "GET",
    pattern: /^\/git\/ref\/(.+)$/,
    query: [],
    handle({ gh, repo, params }) {
      if (!repo.refs.has(params[0])) throw notFound();
      return { status: 200, body: refJson(gh, repo, params[0]) };
    },
  },
  {
    method: "POST",
    pattern: /^\/git\/refs$/,
    query: [],
    handle({ gh, repo, body }) {
      const input = parseBody(createRefBody, body);
      const ref = input.ref.replace(/^refs\//, "");
      if (repo.refs.has(ref)) throw new HttpError(422, "Reference already exists");
      if (!repo.store.commit(input.sha)) throw new HttpError(422, "Object does not exist");
      repo.refs.set(ref, input.sha);
      return { status: 201, body: refJson(gh, repo, ref), headers: { location: `${repoUrl(gh, repo)}/git/refs/${ref}` } };
    },
  },
  {
    method: "PATCH",
    pattern: /^\/git\/refs\/(.+)$/,
    query: [],
    handle({ gh, repo, params, body }) {
      const input = parseBody(updateRefBody, body);
      const current = repo.refs.get(params[0]);
      if (!current) throw new HttpError(422, "Reference does not exist");
      if (!repo.store.commit(input.sha)) throw new HttpError(422, "Object does not exist");
      if (!input.force && !repo.store.isAncestor(current, input.sha)) throw new HttpError(422, "Update is not a fast forward");
      repo.refs.set(params[0], input.sha);
      return { status: 200, body: refJson(gh, repo, params[0]) };
    },
  },
  {
    method: "GET",
    pattern: /^\/pulls$/,
    query: ["state", "head", "base", "sort", "direction", ...PAGING],
    handle(ctx) {
      const { repo, query } = ctx;
      const state = query.get("state") ?? "open";
      if (!["open", "closed", "all"].includes(state)) throw new HttpError(422, `Invalid value for parameter 'state': ${state}`);
      const head = query.get("head");
      let headRef: string | undefined;
      if (head !== null) {
        // GitHub silently ignores a head without its owner and lists every pull request: refused here.
        const m = /^([\w.-]+):(.+)$/.exec(head);
        if (!m) throw new HttpError(400, `fake-github: head must be user:ref-name or organization:ref-name (got ${head}); GitHub ignores a bare branch name`);
        if (m[1].toLowerCase() !== repo.owner.toLowerCase()) return { status: 200, body: [] };
        headRef = m[2];
      }
      const base = query.get("base");
      const pulls = repo.pulls
        .filter((p) => state === "all" || p.state === state)
        .filter((p) => headRef === undefined || p.head === headRef)
        .filter((p) => base === null || p.base === base)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.number - a.number);
      const page = paginate(ctx, pulls, 30, 100, `/repositories/${repo.id}/pulls`);
      return { status: 200, body: page.items.map((p) => pullJson(ctx.gh, repo, p)), headers: page.headers };
    },
  },
  {
    method: "POST",
    pattern: /^\/pulls$/,
    query: [],
    handle({ gh, repo, body }) {
      const input = parseBody(createPullBody, body);
      const head = input.head.includes(":") ? input.head.split(":")[1] : input.head;
      const validation = (message: string, field = "head") =>
        new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", field, code: "custom", message }] });
      const headSha = repo.refs.get(`heads/${head}`);
      if (!headSha) throw new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", field: "head", code: "invalid" }] });
      const baseSha = repo.refs.get(`heads/${input.base}`);
      if (!baseSha) throw new HttpError(422, "Validation Failed", { errors: [{ resource: "PullRequest", field: "base", code: "invalid" }] });
      if (repo.pulls.some((p) => p.state === "open" && p.head === head && p.base === input.base))
        throw validation(`A pull request already exists for ${repo.owner}:${head}.`);
      if (repo.store.isAncestor(headSha, baseSha)) throw validation(`No commits between ${input.base} and ${head}`);
      const now = new Date();
      const pull: FakePull = {
        number: repo.pulls.length + 1,
        title: input.title,
        body: input.body ?? "",
        state: "open",
        head,
        base: input.base,
        merged: false,
        mergeCommitSha: null,
        mergedBy: null,
        createdAt: now,
        updatedAt: now,
        closedAt: null,
        mergedAt: null,
        user: gh.user.login,
      };
      repo.pulls.push(pull);
      return { status: 201, body: pullJson(gh, repo, pull), headers: { location: `${repoUrl(gh, repo)}/pulls/${pull.number}` } };
    },
  },
  {
    method: "GET",
    pattern: /^\/pulls\/(\d+)$/,
    query: [],
    handle({ gh, repo, params }) {
      const pull = repo.pulls.find((p) => p.number === Number(params[0]));
      if (!pull) throw notFound();
      return { status: 200, body: pullJson(gh, repo, pull) };
    },
  },
  {
    method: "PATCH",
    pattern: /^\/pulls\/(\d+)$/,
    query: [],
    handle({ gh, repo, params, body }) {
      const pull = repo.pulls.find((p) => p.number === Number(params[0]));
      if (!pull) throw notFound();
      const input = parseBody(updatePullBody, body);
      if (input.state !== undefined && input.state !== pull.state && pull.merged)
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "state", code: "custom", message: "state cannot be changed. The pull request has been merged." }],
        });
      if (
        input.state === "open" &&
        pull.state === "closed" &&
        repo.pulls.some((p) => p !== pull && p.state === "open" && p.head === pull.head && p.base === pull.base)
      )
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "state", code: "custom", message: `A pull request already exists for ${repo.owner}:${pull.head}.` }],
        });
      if (input.title !== undefined) pull.title = input.title;
      if (input.body !== undefined) pull.body = input.body;
      if (input.base !== undefined) pull.base = input.base;
      if (input.state !== undefined && input.state !== pull.state) {
        pull.state = input.state;
        pull.closedAt = input.state === "closed" ? new Date() : null;
        pull.headSha = input.state === "closed" ? repo.refs.get(`heads/${pull.head}`) : undefined;
      }
      pull.updatedAt = new Date();
      return { status: 200, body: pullJson(gh, repo, pull) };
    },
  },
  {
    method: "GET",
    pattern: /^\/collaborators\/([^/]+)\/permission$/,
    query: [],
    handle({ repo, params }) {
      const role = repo.collaborators.get(params[0].toLowerCase());
      if (!role) throw notFound();
      // The real API's shape: permission is admin | write | read | none, role_name the finer role.
      const permission =
        role === "admin" ? "admin" : role === "maintain" || role === "write" ? "write" : role === "triage" || role === "read" ? "read" : "none";
      return { status: 200, body: { permission, role_name: role, user: { login: params[0], permissions: {} } } };
    },
  },
];

// ---------------------------------------------------------------- the server

export interface FakeGitHubOptions {
  /** The one token the server accepts (default FAKE_TOKEN). */
  token?: string;
  /** Files above this size come back from the contents API with encoding "none" (default 1 MB, as GitHub). */
  contentsInlineLimit?: number;
  apiVersions?: string[];
}

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  readonly token: string;
  readonly contentsInlineLimit: number;
  readonly user = { login: "muse-bot", email: "muse-bot@users.noreply.github.com" };
  private readonly apiVersions: string[];
  private readonly repos = new Map<string, FakeRepo>();
  private readonly faults: PendingFault[] = [];
  private readonly hooks: PendingHook[] = [];
  private readonly started = performance.now();
  private rateRemaining = 5000;
  private server?: http.Server;
  /** Base URL, e.g. http://127.0.0.1:54321 (no trailing slash). */
  url = "";

  private constructor(options: FakeGitHubOptions) {
    this.token = options.token ?? FAKE_TOKEN;
    this.contentsInlineLimit = options.contentsInlineLimit ?? CONTENTS_INLINE_LIMIT;
    this.apiVersions = options.apiVersions ?? SUPPORTED_API_VERSIONS;
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const gh = new FakeGitHub(options);
    const server = http.createServer((req, res) => {
      gh.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ message: `fake-github bug: ${String(error)}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    gh.server = server;
    gh.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return gh;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- the model, for tests to arrange and inspect

  createRepo(fullName: string, options: { defaultBranch?: string; private?: boolean } = {}): FakeRepo {
    const [owner, name] = fullName.split("/");
    if (!owner || !name) throw new Error(`fake-github: expected owner/name, got ${fullName}`);
    const repo: FakeRepo = {
      id: 1000 + this.repos.size,
      owner,
      name,
      fullName,
      defaultBranch: options.defaultBranch ?? "main",
      private: options.private ?? true,
      store: new GitObjectStore(),
      refs: new Map(),
      pulls: [],
      collaborators: new Map(),
    };
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(fullName: string): FakeRepo {
    const repo = this.repos.get(fullName.toLowerCase());
    if (!repo) throw new Error(`fake-github: no repository ${fullName}`);
    return repo;
  }

  /** Commits on a branch (moving it) and returns the new commit's sha. */
  commit(fullName: string, spec: CommitSpec): string {
    const repo = this.repo(fullName);
    const branch = spec.branch ?? repo.defaultBranch;
    const head = repo.refs.get(`heads/${branch}`);
    const parents = spec.parents ?? (head ? [head] : []);
    const files = repo.store.flatten(parents[0] ? repo.store.commit(parents[0])?.tree : undefined);
    for (const [from, to] of Object.entries(spec.renames ?? {})) {
      const entry = files.get(from);
      if (!entry) throw new Error(`fake-github: cannot rename missing ${from}`);
      files.delete(from);
      files.set(to, entry);
    }
    for (const [p, content] of Object.entries(spec.files ?? {})) {
      if (content === null) files.delete(p);
      else files.set(p, { mode: "100644", type: "blob", sha: repo.store.writeBlob(content) });
    }
    const date = spec.date === undefined ? new Date() : new Date(spec.date);
    const person = spec.author ?? { name: "Fake Author", email: "author@example.com" };
    const sha = repo.store.writeCommit({
      tree: repo.store.writeTreeFromPaths(files),
      parents,
      author: { ...person, date },
      committer: { ...(spec.committer ?? person), date: spec.committerDate === undefined ? date : new Date(spec.committerDate) },
      message: spec.message,
    });
    repo.refs.set(`heads/${branch}`, sha);
    return sha;
  }

  branchHead(fullName: string, branch?: string): string | undefined {
    const repo = this.repo(fullName);
    return repo.refs.get(`heads/${branch ?? repo.defaultBranch}`);
  }

  /** A file's bytes at a commit, or undefined. */
  fileAt(fullName: string, sha: string, filePath: string): Buffer | undefined {
    const repo = this.repo(fullName);
    const commit = repo.store.commit(sha);
    const entry = commit && repo.store.lookup(commit.tree, filePath);
    return entry?.type === "blob" ? repo.store.blob(entry.sha) : undefined;
  }

  /** The pull requests of a repository, oldest first. */
  pulls(fullName: string): FakePull[] {
    return this.repo(fullName).pulls;
  }

  /** A pull request as the REST API (and a webhook's `pull_request`) shows it. */
  pullJson(fullName: string, number: number): ReturnType<typeof pullJson> {
    const repo = this.repo(fullName);
    const pull = repo.pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`fake-github: no pull request #${number} in ${fullName}`);
    return pullJson(this, repo, pull);
  }

  /**
   * Merges an open pull request as the merge button does (a merge commit on the base, parents [base, head], the
   * base's tree with what the head changed since their merge base) and returns the merge commit.
   */
  mergePull(fullName: string, number: number, options: { by?: string; date?: Date } = {}): string {
    const repo = this.repo(fullName);
    const pull = repo.pulls.find((p) => p.number === number);
    if (!pull || pull.state !== "open") throw new Error(`fake-github: pull request #${number} is not open`);
    const baseSha = repo.refs.get(`heads/${pull.base}`)!;
    const headSha = repo.refs.get(`heads/${pull.head}`)!;
    const mergeBase = repo.store.walk(headSha).find((sha) => repo.store.isAncestor(sha, baseSha));
    const files = repo.store.flatten(repo.store.commit(baseSha)!.tree);
    const before = repo.store.flatten(mergeBase ? repo.store.commit(mergeBase)!.tree : undefined);
    for (const [p, e] of repo.store.flatten(repo.store.commit(headSha)!.tree)) if (before.get(p)?.sha !== e.sha) files.set(p, e);
    for (const p of before.keys()) if (!repo.store.flatten(repo.store.commit(headSha)!.tree).has(p)) files.delete(p);
    const date = options.date ?? new Date();
    const who = { name: options.by ?? "Reviewer", email: `${options.by ?? "reviewer"}@users.noreply.github.com`, date };
    const sha = repo.store.writeCommit({
      tree: repo.store.writeTreeFromPaths(files),
      parents: [baseSha, headSha],
      author: who,
      committer: { name: "GitHub", email: "noreply@github.com", date },
      message: `Merge pull request #${number} from ${repo.owner}/${pull.head}\n\n${pull.title}`,
    });
    repo.refs.set(`heads/${pull.base}`, sha);
    Object.assign(pull, {
      state: "closed",
      merged: true,
      mergeCommitSha: sha,
      mergedBy: options.by ?? "reviewer",
      mergedAt: date,
      closedAt: date,
      updatedAt: date,
      headSha,
    });
    return sha;
  }

  /** Closes a pull request without merging it, as a person on GitHub does. */
  closePull(fullName: string, number: number, date = new Date()): void {
    const repo = this.repo(fullName);
    const pull = repo.pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`fake-github: no pull request #${number}`);
    Object.assign(pull, { state: "closed", closedAt: date, updatedAt: date, headSha: repo.refs.get(`heads/${pull.head}`) });
  }

  /** Answers the next `times` requests (that `match`) with a fault instead of their response. */
  injectFault(fault: Fault, options: { times?: number; match?: PendingFault["match"] } = {}): void {
    this.faults.push({ fault, remaining: options.times ?? 1, match: options.match });
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Drops faults not yet used up (between tests). */
  clearFaults(): void {
    this.faults.length = 0;
    this.hooks.length = 0;
  }

  /**
   * Runs `action` just before the next `times` (matching) requests are routed,
   * after their faults: e.g. another writer moving a branch between a client's
   * read of the ref and its PATCH.
   */
  beforeRequest(action: PendingHook["action"], options: { times?: number; match?: PendingHook["match"] } = {}): void {
    this.hooks.push({ action, remaining: options.times ?? 1, match: options.match });
  }

  // ---- HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const rawBody = await readBody(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")])),
      body: undefined,
      status: 0,
      at: performance.now() - this.started,
    };
    this.requests.push(record);

    const fault = this.takeFault(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      if (fault.kind === "connection-reset") {
        record.status = 0;
        req.socket.destroy();
        return;
      }
      const reply = this.faultReply(fault);
      record.status = reply.status;
      this.send(res, reply);
      return;
    }

    const hook = this.hooks.find((h) => h.remaining > 0 && (!h.match || h.match({ method, path: url.pathname })));
    if (hook) {
      hook.remaining -= 1;
      if (hook.remaining === 0) this.hooks.splice(this.hooks.indexOf(hook), 1);
      await hook.action({ method, path: url.pathname });
    }

    let reply: Reply;
    try {
      record.body = parseJsonBody(rawBody, req.headers["content-type"]);
      this.checkHeaders(req.headers);
      reply = this.route(method, url, req.headers, record.body);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      reply = {
        status: error.status,
        body: { message: error.message, ...error.extra, documentation_url: DOCS, status: String(error.status) },
      };
    }
    record.status = reply.status;
    this.send(res, reply);
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const pending = this.faults.find((f) => f.remaining > 0 && (!f.match || f.match({ method, path })));
    if (!pending) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.faults.splice(this.faults.indexOf(pending), 1);
    return pending.fault;
  }

  private faultReply(fault: Exclude<Fault, { kind: "connection-reset" }>): Reply {
    switch (fault.kind) {
      case "server-error":
        return { status: fault.status ?? 502, body: { message: "Server Error" } };
      case "secondary-rate-limit":
        return {
          status: 403,
          headers: fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) },
          body: {
            message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${randomUUID()}.`,
            documentation_url: "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
          },
        };
      case "rate-limit":
        return {
          status: 403,
          headers: {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + fault.resetInSeconds),
          },
          body: {
            message: "API rate limit exceeded for user ID 1.",
            documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
          },
        };
    }
  }

  private checkHeaders(headers: http.IncomingHttpHeaders): void {
    // GitHub refuses requests without a User-Agent outright.
    if (!headers["user-agent"]) {
      throw new HttpError(
        403,
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
      );
    }
    const auth = headers.authorization;
    if (!auth) throw new HttpError(401, "Requires authentication");
    const match = /^(token|bearer)\s+(\S+)$/i.exec(auth);
    if (!match || match[2] !== this.token) throw new HttpError(401, "Bad credentials");
    const accept = headers.accept;
    if (!accept || !/(application\/(vnd\.github[\w.+-]*|json)|\*\/\*)/.test(accept)) {
      throw new HttpError(400, `fake-github: Accept must name a GitHub media type or application/json (got ${accept ?? "none"})`);
    }
    const version = headers["x-github-api-version"];
    if (version !== undefined && !this.apiVersions.includes(String(version))) {
      throw new HttpError(400, `API version ${String(version)} is not supported.`);
    }
  }

  private route(method: string, url: URL, headers: http.IncomingHttpHeaders, body: unknown): Reply {
    const segments = url.pathname.split("/").slice(1);
    let repo: FakeRepo | undefined;
    let rest: string[];
    if (segments[0] === "repos" && segments.length >= 3) {
      repo = this.repos.get(`${decodeURIComponent(segments[1])}/${decodeURIComponent(segments[2])}`.toLowerCase());
      rest = segments.slice(3);
    } else if (segments[0] === "repositories" && segments.length >= 2) {
      // The URLs GitHub puts in Link headers.
      repo = [...this.repos.values()].find((r) => String(r.id) === segments[1]);
      rest = segments.slice(2);
    } else {
      throw notFound();
    }
    if (!repo) throw notFound();
    // Decode each segment on its own so "%2F" and "/" both separate path parts.
    const subPath = rest.length === 0 ? "" : `/${rest.map((s) => decodeURIComponent(s)).join("/")}`;
    for (const route of ROUTES) {
      const match = route.pattern.exec(subPath);
      if (!match) continue;
      if (route.method !== method) continue;
      const unknown = [...url.searchParams.keys()].filter((k) => !route.query.includes(k));
      if (unknown.length > 0) {
        throw new HttpError(
          400,
          `fake-github: unknown query parameter(s) ${unknown.join(", ")} for ${method} ${route.pattern.source} (known: ${route.query.join(", ") || "none"})`,
        );
      }
      return route.handle({ gh: this, repo, params: match.slice(1), query: url.searchParams, headers, body, url });
    }
    throw notFound();
  }

  private send(res: http.ServerResponse, reply: Reply): void {
    const reset = Math.ceil(Date.now() / 1000) + 3600;
    this.rateRemaining = Math.max(0, this.rateRemaining - 1);
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": this.apiVersions[0],
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": randomUUID(),
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(this.rateRemaining),
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-used": String(5000 - this.rateRemaining),
      "x-ratelimit-resource": "core",
      ...reply.headers,
    };
    if (reply.raw) {
      res.writeHead(reply.status, headers);
      res.end(reply.raw);
      return;
    }
    res.writeHead(reply.status, headers);
    res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  if (contentType && !/application\/json/.test(contentType)) {
    throw new HttpError(415, `fake-github: expected a JSON body, got content-type ${contentType}`);
  }
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "Problems parsing JSON");
  }
}

/** Starts a fake GitHub; close it with `await gh.close()`. */
export function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  return FakeGitHub.start(options);
}
