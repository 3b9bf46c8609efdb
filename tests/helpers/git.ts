import { execFileSync } from "node:child_process";

/** Real git in `dir`, isolated from the machine's git configuration; `env` adds variables (e.g. commitDates). */
export function git(dir: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...env },
  }).trim();
}

/** The variables that date a commit; the author date defaults to the committer date. */
export function commitDates(committer: string, author?: string): Record<string, string> {
  return { GIT_AUTHOR_DATE: author ?? committer, GIT_COMMITTER_DATE: committer };
}
