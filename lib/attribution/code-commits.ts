import picomatch from "picomatch";
import type { CommitGraph, GraphCommit } from "./graph";

/**
 * Which commits can change performance. Banterhearts' benchmark bot commits
 * its reports (`reports/**`) to the same branch as the code, so the commit a
 * benchmark run is recorded under is often one that only added the previous
 * run's output. Blaming it for a change would name a commit that cannot have
 * caused it: the code it measured is the newest commit before it that changed
 * anything but output and documentation.
 */

/**
 * Paths whose changes cannot change performance: benchmark output, docs and
 * markdown anywhere. Overridden by MUSE_NON_CODE_GLOBS (lib/env.ts, whose
 * default must stay this list; tests/attribution-graph.test.ts checks it).
 */
export const DEFAULT_NON_CODE_GLOBS = ["reports/**", "docs/**", "**/*.md"];

/**
 * A predicate "can this commit change performance?". A commit all of whose
 * files match `globs` (picomatch syntax, dotfiles included, matched against
 * repository-relative paths) cannot; a commit with no files (an empty commit)
 * neither. A merge's files are what it brought to the branch (its diff
 * against the first parent), so a merge is code when it brought code, and
 * merging a branch of docs is not. An empty `globs` makes every file code.
 */
export function codeClassifier(globs: readonly string[] = DEFAULT_NON_CODE_GLOBS): (commit: Pick<GraphCommit, "files">) => boolean {
  const patterns = globs.map((g) => g.trim()).filter((g) => g !== "");
  const nonCode = patterns.length === 0 ? () => false : picomatch(patterns, { dot: true });
  return (commit) => commit.files.some((file) => !nonCode(file.replace(/^\.?\/+/, "")));
}

/**
 * The code a run committed by `sha` measured: `sha` itself when it is a code
 * commit, else the newest code commit on its first-parent history (the tree
 * the run measured differs from that commit's only in output and docs).
 * `sha` itself when no code commit is known before it (unknown commit, a
 * history of bot commits back to where the graph was loaded from): it is then
 * the best name there is.
 */
export function measuredCommit(graph: CommitGraph, sha: string, isCode: (c: Pick<GraphCommit, "files">) => boolean): string {
  for (const c of graph.firstParentChain(sha)) {
    if (isCode(c)) return c.sha;
  }
  return sha;
}
