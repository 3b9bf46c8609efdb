import path from "node:path";
import type { Env } from "../env";
import type { Logger } from "../log";
import { createGitHubRepo, type GitHubRepoOptions } from "./github";
import { createLocalGitRepo } from "./local-git";
import type { UpstreamName, UpstreamRepo, UpstreamRepos } from "./types";

export { createGitHubClient, createGitHubRepo, parseRepoRef, type GitHubRepoOptions, type RepoRef } from "./github";
export { createLocalGitRepo } from "./local-git";
export * from "./types";

export interface UpstreamReposOptions {
  /** Base for relative *_DIR paths (default: process.cwd()). */
  cwd?: string;
  fetch?: GitHubRepoOptions["fetch"];
  log?: Logger;
}

/**
 * Banterhearts and Banterpacks as configured: each through GitHub when
 * GITHUB_TOKEN and its *_REPO are set, otherwise the local checkout at its *_DIR.
 */
export function createUpstreamRepos(env: Env, options: UpstreamReposOptions = {}): UpstreamRepos {
  const cwd = options.cwd ?? process.cwd();
  const open = (name: UpstreamName, repoRef: string | undefined, dir: string): UpstreamRepo =>
    env.GITHUB_TOKEN && repoRef
      ? createGitHubRepo(name, repoRef, { token: env.GITHUB_TOKEN, baseUrl: env.GITHUB_API_URL, fetch: options.fetch, log: options.log })
      : createLocalGitRepo(name, path.resolve(cwd, dir));
  return {
    hearts: open("banterhearts", env.BANTERHEARTS_REPO, env.BANTERHEARTS_DIR),
    packs: open("banterpacks", env.BANTERPACKS_REPO, env.BANTERPACKS_DIR),
  };
}
