import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeClassifier, DEFAULT_NON_CODE_GLOBS, measuredCommit } from "../lib/attribution/code-commits";
import { CommitGraph, commitsBetween, toGraphCommit, type GraphCommit } from "../lib/attribution/graph";
import { insertUpstreamCommits, loadCommitGraph } from "../lib/clickhouse/queries/upstream-commits";
import { parseEnv } from "../lib/env";
import { GitWriter } from "../lib/seed/git-writer";
import { createLocalGitRepo } from "../lib/upstream/local-git";
import type { UpstreamCommit } from "../lib/upstream/types";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * The commit graph read from real git repositories (written by GitWriter,
 * backdated, with real `--no-ff` merges) through createLocalGitRepo: ranges
 * follow the parents, not the clock, and bot commits that only add reports are
 * never what a run measured.
 */

const at = (iso: string) => new Date(iso);
const BOT = "bench-bot <bot@example.com>";
const DEV = "Ada Lovelace <ada@example.com>";

let root: string;
/** main: c1 ─ r1 ─ d1 ─ M ─ r2, with feature (f1, f2) branched at c1 and merged by M. */
let merged: Record<"c1" | "r1" | "f1" | "f2" | "d1" | "M" | "r2", string>;
let mergedCommits: UpstreamCommit[];
/** main: a ─ b ─ c ─ d, where c is dated before a and b (a rebase, a skewed clock). */
let skewed: Record<"a" | "b" | "c" | "d", string>;
let skewedCommits: UpstreamCommit[];
/** main: k1 ─ bot1 ─ bot2 ─ empty ─ k2 ─ bot3 */
let bots: Record<"k1" | "bot1" | "bot2" | "empty" | "k2" | "bot3", string>;
let botCommits: UpstreamCommit[];

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "muse-attribution-"));

  const m = await GitWriter.create(path.join(root, "merged"));
  const c1 = await m.commit("Add the kernel", at("2024-05-01T10:00:00Z"), { "src/kernel.py": "v1\n", "README.md": "# hearts\n" }, DEV);
  await m.branch("feature", c1);
  const r1 = await m.commit("bench: reports", at("2024-05-02T10:00:00Z"), { "reports/run1.json": "{}\n" }, BOT);
  await m.checkout("feature");
  // Feature work dated before r1 landed: a time range from r1 on would miss it.
  const f1 = await m.commit("Faster kernel", at("2024-05-01T12:00:00Z"), { "src/kernel.py": "v2\n" }, DEV);
  const f2 = await m.commit("Even faster kernel", at("2024-05-01T13:00:00Z"), { "src/kernel.py": "v3\n" }, DEV);
  await m.checkout("main");
  const d1 = await m.commit("Document the kernel", at("2024-05-03T10:00:00Z"), { "docs/kernel.txt": "how\n" }, DEV);
  const M = await m.merge("feature", "Merge feature", at("2024-05-04T10:00:00Z"), DEV);
  const r2 = await m.commit("bench: reports", at("2024-05-05T10:00:00Z"), { "reports/run2.json": "{}\n" }, BOT);
  merged = { c1, r1, f1, f2, d1, M, r2 };
  mergedCommits = await createLocalGitRepo("banterhearts", m.dir).listCommits();

  const s = await GitWriter.create(path.join(root, "skewed"));
  const a = await s.commit("a", at("2024-06-01T10:00:00Z"), { "src/a.py": "a\n" }, DEV);
  const b = await s.commit("b", at("2024-06-01T12:00:00Z"), { "src/b.py": "b\n" }, DEV);
  const c = await s.commit("c (rebased, old date)", at("2024-06-01T09:00:00Z"), { "src/c.py": "c\n" }, DEV);
  const d = await s.commit("d", at("2024-06-01T13:00:00Z"), { "src/d.py": "d\n" }, DEV);
  skewed = { a, b, c, d };
  skewedCommits = await createLocalGitRepo("banterhearts", s.dir).listCommits();

  const w = await GitWriter.create(path.join(root, "bots"));
  const k1 = await w.commit("Code", at("2024-07-01T10:00:00Z"), { "src/x.py": "1\n" }, DEV);
  const bot1 = await w.commit("bench: reports", at("2024-07-01T11:00:00Z"), { "reports/a.json": "{}\n" }, BOT);
  const bot2 = await w.commit("bench: reports and notes", at("2024-07-01T12:00:00Z"), { "reports/b.json": "{}\n", "reports/NOTES.md": "n\n" }, BOT);
  const empty = await w.commit("empty", at("2024-07-01T13:00:00Z"), {}, DEV);
  const k2 = await w.commit("Code and report", at("2024-07-01T14:00:00Z"), { "src/x.py": "2\n", "reports/c.json": "{}\n" }, DEV);
  const bot3 = await w.commit("bench: reports", at("2024-07-01T15:00:00Z"), { "reports/d.json": "{}\n" }, BOT);
  bots = { k1, bot1, bot2, empty, k2, bot3 };
  botCommits = await createLocalGitRepo("banterhearts", w.dir).listCommits();
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const graphOf = (commits: UpstreamCommit[]) => new CommitGraph(commits.map(toGraphCommit));
const shas = (commits: readonly GraphCommit[] | null | undefined) => commits?.map((c) => c.sha);
/** What Muse did before the graph: the commits dated after `from` and up to `to`. */
const byTime = (commits: UpstreamCommit[], from: string, to: string): GraphCommit[] => {
  const ts = (sha: string) => Date.parse(commits.find((c) => c.sha === sha)!.ts);
  return commits.filter((c) => Date.parse(c.ts) > ts(from) && Date.parse(c.ts) <= ts(to)).map(toGraphCommit);
};

describe("parents from local git", () => {
  it("records each commit's parents, first parent first; a root has none", () => {
    const bySha = new Map(mergedCommits.map((c) => [c.sha, c.parents]));
    expect(bySha.get(merged.c1)).toEqual([]);
    expect(bySha.get(merged.r1)).toEqual([merged.c1]);
    expect(bySha.get(merged.f1)).toEqual([merged.c1]);
    expect(bySha.get(merged.M)).toEqual([merged.d1, merged.f2]);
    // listCommits still lists the merged branch's own commits, and the merge's files are what it brought.
    expect(mergedCommits).toHaveLength(7);
    expect(mergedCommits.find((c) => c.sha === merged.M)!.files.map((f) => f.path)).toEqual(["src/kernel.py"]);
  });
});

describe("CommitGraph", () => {
  it("takes the first-parent range across a merge; the merge's branch commits are what it brought", () => {
    const g = graphOf(mergedCommits);
    expect(g.hasParents).toBe(true);
    expect(shas(g.firstParentRange(merged.c1, merged.r2))).toEqual([merged.r1, merged.d1, merged.M, merged.r2]);
    expect(shas(g.firstParentRange(merged.r1, merged.M))).toEqual([merged.d1, merged.M]);
    expect(g.firstParentRange(merged.M, merged.M)).toEqual([]);
    // f1 is not on r2's first-parent history; an unknown commit is not either.
    expect(g.firstParentRange(merged.f1, merged.r2)).toBeNull();
    expect(g.firstParentRange(merged.r2, merged.c1)).toBeNull();
    expect(g.firstParentRange("0".repeat(40), merged.r2)).toBeNull();

    expect(shas(g.mergedCommits(merged.M))).toEqual([merged.f1, merged.f2]);
    expect(g.mergedCommits(merged.d1)).toEqual([]);
    expect(g.mergedCommits("0".repeat(40))).toEqual([]);

    expect(shas(g.firstParentChain(merged.r2))).toEqual([merged.r2, merged.M, merged.d1, merged.r1, merged.c1]);
    expect(shas(g.firstParentChain(merged.r2, 2))).toEqual([merged.r2, merged.M]);
    expect(g.firstParentChain("0".repeat(40))).toEqual([]);
  });

  it("orders commits by the first-parent history: a merged branch's commits at their merge", () => {
    const order = graphOf(mergedCommits).order(merged.r2);
    expect(Object.fromEntries([...order].map(([sha, i]) => [Object.entries(merged).find(([, s]) => s === sha)![0], i]))).toEqual({
      c1: 0,
      r1: 1,
      d1: 2,
      M: 3,
      f1: 3,
      f2: 3,
      r2: 4,
    });
    // From the feature tip, only its own history.
    expect([...graphOf(mergedCommits).order(merged.f2)]).toEqual([
      [merged.c1, 0],
      [merged.f1, 1],
      [merged.f2, 2],
    ]);
  });

  it("keeps a commit dated before its parent inside the range, where a time range loses it", () => {
    const g = graphOf(skewedCommits);
    expect(shas(g.firstParentRange(skewed.a, skewed.d))).toEqual([skewed.b, skewed.c, skewed.d]);
    expect(shas(g.firstParentRange(skewed.b, skewed.c))).toEqual([skewed.c]);
    // By time, c (09:00) is before a (10:00): not between a and d, and "between b and c" is empty.
    expect(shas(byTime(skewedCommits, skewed.a, skewed.d))).toEqual([skewed.b, skewed.d]);
    expect(byTime(skewedCommits, skewed.b, skewed.c)).toEqual([]);
    const order = g.order(skewed.d);
    expect([skewed.a, skewed.b, skewed.c, skewed.d].map((s) => order.get(s))).toEqual([0, 1, 2, 3]);
  });

  it("answers commitsBetween by the graph, and by time (saying so) when parents are missing", () => {
    const g = graphOf(skewedCommits);
    const timed = byTime(skewedCommits, skewed.a, skewed.d);
    expect(commitsBetween(g, skewed.a, skewed.d, timed)).toEqual({
      commits: g.firstParentRange(skewed.a, skewed.d),
      method: "graph",
    });

    // Rows stored before sql/012: no parents anywhere.
    const flat = new CommitGraph(skewedCommits.map((c) => ({ ...toGraphCommit(c), parents: [] })));
    expect(flat.hasParents).toBe(false);
    expect(commitsBetween(flat, skewed.a, skewed.d, timed)).toEqual({ commits: timed, method: "time" });

    // A commit the graph does not hold, and a `from` that is not an ancestor of `to`: time.
    expect(commitsBetween(g, "0".repeat(40), skewed.d, timed).method).toBe("time");
    expect(commitsBetween(graphOf(mergedCommits), merged.r2, merged.c1, []).method).toBe("time");

    // A single commit is a root, not missing parents.
    expect(new CommitGraph([toGraphCommit(skewedCommits[0])]).hasParents).toBe(true);
  });

  it("takes everything `to` has that `from` did not when `from` is on a merged branch", () => {
    const g = graphOf(mergedCommits);
    const between = commitsBetween(g, merged.f1, merged.r2, []);
    expect(between.method).toBe("graph");
    expect(shas(between.commits)).toEqual([merged.r1, merged.d1, merged.f2, merged.M, merged.r2]);
  });

  it("walks histories of 100k commits without recursion", () => {
    const N = 100_000;
    const sha = (prefix: string, i: number) => `${prefix}${String(i).padStart(39, "0")}`;
    const commits: GraphCommit[] = [];
    const node = (s: string, parents: string[], i: number): GraphCommit => ({
      sha: s,
      ts: new Date(Date.UTC(2024, 0, 1) - i * 1000).toISOString(), // every commit older than its parent
      parents,
      files: ["src/x.py"],
      message: "",
      author: "",
    });
    for (let i = 0; i < N; i++) commits.push(node(sha("a", i), i === 0 ? [] : [sha("a", i - 1)], i));
    // A branch of 50k commits off the root, merged at the tip.
    for (let i = 0; i < N / 2; i++) commits.push(node(sha("b", i), [i === 0 ? sha("a", 0) : sha("b", i - 1)], i));
    const tip = "c".repeat(40);
    commits.push(node(tip, [sha("a", N - 1), sha("b", N / 2 - 1)], 0));
    const g = new CommitGraph(commits);

    expect(g.firstParentChain(tip)).toHaveLength(N + 1);
    expect(g.firstParentRange(sha("a", 0), tip)).toHaveLength(N);
    const brought = g.mergedCommits(tip);
    expect(brought).toHaveLength(N / 2);
    expect(brought[0].sha).toBe(sha("b", 0));
    const order = g.order(tip);
    expect(order.get(sha("b", 123))).toBe(N);
    expect(order.get(sha("a", 123))).toBe(123);
    expect(commitsBetween(g, sha("b", 10), tip, []).commits).toHaveLength(N - 1 + N / 2 - 11 + 1);
  });
});

describe("code commits", () => {
  it("classifies reports-only, docs-only, markdown, mixed and empty commits", () => {
    const isCode = codeClassifier();
    const files = (...paths: string[]) => ({ files: paths });
    expect(isCode(files("reports/2024/run.json"))).toBe(false);
    expect(isCode(files("docs/guide.txt", "docs/img/a.png"))).toBe(false);
    expect(isCode(files("README.md"))).toBe(false);
    expect(isCode(files("src/kernels/NOTES.md", "reports/a.json"))).toBe(false);
    expect(isCode(files())).toBe(false);
    expect(isCode(files("reports/a.json", "src/kernel.py"))).toBe(true);
    expect(isCode(files("reportsx/a.json"))).toBe(true);
    expect(isCode(files("bench/config.yaml"))).toBe(true);

    // Other globs; none makes every file code.
    expect(codeClassifier(["*.txt"])(files("notes.txt"))).toBe(false);
    expect(codeClassifier(["*.txt"])(files("README.md"))).toBe(true);
    expect(codeClassifier([])(files("README.md"))).toBe(true);
    expect(codeClassifier([])(files())).toBe(false);
  });

  it("classifies real commits, merges by what they brought", () => {
    const isCode = codeClassifier();
    const code = (sha: string) => isCode(toGraphCommit([...mergedCommits, ...botCommits].find((c) => c.sha === sha)!));
    expect(code(merged.c1)).toBe(true); // src and README
    expect(code(merged.r1)).toBe(false);
    expect(code(merged.d1)).toBe(false);
    expect(code(merged.M)).toBe(true); // brought src/kernel.py
    expect(code(bots.bot2)).toBe(false);
    expect(code(bots.empty)).toBe(false);
    expect(code(bots.k2)).toBe(true);
  });

  it("finds the code a run measured, skipping bot, docs and empty commits", () => {
    const isCode = codeClassifier();
    const g = graphOf(botCommits);
    expect(measuredCommit(g, bots.k1, isCode)).toBe(bots.k1);
    expect(measuredCommit(g, bots.bot1, isCode)).toBe(bots.k1);
    expect(measuredCommit(g, bots.bot2, isCode)).toBe(bots.k1);
    expect(measuredCommit(g, bots.empty, isCode)).toBe(bots.k1);
    expect(measuredCommit(g, bots.k2, isCode)).toBe(bots.k2);
    expect(measuredCommit(g, bots.bot3, isCode)).toBe(bots.k2);

    const mg = graphOf(mergedCommits);
    expect(measuredCommit(mg, merged.r2, isCode)).toBe(merged.M);
    expect(measuredCommit(mg, merged.d1, isCode)).toBe(merged.c1);
    // Unknown, or no code before it in the graph: itself.
    expect(measuredCommit(mg, "0".repeat(40), isCode)).toBe("0".repeat(40));
    const onlyBot = new CommitGraph([toGraphCommit(botCommits.find((c) => c.sha === bots.bot3)!)]);
    expect(measuredCommit(onlyBot, bots.bot3, isCode)).toBe(bots.bot3);
  });

  it("reads its globs from MUSE_NON_CODE_GLOBS, defaulting to DEFAULT_NON_CODE_GLOBS", () => {
    expect(parseEnv({}).MUSE_NON_CODE_GLOBS).toEqual(DEFAULT_NON_CODE_GLOBS);
    expect(parseEnv({ MUSE_NON_CODE_GLOBS: " results/**, *.txt ,," }).MUSE_NON_CODE_GLOBS).toEqual(["results/**", "*.txt"]);
    expect(() => parseEnv({ MUSE_NON_CODE_GLOBS: "a b" })).toThrow(/MUSE_NON_CODE_GLOBS/);
  });
});

describe("parents in ClickHouse", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("round-trip through upstream_commits, and the loaded graph answers as the one read from git", async () => {
    await insertUpstreamCommits(t.db, "banterhearts", mergedCommits);
    const loaded = await loadCommitGraph(t.db, "banterhearts", new Date("2024-01-01T00:00:00Z"));
    expect(loaded).toEqual([...mergedCommits].map(toGraphCommit).sort((x, y) => x.ts.localeCompare(y.ts) || x.sha.localeCompare(y.sha)));
    const g = new CommitGraph(loaded);
    expect(shas(g.firstParentRange(merged.c1, merged.r2))).toEqual([merged.r1, merged.d1, merged.M, merged.r2]);
    expect(shas(g.mergedCommits(merged.M))).toEqual([merged.f1, merged.f2]);

    // The lower bound is inclusive, and the other repository's commits stay out.
    expect((await loadCommitGraph(t.db, "banterhearts", new Date("2024-05-04T10:00:00Z"))).map((c) => c.sha)).toEqual([merged.M, merged.r2]);
    expect(await loadCommitGraph(t.db, "banterpacks", new Date(0))).toEqual([]);
  });

  it("reads rows stored without parents (before sql/012) as no graph", async () => {
    // As an older Muse wrote them: no parents column in the insert.
    await t.db.insert(
      "upstream_commits",
      skewedCommits.map((c) => ({
        repo: "banterpacks",
        sha: c.sha,
        ts: c.ts,
        author: c.author,
        message: c.message,
        files: c.files.map((f) => f.path),
        files_changed: c.files.length,
        additions: 0,
        deletions: 0,
      })),
    );
    const loaded = await loadCommitGraph(t.db, "banterpacks", new Date(0));
    expect(loaded.map((c) => c.parents)).toEqual([[], [], [], []]);
    const g = new CommitGraph(loaded);
    expect(g.hasParents).toBe(false);
    const timed = byTime(skewedCommits, skewed.a, skewed.d);
    expect(commitsBetween(g, skewed.a, skewed.d, timed)).toEqual({ commits: timed, method: "time" });
  });
});
