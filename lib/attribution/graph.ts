import type { UpstreamCommit } from "../upstream/types";

/**
 * The commit graph of an upstream repository, for attributing a benchmark
 * change to the commits between two benchmark runs.
 *
 * Why a graph and not commit times: a commit's time says when it was made (or
 * rebased, or on which machine's clock), not when it reached the branch. A
 * commit can be older than its parent, and a merged branch's commits are often
 * older than the commits the branch was merged after, so "the commits with a
 * time between the two runs" misses some and blames others. The parents say
 * what the branch actually held at each run.
 *
 * Every walk here is iterative with an explicit stack or queue, so a history of
 * 100k commits cannot overflow the call stack, and every walk keeps a visited
 * set, so malformed data (a cycle) cannot loop forever.
 */

export interface GraphCommit {
  sha: string;
  /** Commit (committer) time, ISO 8601 UTC. Only for the fallback and for display: never for order. */
  ts: string;
  /** Full shas, first parent first; [] for a root commit (and for rows stored before sql/012). */
  parents: string[];
  /** Paths the commit changed; for a merge, what it brought (its diff against the first parent). */
  files: string[];
  message: string;
  author: string;
}

/** A commit read from upstream as a graph node. */
export function toGraphCommit(commit: UpstreamCommit): GraphCommit {
  return {
    sha: commit.sha,
    ts: commit.ts,
    parents: [...commit.parents],
    files: commit.files.map((f) => f.path),
    message: commit.message,
    author: commit.author,
  };
}

export class CommitGraph {
  private readonly bySha = new Map<string, GraphCommit>();

  /**
   * True when parents are known for the commits. Rows stored before the
   * parents column existed read `parents = []`, which looks like a root
   * commit; a real history has one root (or a few), so a graph of more than
   * one commit where no commit has a parent is "no graph": the parents were
   * never recorded, and attribution must fall back to commit time.
   */
  readonly hasParents: boolean;

  constructor(commits: readonly GraphCommit[]) {
    for (const c of commits) this.bySha.set(c.sha, c);
    this.hasParents = this.bySha.size <= 1 || [...this.bySha.values()].some((c) => c.parents.length > 0);
  }

  get size(): number {
    return this.bySha.size;
  }

  get(sha: string): GraphCommit | undefined {
    return this.bySha.get(sha);
  }

  /** Every commit of the graph (a copy, in load order). */
  commits(): GraphCommit[] {
    return [...this.bySha.values()];
  }

  /**
   * The branch tip: the newest commit (by time) that no known commit has as a
   * parent. Undefined for an empty graph.
   */
  tip(): string | undefined {
    const parents = new Set<string>();
    for (const c of this.bySha.values()) for (const p of c.parents) parents.add(p);
    let tip: GraphCommit | undefined;
    for (const c of this.bySha.values()) if (!parents.has(c.sha) && (tip === undefined || Date.parse(c.ts) > Date.parse(tip.ts))) tip = c;
    return tip?.sha;
  }

  /**
   * First-parent history ending at `sha`, newest first: what the branch's tip
   * was at each step (a merge stands for the branch it brought). Stops at the
   * first commit not in the graph (older than what was loaded), at a root, or
   * after `limit` commits; [] when `sha` is unknown.
   */
  firstParentChain(sha: string, limit = Number.POSITIVE_INFINITY): GraphCommit[] {
    const chain: GraphCommit[] = [];
    const seen = new Set<string>();
    let current = this.bySha.get(sha);
    while (current !== undefined && chain.length < limit && !seen.has(current.sha)) {
      seen.add(current.sha);
      chain.push(current);
      const first = current.parents[0];
      current = first === undefined ? undefined : this.bySha.get(first);
    }
    return chain;
  }

  /**
   * The commits after `from` up to and including `to` on `to`'s first-parent
   * history, oldest first: the steps the branch took from one run's commit to
   * the next. A merge in the range stands for its branch (its own commits are
   * in `mergedCommits`). [] when `from` is `to`; null when `from` is not on
   * that history or either commit is unknown, so the caller knows the graph
   * could not answer (rather than getting an empty range).
   */
  firstParentRange(from: string, to: string): GraphCommit[] | null {
    if (!this.bySha.has(from) || !this.bySha.has(to)) return null;
    const newestFirst: GraphCommit[] = [];
    for (const c of this.firstParentChain(to)) {
      if (c.sha === from) return newestFirst.reverse();
      newestFirst.push(c);
    }
    return null;
  }

  /**
   * The commits a merge brought: reachable from its non-first parents and not
   * from its first parent (`git log M^1..M^2`), oldest first in topological
   * order (parents before children, whatever their times say). [] for a
   * non-merge or an unknown commit. Costs one walk of the first parent's known
   * ancestry.
   */
  mergedCommits(merge: string): GraphCommit[] {
    const m = this.bySha.get(merge);
    if (m === undefined || m.parents.length < 2) return [];
    const [first, ...others] = m.parents;
    const onBranch = this.ancestors([first]);
    return this.topological(others, (sha) => !onBranch.has(sha));
  }

  /**
   * A position for every commit reachable from `tip`: its index along the
   * tip's first-parent history (0 = the oldest known commit on it), so runs
   * can be ordered by what the branch held rather than by clock. A commit
   * inside a merged branch gets the index of the merge that brought it to the
   * branch, since that is when it could first be measured there. Commits not
   * reachable from `tip` are absent.
   */
  order(tip: string): Map<string, number> {
    const chain = this.firstParentChain(tip).reverse();
    const index = new Map<string, number>();
    chain.forEach((c, i) => index.set(c.sha, i));
    // Oldest first: everything reachable from chain[i] and not yet indexed came with chain[i].
    // Each commit is visited once over the whole loop, so this stays linear in the graph.
    chain.forEach((c, i) => {
      const stack = c.parents.filter((p) => !index.has(p));
      while (stack.length > 0) {
        const sha = stack.pop()!;
        const commit = this.bySha.get(sha);
        if (commit === undefined || index.has(sha)) continue;
        index.set(sha, i);
        for (const p of commit.parents) if (!index.has(p)) stack.push(p);
      }
    });
    return index;
  }

  /** Whether `ancestor` is `sha` or one of its known ancestors. */
  isAncestor(ancestor: string, sha: string): boolean {
    if (!this.bySha.has(ancestor)) return false;
    return this.ancestors([sha]).has(ancestor);
  }

  /**
   * The commits reachable from `to` and not from `from` (`git log from..to`),
   * oldest first in topological order: everything `to` has that `from` did
   * not, side branches included. Undefined when either commit is unknown or
   * `from` is not an ancestor of `to` (the range would mean nothing).
   */
  ancestryRange(from: string, to: string): GraphCommit[] | undefined {
    if (!this.bySha.has(from) || !this.bySha.has(to)) return undefined;
    const before = this.ancestors([from]);
    const after = this.ancestors([to]);
    if (!after.has(from)) return undefined;
    return this.topological([to], (sha) => !before.has(sha));
  }

  /** The known commits reachable from `starts`, themselves included. */
  private ancestors(starts: readonly string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...starts];
    while (stack.length > 0) {
      const sha = stack.pop()!;
      if (seen.has(sha)) continue;
      const commit = this.bySha.get(sha);
      if (commit === undefined) continue;
      seen.add(sha);
      for (const p of commit.parents) if (!seen.has(p)) stack.push(p);
    }
    return seen;
  }

  /**
   * The known commits reachable from `starts` through commits that satisfy
   * `keep`, parents before children: an iterative depth-first post-order,
   * first parents first, so a linear branch comes out oldest first and a
   * branch merged into it comes just before its merge.
   */
  private topological(starts: readonly string[], keep: (sha: string) => boolean): GraphCommit[] {
    const out: GraphCommit[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (sha: string) => {
      const stack: { commit: GraphCommit; next: number }[] = [];
      const push = (s: string) => {
        const commit = this.bySha.get(s);
        if (commit === undefined || state.has(s) || !keep(s)) return;
        state.set(s, "open");
        stack.push({ commit, next: 0 });
      };
      push(sha);
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (top.next < top.commit.parents.length) {
          push(top.commit.parents[top.next++]);
        } else {
          stack.pop();
          state.set(top.commit.sha, "done");
          out.push(top.commit);
        }
      }
    };
    for (const s of starts) visit(s);
    return out;
  }
}

/**
 * The commits between two runs' commits (after `from`, up to and including
 * `to`): the candidates for what changed the measurement.
 *
 * By the graph when it can: `to`'s first-parent range from `from` (a merge
 * stands for its branch; expand it with `mergedCommits`), or, when `from` is
 * an ancestor off that line (a run on a branch that was merged since),
 * everything `to` has that `from` did not. Otherwise (no parents recorded,
 * a commit outside the loaded graph, `from` not an ancestor of `to` after a
 * force-push) by commit time: `byTime`, which the caller selected by time,
 * returned as it is with `method: "time"` so the answer can say it is the
 * weaker one.
 */
export function commitsBetween(graph: CommitGraph, from: string, to: string, byTime: GraphCommit[]): { commits: GraphCommit[]; method: "graph" | "time" } {
  if (graph.hasParents) {
    const range = graph.firstParentRange(from, to) ?? graph.ancestryRange(from, to);
    if (range !== undefined && range !== null) return { commits: range, method: "graph" };
  }
  return { commits: byTime, method: "time" };
}
