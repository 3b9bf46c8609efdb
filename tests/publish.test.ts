import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { v5 as uuidv5 } from "uuid";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { facts as factsSchema, type Facts } from "../lib/analysis/facts";
import { council, councilOptions } from "../lib/agents/council";
import { createPublishAgent, episodeFilePathOf, publish, publishAgent, type PublishSummary } from "../lib/agents/publish";
import { translationRow } from "../lib/agents/translate";
import { getAgent, registeredAgents } from "../lib/agents/registry";
import { runAgent } from "../lib/agents/runner";
import { episodeRow, type EpisodeRow } from "../lib/clickhouse/tables";
import { createLocalContentRepo } from "../lib/content";
import { SECTIONS } from "../lib/episode/draft";
import { formatFact, type Fact } from "../lib/episode/fact";
import { episodeFrontMatter, parseEpisodeFile, renderEpisode, type EpisodeFrontMatter } from "../lib/episode/file";
import type { LlmProvider } from "../lib/llm/provider";
import { translationSource } from "../lib/translate/episode";
import type { TranslationLang } from "../lib/translate/llm";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, seriesOf, testDeps } from "./helpers/deps";
import { insertWatcherRun, SAMPLE_ENV as ENV, SAMPLE_LINKS as LINKS, seedSampleWindowWithCommits } from "./helpers/sample-window";

/**
 * The publish agent on real ClickHouse and a real git repository in a temp
 * directory (the local content repository): what gets published (publishable
 * originals at or above the threshold and their verified translations; never
 * drafts or rejected rows), one commit per episode, rows marked, one pending
 * deployment, and idempotence under retries, crashes and racing publishers;
 * with the council's own episodes (fact references): waiting for the
 * translations so an episode lands in one commit, and the truth rule run again
 * on the exact file (a tampered file is refused). Time is the injected clock.
 */

let t: TestDatabase;
let site: http.Server;
let siteUrl = "";
let revalidations: { auth: string | undefined; path: string | undefined }[] = [];
let siteAnswer = 200;
const ADMIN = "admin-token-for-publish-tests-01";
const temps: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  // A stand-in for the site's POST /api/revalidate.
  site = http.createServer((req, res) => {
    revalidations.push({ auth: req.headers.authorization, path: `${req.method} ${req.url}` });
    res.writeHead(siteAnswer, { "content-type": "application/json" });
    res.end(JSON.stringify({ revalidated: siteAnswer === 200, now: Date.now() }));
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => site.close(resolve));
  await t.drop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

let contentDir = "";
beforeEach(async () => {
  await t.db.command("TRUNCATE TABLE episodes");
  await t.db.command("TRUNCATE TABLE deployments");
  contentDir = mkdtempSync(path.join(tmpdir(), "muse-publish-content-"));
  temps.push(contentDir);
  revalidations = [];
  siteAnswer = 200;
});

/** The publisher's "now" in the fixture tests (no wall clock). */
const NOW = "2026-11-20T14:00:00.000Z";
const deps = (envVars: Record<string, string> = {}, clock = fixedClock(NOW)) =>
  testDeps(t.db, { clock, envVars: { MUSE_CONTENT_DIR: contentDir, MUSE_SITE_URL: siteUrl, MUSE_ADMIN_TOKEN: ADMIN, ...envVars } });
const context = () => ({ runId: randomUUID(), progress: () => {} });
const git = (...args: string[]) => execFileSync("git", args, { cwd: contentDir, encoding: "utf8" }).trim();
const commitCount = () => Number(git("rev-list", "--count", "HEAD"));
const treeFiles = () => git("ls-tree", "-r", "--name-only", "HEAD").split("\n").filter(Boolean).sort();

// ---------------------------------------------------------------- fixtures

const HOUR = 3_600_000;
const created = new Date(Date.parse(NOW) - 2 * HOUR).toISOString();

function frontMatter(series: string, episode: number, lang: EpisodeFrontMatter["lang"], runId: string): EpisodeFrontMatter {
  return episodeFrontMatter.parse({
    title: lang === "en" ? `Latency story ${episode}` : `Latenzgeschichte ${episode}`,
    summary: "p95 latency fell.",
    series,
    episode,
    lang,
    date: "2026-11-20T12:00:00.000Z",
    run_id: runId,
    window: { from: "2026-11-13T12:00:00.000Z", to: "2026-11-20T12:00:00.000Z" },
    commits: { hearts: ["a".repeat(40)], packs: [] },
    models: ["llama3-8b"],
    metrics: {
      latency_p95_ms: 120.5,
      tokens_per_sec: 41.2,
      cost_per_1k: 0.012,
      user_latency_ms: 310,
      error_rate: 0.01,
      abandonment_rate: 0.02,
      correlation: 0.82,
      confidence: { value: 0.8, completeness: 1, correlation: 0.82, recency: 1, volume: 0.8, limiting: "volume" },
      regressions: 0,
      improvements: 1,
      changes: [],
      days: 7,
      joined_days: 7,
      bench_rows: 120,
      events: 5000,
      sessions: 80,
    },
    daily: [],
    claims: [],
    writer: { kind: "offline" },
    ...(lang === "en" ? {} : { translation_of: episodeFilePathOf(series, episode, "en") }),
  });
}

function markdown(series: string, episode: number, lang: EpisodeFrontMatter["lang"], runId: string): string {
  const sections = SECTIONS.map((s) => ({ heading: lang === "en" ? s.heading : `${s.heading} (${lang})`, markdown: `Text of ${s.key} in ${lang}.` }));
  return renderEpisode(frontMatter(series, episode, lang, runId), sections);
}

function row(fields: Partial<EpisodeRow> & Pick<EpisodeRow, "series" | "episode_num" | "lang" | "status">): EpisodeRow {
  const runId = fields.run_id ?? randomUUID();
  return episodeRow.parse({
    ts: created,
    updated_at: created,
    run_id: runId,
    title: `Episode ${fields.episode_num}`,
    summary: "",
    confidence_score: 0.8,
    correlation_strength: 0.82,
    tokens_total: 0,
    cost_total: 0,
    file_path: fields.episode_num > 0 && fields.lang === "en" ? episodeFilePathOf(fields.series, fields.episode_num, "en") : "",
    commit_sha: "",
    markdown: fields.episode_num > 0 ? markdown(fields.series, fields.episode_num, fields.lang, runId) : "---\ntitle: draft\n---\n",
    facts: "{}",
    claims: "[]",
    problems: [],
    writer: "{}",
    translation_of: fields.lang === "en" ? "" : episodeFilePathOf(fields.series, fields.episode_num, "en"),
    ...fields,
  });
}

async function insert(...rows: EpisodeRow[]) {
  await t.db.insert("episodes", rows);
}

async function episodes() {
  return t.db.query(
    "SELECT series, episode_num, lang, status, commit_sha, file_path, toString(run_id) AS run_id FROM episodes FINAL ORDER BY series, episode_num, lang, status",
  ) as Promise<{ series: string; episode_num: number; lang: string; status: string; commit_sha: string; file_path: string; run_id: string }[]>;
}

async function deployments() {
  return t.db.query(
    "SELECT commit_sha, status, toString(run_id) AS run_id, toString(episode_run_id) AS episode_run_id FROM deployments FINAL ORDER BY ts, commit_sha",
  ) as Promise<{ commit_sha: string; status: string; run_id: string; episode_run_id: string }[]>;
}

// ---------------------------------------------------------------- tests

describe("publish agent", () => {
  it("is registered, so the CLI, cron and API routes run it", () => {
    expect(registeredAgents()).toContain("publish");
    expect(getAgent("publish")).toBe(publishAgent);
  });

  it("commits a publishable episode and its verified translations in one commit; drafts, rejected and low-confidence rows stay", async () => {
    const original = row({ series: "chimera", episode_num: 1, lang: "en", status: "publishable" });
    const de = row({ series: "chimera", episode_num: 1, lang: "de", status: "publishable" });
    const zhDraft = row({ series: "chimera", episode_num: 1, lang: "zh", status: "draft" });
    const hiRejected = row({ series: "chimera", episode_num: 1, lang: "hi", status: "rejected" });
    const draft = row({ series: "banterpacks", episode_num: 0, lang: "en", status: "draft", confidence_score: 0.4 });
    const rejected = row({ series: "chimera", episode_num: 0, lang: "en", status: "rejected", confidence_score: 0.9 });
    // Numbered and publishable once, but below today's threshold (it was raised): not published.
    const belowThreshold = row({ series: "banterpacks", episode_num: 1, lang: "en", status: "publishable", confidence_score: 0.55 });
    await insert(original, de, zhDraft, hiRejected, draft, rejected, belowThreshold);

    const d = deps();
    const record = await runAgent(publishAgent, d, { trigger: "cli" });
    expect(record.status, record.error).toBe("ok");
    const summary = record.summary as PublishSummary;
    expect(summary).toMatchObject({ mode: "local", candidates: 1, failed: [], revalidation: "ok", dry_run: false });
    expect(summary.published).toEqual([
      {
        series: "chimera",
        episode: 1,
        langs: ["en", "de"],
        files: ["episodes/chimera/ep-001.md", "episodes/chimera/ep-001.de.md"],
        commit: git("rev-parse", "HEAD"),
        created: true,
      },
    ]);

    // Exactly one commit (the directory was in no repository: initialized), holding both files.
    expect(commitCount()).toBe(1);
    expect(treeFiles()).toEqual(["episodes/chimera/ep-001.de.md", "episodes/chimera/ep-001.md"]);
    expect(git("log", "-1", "--format=%s")).toBe("Publish chimera episode 001 (en, de)");
    const en = parseEpisodeFile(readFileSync(path.join(contentDir, "episodes/chimera/ep-001.md"), "utf8"));
    expect(en.frontMatter).toMatchObject({ series: "chimera", episode: 1, lang: "en", run_id: original.run_id });
    const deText = readFileSync(path.join(contentDir, "episodes/chimera/ep-001.de.md"), "utf8");
    const deFront = episodeFrontMatter.parse(parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(deText)![1]));
    expect(deFront).toMatchObject({ lang: "de", translation_of: "episodes/chimera/ep-001.md" });
    expect(git("status", "--porcelain")).toBe("");

    // Rows: the published ones marked with the commit and path, the others untouched.
    const head = git("rev-parse", "HEAD");
    expect(await episodes()).toEqual([
      { series: "banterpacks", episode_num: 0, lang: "en", status: "draft", commit_sha: "", file_path: "", run_id: draft.run_id },
      {
        series: "banterpacks",
        episode_num: 1,
        lang: "en",
        status: "publishable",
        commit_sha: "",
        file_path: "episodes/banterpacks/ep-001.md",
        run_id: belowThreshold.run_id,
      },
      { series: "chimera", episode_num: 0, lang: "en", status: "rejected", commit_sha: "", file_path: "", run_id: rejected.run_id },
      { series: "chimera", episode_num: 1, lang: "de", status: "published", commit_sha: head, file_path: "episodes/chimera/ep-001.de.md", run_id: de.run_id },
      {
        series: "chimera",
        episode_num: 1,
        lang: "en",
        status: "published",
        commit_sha: head,
        file_path: "episodes/chimera/ep-001.md",
        run_id: original.run_id,
      },
      { series: "chimera", episode_num: 1, lang: "hi", status: "rejected", commit_sha: "", file_path: "", run_id: hiRejected.run_id },
      { series: "chimera", episode_num: 1, lang: "zh", status: "draft", commit_sha: "", file_path: "", run_id: zhDraft.run_id },
    ]);
    // One pending deployment, keyed by the content commit, naming the episode's council run.
    expect(await deployments()).toEqual([{ commit_sha: head, status: "pending", run_id: record.run_id, episode_run_id: original.run_id }]);
    // Local mode: the site was asked to revalidate, with the admin token.
    expect(revalidations).toEqual([{ auth: `Bearer ${ADMIN}`, path: "POST /api/revalidate" }]);
    const metrics = d.metrics.pending();
    expect(metrics.filter((m) => m.metric === "muse.publish.episodes")).toEqual([
      expect.objectContaining({ tags: expect.arrayContaining(["series:chimera"]), points: [expect.objectContaining({ value: 1 })] }),
    ]);

    // A retried run finds nothing to do: no commit, no second file, no second deployment.
    const again = await runAgent(publishAgent, deps(), { trigger: "cli" });
    expect(again).toMatchObject({ status: "skipped", reason: "no publishable episodes or translations" });
    expect(commitCount()).toBe(1);
    expect(readdirSync(path.join(contentDir, "episodes/chimera")).sort()).toEqual(["ep-001.de.md", "ep-001.md"]);
    expect(await deployments()).toHaveLength(1);
  });

  it("publishes a translation finished after its original on its own, leaving the original's file alone", async () => {
    const original = row({ series: "chimera", episode_num: 4, lang: "en", status: "publishable" });
    const zh = row({ series: "chimera", episode_num: 4, lang: "zh", status: "draft" });
    await insert(original, zh);
    const first = await publish({ dryRun: false, limit: 10 }, deps(), context());
    expect(first.summary.published.map((p) => p.langs)).toEqual([["en"]]);

    // The translator finishes (and verifies) the zh translation later.
    await insert({ ...zh, status: "publishable", updated_at: new Date(Date.parse(NOW) + HOUR).toISOString() });
    const second = await publish({ dryRun: false, limit: 10 }, deps({}, fixedClock(new Date(Date.parse(NOW) + 2 * HOUR).toISOString())), context());
    expect(second.summary.published).toEqual([
      expect.objectContaining({ series: "chimera", episode: 4, langs: ["zh"], files: ["episodes/chimera/ep-004.zh.md"], created: true }),
    ]);
    expect(commitCount()).toBe(2);
    expect(git("show", "--name-only", "--format=%s", "HEAD").split("\n").filter(Boolean)).toEqual([
      "Publish translations of chimera episode 004 (zh)",
      "episodes/chimera/ep-004.zh.md",
    ]);
    const rows = await episodes();
    expect(rows.map((r) => [r.lang, r.status])).toEqual([
      ["en", "published"],
      ["zh", "published"],
    ]);
    expect(rows[1].commit_sha).toBe(git("rev-parse", "HEAD"));
    expect(rows[0].commit_sha).toBe(git("rev-parse", "HEAD^"));
    expect((await deployments()).map((d) => d.commit_sha)).toEqual([git("rev-parse", "HEAD^"), git("rev-parse", "HEAD")]);
  });

  it("after a crash between commit and bookkeeping, makes no new commit and keys the deployment by the commit that has the files", async () => {
    const original = row({ series: "banterpacks", episode_num: 2, lang: "en", status: "publishable" });
    await insert(original);
    // The crashed run got as far as the commit.
    const crashed = await createLocalContentRepo(contentDir).commitFiles({
      files: { "episodes/banterpacks/ep-002.md": original.markdown },
      message: "crashed run",
    });
    await createLocalContentRepo(contentDir).commitFiles({ files: { "episodes/other.md": "later\n" }, message: "an unrelated later commit" });
    siteAnswer = 500; // and the site is down: logged, not fatal

    const d = deps();
    const result = await publish({ dryRun: false, limit: 10 }, d, context());
    expect(result.status).toBe("ok");
    expect(result.summary.published).toEqual([expect.objectContaining({ commit: crashed.sha, created: false })]);
    expect(result.summary.revalidation).toBe("failed");
    expect(JSON.stringify(d.log.lines)).toMatch(/site revalidation failed/);
    expect(commitCount()).toBe(2);
    expect((await episodes())[0]).toMatchObject({ status: "published", commit_sha: crashed.sha });
    expect(await deployments()).toEqual([expect.objectContaining({ commit_sha: crashed.sha, status: "pending", episode_run_id: original.run_id })]);
  });

  it("two publishers racing (the lock bypassed) end with one commit and one file per episode", async () => {
    const a = row({ series: "chimera", episode_num: 7, lang: "en", status: "publishable" });
    const aDe = row({ series: "chimera", episode_num: 7, lang: "de", status: "publishable" });
    const b = row({ series: "banterpacks", episode_num: 3, lang: "en", status: "publishable" });
    await insert(a, aDe, b);

    // allSettled: a failing publisher must not keep writing into the next test.
    const settled = await Promise.allSettled([
      publish({ dryRun: false, limit: 10 }, deps(), context()),
      publish({ dryRun: false, limit: 10 }, deps(), context()),
    ]);
    const results = settled.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    });
    expect(results.every((r) => r.status === "ok")).toBe(true);
    // Each episode was committed once (by one of the two), the other found it there.
    const outcomes = results.flatMap((r) => r.summary.published.map((p) => `${p.series}/${p.episode}:${p.created}`)).sort();
    expect(outcomes).toEqual(["banterpacks/3:false", "banterpacks/3:true", "chimera/7:false", "chimera/7:true"]);
    expect(commitCount()).toBe(2);
    expect(treeFiles()).toEqual(["episodes/banterpacks/ep-003.md", "episodes/chimera/ep-007.de.md", "episodes/chimera/ep-007.md"]);
    expect(readdirSync(path.join(contentDir, "episodes/chimera")).sort()).toEqual(["ep-007.de.md", "ep-007.md"]);
    const rows = await episodes();
    expect(rows.map((r) => r.status)).toEqual(["published", "published", "published"]);
    // One deployment per commit, each commit the one that brought the episode's files.
    const deploys = await deployments();
    expect(deploys).toHaveLength(2);
    expect(new Set(deploys.map((d) => d.commit_sha))).toEqual(new Set(rows.map((r) => r.commit_sha)));
  });

  it("does not publish a file that would not parse, and a dry run writes nothing", async () => {
    const broken = row({ series: "chimera", episode_num: 9, lang: "en", status: "publishable" });
    broken.markdown = broken.markdown.replace("## Why it matters", "## Something else");
    const mislabelled = row({ series: "banterpacks", episode_num: 5, lang: "en", status: "publishable" });
    const mislabelledDe = row({ series: "banterpacks", episode_num: 5, lang: "de", status: "publishable" });
    mislabelledDe.markdown = mislabelledDe.markdown.replace(/^lang: .*$/m, "lang: zh");
    await insert(broken, mislabelled, mislabelledDe);

    const dry = await publish({ dryRun: true, limit: 10 }, deps(), context());
    expect(dry.summary.would_publish).toEqual([{ series: "banterpacks", episode: 5, langs: ["en"], files: ["episodes/banterpacks/ep-005.md"] }]);
    expect(dry.summary.failed.map((f) => `${f.series}/${f.episode}/${f.lang}`)).toEqual(["banterpacks/5/de", "chimera/9/en"]);
    expect(await createLocalContentRepo(contentDir).head()).toBeUndefined();
    expect((await episodes()).map((r) => r.status)).toEqual(["publishable", "publishable", "publishable"]);

    const d = deps();
    const real = await publish({ dryRun: false, limit: 10 }, d, context());
    expect(real.summary.published.map((p) => `${p.series}/${p.episode}:${p.langs.join(",")}`)).toEqual(["banterpacks/5:en"]);
    expect(real.summary.failed[0].problems.join("; ")).toMatch(/front-matter lang "zh" is not the row's "de"/);
    expect(real.summary.failed[1].problems.join("; ")).toMatch(/expected the H2 sections/);
    expect(seriesOf(d.metrics, "muse.publish.failures")[0]?.points[0].value).toBe(2);
    expect(treeFiles()).toEqual(["episodes/banterpacks/ep-005.md"]);
    expect((await episodes()).map((r) => `${r.series}/${r.episode_num}/${r.lang}:${r.status}`)).toEqual([
      "banterpacks/5/de:publishable",
      "banterpacks/5/en:published",
      "chimera/9/en:publishable",
    ]);
  });

  it("honours the limit and injects the content repository", async () => {
    await insert(
      row({ series: "chimera", episode_num: 11, lang: "en", status: "publishable" }),
      row({ series: "chimera", episode_num: 12, lang: "en", status: "publishable" }),
    );
    const repo = createLocalContentRepo(contentDir);
    const agent = createPublishAgent({ contentRepo: () => repo });
    const record = await runAgent(agent, deps(), { trigger: "api", options: { limit: 1 } });
    expect((record.summary as PublishSummary).published.map((p) => p.episode)).toEqual([11]);
    expect((record.summary as PublishSummary).candidates).toBe(2);
    await expect(runAgent(agent, deps(), { trigger: "api", options: { limit: 0 } })).rejects.toThrow(/limit/);
  });
});

// ---------------------------------------------------------------- the council's episodes

const NS = "3f0c9a61-7d2e-4b8a-9c5f-2e1d0b7a6c43";
const COUNCIL_NOW = "2026-11-15T01:00:00.000Z";
const MINUTE = 60_000;
const HEADINGS: Record<TranslationLang, string[]> = {
  de: ["Was sich geändert hat", "Warum es wichtig ist", "Benchmarks (Zusammenfassung)", "Nächste Schritte", "Links & Artefakte"],
  zh: ["变化", "为什么重要", "基准测试（摘要）", "后续步骤", "链接与产物"],
  hi: ["क्या बदला", "यह क्यों मायने रखता है", "बेंचमार्क (सारांश)", "अगले कदम", "लिंक और आर्टिफ़ैक्ट"],
};

describe("publish agent with the council's episodes (fact references, translations expected)", () => {
  let original: EpisodeRow;
  let facts: Facts;
  let series: string;
  const fact = (id: string): Fact => facts.facts.find((f) => f.id === id)!;

  beforeAll(async () => {
    await seedSampleWindowWithCommits(t.db, NS);
    await insertWatcherRun(t.db, { ts: "2026-11-15T00:55:00.000Z", runId: uuidv5("watcher", NS) });
    const written = await council(
      councilOptions.parse({ force: true }),
      testDeps(t.db, { clock: fixedClock(COUNCIL_NOW), envVars: ENV }),
      { runId: uuidv5("council", NS), progress: () => {} },
      { llm: null },
    );
    expect(written.summary).toMatchObject({ status: "publishable", episode: 1, problems: [] });
    [original] = await t.db.query("SELECT * FROM episodes FINAL WHERE lang = 'en' AND episode_num = 1", {}, episodeRow);
    expect(original.template).not.toBe("");
    facts = factsSchema.parse(JSON.parse(original.facts));
    series = original.series;
  });
  beforeEach(async () => {
    await insert(original);
  });

  /** A publishable translation as the translator stores it: the original's template (headings translated), rendered in its language. */
  function translation(lang: TranslationLang, at: number): EpisodeRow {
    const found = translationSource(original);
    if (!("source" in found)) throw new Error(found.problems.join("; "));
    const template = found.source.template;
    const text = { ...template, sections: template.sections.map((s, i) => ({ ...s, heading: HEADINGS[lang][i] ?? s.heading })) };
    const llm = { modelId: "gpt-4o-mini", provider: "mock" } as LlmProvider;
    return translationRow({
      source: found.source,
      lang,
      status: "publishable",
      text,
      problems: [],
      events: [],
      llm,
      now: new Date(at),
      previousVersion: undefined,
      links: LINKS,
    });
  }
  const councilTs = () => Date.parse(original.ts);
  const run = (clock: ReturnType<typeof fixedClock>) => publish({ dryRun: false, limit: 10 }, deps(ENV, clock), context(), { translationsExpected: true });
  const headFiles = () => git("show", "--name-only", "--format=", "HEAD").split("\n").filter(Boolean).sort();
  const nnn = (lang: string) => `episodes/${series}/ep-001${lang === "en" ? "" : `.${lang}`}.md`;

  it("waits for every translation before the deadline, then publishes the original with all of them in ONE commit", async () => {
    expect(original.ts).toBe(COUNCIL_NOW);
    const clock = fixedClock(new Date(councilTs() + 30 * MINUTE).toISOString());
    await insert(translation("de", clock.now().getTime()));
    // Half an hour after the council: zh and hi are missing, the original waits (and the German file with it).
    const early = await run(clock);
    expect(early).toMatchObject({ status: "skipped", summary: { candidates: 0, published: [] } });
    expect(await createLocalContentRepo(contentDir).head()).toBeUndefined();

    clock.advance(60 * MINUTE);
    await insert(translation("zh", clock.now().getTime()));
    expect((await run(clock)).summary.published).toEqual([]);

    clock.advance(MINUTE);
    await insert(translation("hi", clock.now().getTime()));
    const d = deps(ENV, clock);
    const done = await publish({ dryRun: false, limit: 10 }, d, context(), { translationsExpected: true });
    expect(done.summary.failed).toEqual([]);
    expect(done.summary.published).toEqual([
      { series, episode: 1, langs: ["en", "de", "zh", "hi"], files: ["en", "de", "zh", "hi"].map(nnn), commit: git("rev-parse", "HEAD"), created: true },
    ]);
    expect(commitCount()).toBe(1);
    expect(headFiles()).toEqual(["de", "hi", "en", "zh"].map(nnn).sort());
    expect(git("log", "-1", "--format=%s")).toBe(`Publish ${series} episode 001 (en, de, zh, hi)`);
    // Each file states the same facts in its own number format.
    const p95 = fact("hearts.latency_p95_ms");
    for (const lang of ["en", "de", "zh", "hi"] as const)
      expect(readFileSync(path.join(contentDir, nnn(lang)), "utf8")).toContain(`[${formatFact(p95, lang)}](#fact-hearts.latency_p95_ms)`);
    expect(readFileSync(path.join(contentDir, nnn("de")), "utf8")).toContain("[170,0 ms](#fact-hearts.latency_p95_ms)");
    const head = git("rev-parse", "HEAD");
    expect((await episodes()).map((r) => [r.lang, r.status, r.commit_sha])).toEqual(["de", "en", "hi", "zh"].map((l) => [l, "published", head]));
    expect(await deployments()).toEqual([expect.objectContaining({ commit_sha: head, status: "pending", episode_run_id: original.run_id })]);
    expect(seriesOf(d.metrics, "muse.publish.episodes").map((m) => m.points[0].value)).toEqual([1]);
  });

  it("after MUSE_TRANSLATION_WAIT_MINUTES, publishes the original with the translations that exist; a later one goes on its own", async () => {
    const clock = fixedClock(new Date(councilTs() + 119 * MINUTE).toISOString());
    await insert(translation("de", clock.now().getTime()));
    expect((await run(clock)).summary.published).toEqual([]);
    expect(await createLocalContentRepo(contentDir).head()).toBeUndefined();

    clock.set(new Date(councilTs() + 120 * MINUTE).toISOString());
    const due = await run(clock);
    expect(due.summary.published).toEqual([expect.objectContaining({ langs: ["en", "de"], files: [nnn("en"), nnn("de")], created: true })]);
    expect(headFiles()).toEqual([nnn("de"), nnn("en")].sort());

    clock.advance(10 * MINUTE);
    await insert(translation("zh", clock.now().getTime()));
    const later = await run(clock);
    expect(later.summary.published).toEqual([expect.objectContaining({ langs: ["zh"], files: [nnn("zh")], created: true })]);
    expect(commitCount()).toBe(2);
    expect(git("log", "-1", "--format=%s")).toBe(`Publish translations of ${series} episode 001 (zh)`);
  });

  it("a shorter MUSE_TRANSLATION_WAIT_MINUTES is honoured; without translations expected the original goes at once", async () => {
    const clock = fixedClock(new Date(councilTs() + 5 * MINUTE).toISOString());
    expect(
      (await publish({ dryRun: false, limit: 10 }, deps({ ...ENV, MUSE_TRANSLATION_WAIT_MINUTES: "10" }, clock), context(), { translationsExpected: true }))
        .summary.published,
    ).toEqual([]);
    const now = await publish({ dryRun: false, limit: 10 }, deps(ENV, clock), context(), { translationsExpected: false });
    expect(now.summary.published).toEqual([expect.objectContaining({ langs: ["en"] })]);
  });

  it.each<[string, (markdown: string) => string, RegExp]>([
    [
      "a number inserted into the prose",
      (m) => m.replace("## Next steps\n\n", "## Next steps\n\nExpect latency to drop by 35 ms next week.\n\n"),
      /^truth rule: Next steps: "35" is a number that no fact reference rendered/,
    ],
    [
      "an evidence link showing another value",
      (m) => m.replace(`[${formatFact(fact("hearts.latency_p95_ms"), "en")}](#fact-hearts.latency_p95_ms)`, "[120.0 ms](#fact-hearts.latency_p95_ms)"),
      /^truth rule: Benchmarks \(summary\): an evidence link to hearts\.latency_p95_ms shows "120\.0 ms" but the fact renders as "170\.0 ms"$/,
    ],
    [
      "a claim's value changed in the front-matter",
      (m) => m.replace(/(- id: "hearts\.latency_p95_ms"\n\s+value: )170\n/, "$1120\n"),
      /^truth rule: claims: hearts\.latency_p95_ms is 120 ms in the file but 170 ms in the facts$/,
    ],
  ])("refuses an original whose markdown was tampered with after the council (%s): counted, nothing committed", async (_label, tamper, problem) => {
    const markdown = tamper(original.markdown);
    expect(markdown).not.toBe(original.markdown);
    const clock = fixedClock(new Date(councilTs() + 3 * HOUR).toISOString());
    await insert({ ...original, markdown, updated_at: new Date(councilTs() + MINUTE).toISOString() });
    await insert(...(["de", "zh", "hi"] as const).map((l) => translation(l, councilTs() + 2 * MINUTE)));
    const d = deps(ENV, clock);
    const result = await publish({ dryRun: false, limit: 10 }, d, context(), { translationsExpected: true });
    expect(result.summary.published).toEqual([]);
    expect(result.summary.failed).toEqual([{ series, episode: 1, lang: "en", problems: [expect.stringMatching(problem)] }]);
    expect(seriesOf(d.metrics, "muse.publish.failures").map((m) => m.points[0].value)).toEqual([1]);
    expect(await createLocalContentRepo(contentDir).head()).toBeUndefined();
    expect((await episodes()).map((r) => r.status)).toEqual(["publishable", "publishable", "publishable", "publishable"]);
  });

  it("refuses a tampered translation (a number word of its own); its original and the others go without it", async () => {
    const clock = fixedClock(new Date(councilTs() + 3 * HOUR).toISOString());
    const de = translation("de", councilTs() + MINUTE);
    await insert({ ...de, markdown: de.markdown.replace("## Nächste Schritte\n\n", "## Nächste Schritte\n\nDie Latenz hat sich verdoppelt.\n\n") });
    await insert(translation("zh", councilTs() + MINUTE), translation("hi", councilTs() + MINUTE));
    const d = deps(ENV, clock);
    const result = await publish({ dryRun: false, limit: 10 }, d, context(), { translationsExpected: true });
    expect(result.summary.failed).toEqual([
      { series, episode: 1, lang: "de", problems: [expect.stringMatching(/^truth rule: Nächste Schritte: "verdoppelt" is a number word/)] },
    ]);
    expect(result.summary.published).toEqual([expect.objectContaining({ langs: ["en", "zh", "hi"] })]);
    expect(headFiles()).toEqual([nnn("en"), nnn("hi"), nnn("zh")].sort());
    expect(seriesOf(d.metrics, "muse.publish.failures").map((m) => m.points[0].value)).toEqual([1]);
  });
});
