import path from "node:path";
import type { Env } from "../env";
import type { Logger } from "../log";
import { createGitHubContentRepo, type GitHubContentRepoOptions } from "./github-repo";
import { createLocalContentRepo, type LocalContentRepoOptions } from "./local-repo";
import type { ContentRepo } from "./repo";

export { createGitHubContentRepo, gitBlobSha, type GitHubContentRepoOptions } from "./github-repo";
export { createLocalContentRepo, type LocalContentRepoOptions } from "./local-repo";
export * from "./repo";

export interface ContentRepoOptions {
  /** Base for a relative MUSE_CONTENT_DIR (default: process.cwd()). */
  cwd?: string;
  /** The content directory inside MUSE_CONTENT_REPO (default: MUSE_CONTENT_DIR when relative, else "content"). */
  prefix?: string;
  log?: Logger;
  github?: Partial<GitHubContentRepoOptions>;
  local?: LocalContentRepoOptions;
}

/**
 * Where, inside the GitHub repository, the content directory is: the site
 * deployed from that repository reads MUSE_CONTENT_DIR, so that relative path
 * is the prefix ("content" by default); an absolute MUSE_CONTENT_DIR (a local
 * setting) falls back to "content".
 */
export function githubContentPrefix(env: Pick<Env, "MUSE_CONTENT_DIR">): string {
  const dir = env.MUSE_CONTENT_DIR.replace(/\\/g, "/");
  if (path.posix.isAbsolute(dir) || path.win32.isAbsolute(dir)) return "content";
  const normalized = path.posix.normalize(dir).replace(/^\.\/?/, "").replace(/\/+$/, "");
  return normalized.startsWith("..") ? "content" : normalized;
}

/**
 * The content repository as configured: GitHub (git data API) when
 * GITHUB_TOKEN and MUSE_CONTENT_REPO are set, otherwise the git repository at
 * MUSE_CONTENT_DIR (initialized if it is in none).
 */
export function createContentRepo(env: Env, options: ContentRepoOptions = {}): ContentRepo {
  if (env.GITHUB_TOKEN && env.MUSE_CONTENT_REPO) {
    return createGitHubContentRepo(env.MUSE_CONTENT_REPO, {
      token: env.GITHUB_TOKEN,
      baseUrl: env.GITHUB_API_URL,
      prefix: options.prefix ?? githubContentPrefix(env),
      log: options.log,
      ...options.github,
    });
  }
  return createLocalContentRepo(path.resolve(options.cwd ?? process.cwd(), env.MUSE_CONTENT_DIR), options.local);
}
