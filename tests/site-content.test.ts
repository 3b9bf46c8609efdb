import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { episodesIn, findEpisode, loadContent, parseEpisodeText, resolveEpisode, seriesNeighbours, tagCounts, tagSlug } from "../lib/content/episodes";
import { renderMarkdown } from "../lib/content/markdown";
import { memoryLogger } from "../lib/log";
import { preferredLang } from "../lib/site/negotiate";
import { applyListQuery, listQueryString, parseListQuery, type IndexItem } from "../lib/site/list";
import { episodeSlug, parseEpisodeSlug, switchLangPath } from "../lib/site/paths";

const FIXTURES = path.join(import.meta.dirname, "fixtures", "content");
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the fixture content in a temp dir, to modify. */
function tempContent(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "muse-site-content-"));
  temps.push(dir);
  cpSync(FIXTURES, dir, { recursive: true });
  return dir;
}
const fixture = (rel: string) => readFileSync(path.join(FIXTURES, "episodes", rel), "utf8");

describe("loading episodes", () => {
  it("reads and validates the fixture episodes, newest first, and skips the invalid file with a warning", async () => {
    const logger = memoryLogger();
    const content = await loadContent({ contentDir: FIXTURES, sampleData: false, logger });
    expect(content.episodes.map((e) => e.id)).toEqual(["chimera/ep-002", "banterpacks/ep-001", "chimera/ep-001"]);
    expect(content.problems.map((p) => p.path)).toEqual(["episodes/banterpacks/ep-002.md"]);
    expect(content.problems[0].problems.join(" ")).toMatch(/date/);
    expect(logger.lines.some((l) => l.includes("episode file skipped") && l.includes("banterpacks/ep-002.md"))).toBe(true);

    const ep1 = findEpisode(content, "chimera", 1)!;
    expect(ep1.slug).toBe("ep-001");
    expect(ep1.langs).toEqual(["en", "de"]);
    expect(ep1.original.frontMatter.metrics.regressions).toBe(1);
    expect(ep1.original.sections.map((s) => s.heading)).toEqual(["What changed", "Why it matters", "Benchmarks (summary)", "Next steps", "Links & artifacts"]);
    // The German translation translates its headings: accepted on its valid front-matter.
    expect(ep1.translations.de!.sections[0].heading).toBe("Was sich geändert hat");
    expect(findEpisode(content, "chimera", 2)!.langs).toEqual(["en", "zh"]);
  });

  it("derives tags from the front-matter: series, models, what was found", async () => {
    const content = await loadContent({ contentDir: FIXTURES, sampleData: false });
    expect(findEpisode(content, "chimera", 1)!.tags).toEqual(["chimera", "llama-3.1-8b", "mistral-7b", "regression", "latency", "strong-correlation"]);
    expect(findEpisode(content, "chimera", 2)!.tags).toContain("improvement");
    expect(findEpisode(content, "banterpacks", 1)!.tags).toEqual(["banterpacks", "mistral-7b", "sample-data"]);
    expect(tagCounts(content)[0]).toEqual({ tag: "mistral-7b", count: 3 });
    expect(episodesIn(content, { tag: "regression" }).map((e) => e.id)).toEqual(["chimera/ep-001"]);
    expect(episodesIn(content, { series: "chimera" }).map((e) => e.id)).toEqual(["chimera/ep-002", "chimera/ep-001"]);
    expect(tagSlug("Qwen2.5 7B (int8)")).toBe("qwen2.5-7b-int8");
  });

  it("labels sample data: from a front-matter hint, or every episode with the site-wide flag", async () => {
    const hinted = await loadContent({ contentDir: FIXTURES, sampleData: false });
    expect(hinted.episodes.filter((e) => e.sample).map((e) => e.id)).toEqual(["banterpacks/ep-001"]);
    const dir = tempContent(); // another directory: its own cache entry
    const flagged = await loadContent({ contentDir: dir, sampleData: true, logger: memoryLogger() });
    expect(flagged.episodes.every((e) => e.sample && e.tags.includes("sample-data"))).toBe(true);
  });

  it("computes prev/next within a series by episode number", async () => {
    const content = await loadContent({ contentDir: FIXTURES, sampleData: false });
    const ep1 = findEpisode(content, "chimera", 1)!;
    const ep2 = findEpisode(content, "chimera", 2)!;
    expect(seriesNeighbours(content, ep1)).toEqual({ prev: undefined, next: ep2 });
    expect(seriesNeighbours(content, ep2)).toEqual({ prev: ep1, next: undefined });
    // The other series is never a neighbour.
    expect(seriesNeighbours(content, findEpisode(content, "banterpacks", 1)!)).toEqual({ prev: undefined, next: undefined });
  });

  it("resolves languages: the translation when it exists, else the English original flagged as a fallback", async () => {
    const content = await loadContent({ contentDir: FIXTURES, sampleData: false });
    const ep1 = findEpisode(content, "chimera", 1)!;
    const de = resolveEpisode(ep1, "de");
    expect(de).toMatchObject({ requestedLang: "de", contentLang: "de", fallback: false });
    expect(de.variant.frontMatter.title).toMatch(/wurde langsamer/);
    for (const lang of ["zh", "hi"] as const) {
      const r = resolveEpisode(ep1, lang);
      expect(r).toMatchObject({ requestedLang: lang, contentLang: "en", fallback: true });
      expect(r.variant).toBe(ep1.original);
    }
    expect(resolveEpisode(ep1, "en")).toMatchObject({ contentLang: "en", fallback: false });
    expect(resolveEpisode(findEpisode(content, "chimera", 2)!, "zh")).toMatchObject({ contentLang: "zh", fallback: false });
  });

  it("skips what does not belong, never throwing: orphan translations, mismatched front-matter, unknown series, bad names", async () => {
    const dir = tempContent();
    const episodes = path.join(dir, "episodes");
    // A translation without its original.
    writeFileSync(
      path.join(episodes, "banterpacks", "ep-007.hi.md"),
      fixture("chimera/ep-001.de.md")
        .replace('series: "chimera"', 'series: "banterpacks"')
        .replace("episode: 1", "episode: 7")
        .replace('lang: "de"', 'lang: "hi"'),
    );
    // Front-matter that disagrees with the file name.
    writeFileSync(path.join(episodes, "chimera", "ep-003.md"), fixture("chimera/ep-002.md"));
    // An English original whose sections are not the five of episodes.md.
    writeFileSync(
      path.join(episodes, "chimera", "ep-004.md"),
      fixture("chimera/ep-002.md").replace("episode: 2", "episode: 4").replace("## Next steps", "## Something else"),
    );
    mkdirSync(path.join(episodes, "misc"));
    writeFileSync(path.join(episodes, "misc", "ep-001.md"), fixture("chimera/ep-001.md"));
    writeFileSync(path.join(episodes, "chimera", "episode-1.md"), "not an episode");
    const content = await loadContent({ contentDir: dir, sampleData: false, logger: memoryLogger() });
    expect(content.episodes.map((e) => e.id)).toEqual(["chimera/ep-002", "banterpacks/ep-001", "chimera/ep-001"]);
    const problems = Object.fromEntries(content.problems.map((p) => [p.path, p.problems.join(" | ")]));
    expect(problems["episodes/banterpacks/ep-007.hi.md"]).toMatch(/without its English original/);
    expect(problems["episodes/chimera/ep-003.md"]).toMatch(/episode 2 does not match/);
    expect(problems["episodes/chimera/ep-004.md"]).toMatch(/H2 sections/);
    expect(problems["episodes/misc"]).toMatch(/unknown series/);
    expect(problems["episodes/chimera/episode-1.md"]).toMatch(/file name/);
  });

  it("has no episodes (and no error) when the content directory is empty or missing", async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), "muse-empty-"));
    temps.push(empty);
    expect((await loadContent({ contentDir: empty, sampleData: false })).episodes).toEqual([]);
    expect((await loadContent({ contentDir: path.join(empty, "nope"), sampleData: false })).episodes).toEqual([]);
  });

  it("sees a published (new or changed) file on the next read", async () => {
    const dir = tempContent();
    const before = await loadContent({ contentDir: dir, sampleData: false, logger: memoryLogger() });
    expect(await loadContent({ contentDir: dir, sampleData: false })).toBe(before); // memoised
    const file = path.join(dir, "episodes", "chimera", "ep-002.md");
    writeFileSync(file, readFileSync(file, "utf8").replace("The KV-cache fix brings p95 latency back down", "A new title"));
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    const after = await loadContent({ contentDir: dir, sampleData: false, logger: memoryLogger() });
    expect(findEpisode(after, "chimera", 2)!.original.frontMatter.title).toBe("A new title");
  });

  it("during next build trusts its memo: the files are listed once, not once per page", async () => {
    const dir = tempContent();
    const before = await loadContent({ contentDir: dir, sampleData: false, logger: memoryLogger() });
    rmSync(path.join(dir, "episodes", "chimera", "ep-002.md"));
    vi.stubEnv("NEXT_PHASE", "phase-production-build");
    try {
      expect(await loadContent({ contentDir: dir, sampleData: false })).toBe(before);
    } finally {
      vi.unstubAllEnvs();
    }
    // Outside a build the next read lists again and sees the file gone.
    const after = await loadContent({ contentDir: dir, sampleData: false, logger: memoryLogger() });
    expect(findEpisode(after, "chimera", 2)).toBeUndefined();
    expect(findEpisode(before, "chimera", 2)).toBeDefined();
    // An explicit window works anywhere.
    expect(await loadContent({ contentDir: dir, sampleData: false, trustMemoForMs: 60_000 })).toBe(after);
  });

  it("rejects a file without front-matter with a message", () => {
    expect(() => parseEpisodeText("## What changed\n\nno front-matter\n", "en")).toThrow(/front-matter/);
  });
});

describe("markdown rendering", () => {
  it("renders GFM with slugged headings, anchors, a table of contents and highlighted code", async () => {
    const { html, toc } = await renderMarkdown(
      "## What changed\n\nText with `code`.\n\n### The commit\n\n```python\ndef f(x):\n    return x\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Links & artifacts\n\n- [abc1234](https://github.com/acme/hearts/commit/abc1234)\n",
    );
    expect(toc).toEqual([
      { id: "user-content-what-changed", text: "What changed", depth: 2 },
      { id: "user-content-the-commit", text: "The commit", depth: 3 },
      { id: "user-content-links--artifacts", text: "Links & artifacts", depth: 2 },
    ]);
    expect(html).toContain('<h2 id="user-content-what-changed">');
    expect(html).toContain('href="#user-content-what-changed"');
    expect(html).toMatch(/<code class="hljs language-python">/);
    expect(html).toMatch(/<span class="hljs-keyword">def<\/span>/);
    expect(html).toContain("<table>");
    expect(html).toContain('<a href="https://github.com/acme/hearts/commit/abc1234">');
  });

  it("never lets episode markdown inject script: <script>, javascript: links, event handlers, iframes", async () => {
    const attacks = [
      "<script>alert(1)</script>",
      "<script src=https://evil.example/x.js></script>",
      "[click](javascript:alert(1))",
      "[click](JaVaScRiPt:alert(1))",
      "[click](  javascript:alert(1))",
      "![img](javascript:alert(1))",
      "<img src=x onerror=alert(1)>",
      '<a href="#" onclick="alert(1)">x</a>',
      '<iframe src="https://evil.example"></iframe>',
      '<svg onload="alert(1)"></svg>',
      "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      '<div style="background:url(javascript:alert(1))">x</div>',
      "## Heading <img src=x onerror=alert(1)>",
      "<details open ontoggle=alert(1)>",
      "[ref]\n\n[ref]: javascript:alert(1)",
    ];
    for (const attack of attacks) {
      const { html } = await renderMarkdown(`## What changed\n\n${attack}\n`);
      expect(html, attack).not.toMatch(/<script/i);
      expect(html, attack).not.toMatch(/javascript:/i);
      expect(html, attack).not.toMatch(/\son[a-z]+=/i);
      expect(html, attack).not.toMatch(/<iframe|<svg|style=|data:text/i);
    }
    // Code shows HTML as text, escaped.
    const { html } = await renderMarkdown("```html\n<script>alert(1)</script>\n```\n");
    expect(html).not.toMatch(/<script/);
    expect(html).toContain("&#x3C;");
  });
});

describe("index search, filters, sort and paging", () => {
  const item = (i: number, patch: Partial<IndexItem> = {}): IndexItem => ({
    id: `chimera/ep-${i}`,
    series: i % 2 ? "chimera" : "banterpacks",
    episode: i,
    title: `Episode ${i} about latency`,
    summary: i === 3 ? "The KV-cache fix" : "Something else",
    date: `2026-11-${String(i).padStart(2, "0")}T06:00:00.000Z`,
    href: `/en/episodes/x/ep-${i}`,
    tags: i === 4 ? ["regression"] : [],
    models: ["llama-3.1-8b"],
    sample: false,
    fallback: false,
    contentLang: "en",
    confidence: i / 100,
    ...patch,
  });
  const items = Array.from({ length: 25 }, (_, i) => item(i + 1));

  it("filters by words (all must match), series and tag; sorts; pages", () => {
    expect(applyListQuery(items, parseListQuery({ q: "kv-cache FIX" })).items.map((x) => x.episode)).toEqual([3]);
    expect(applyListQuery(items, parseListQuery({ q: "kv-cache nothing" })).total).toBe(0);
    expect(applyListQuery(items, parseListQuery({ tag: "regression" })).items.map((x) => x.episode)).toEqual([4]);
    const chimera = applyListQuery(items, parseListQuery({ series: "chimera" }));
    expect(chimera.total).toBe(13);
    expect(chimera.items[0].episode).toBe(25);
    const page3 = applyListQuery(items, parseListQuery({ page: "3" }), 10);
    expect(page3).toMatchObject({ page: 3, pages: 3, total: 25 });
    expect(page3.items.map((x) => x.episode)).toEqual([5, 4, 3, 2, 1]);
    expect(applyListQuery(items, parseListQuery({ sort: "oldest" })).items[0].episode).toBe(1);
    expect(applyListQuery(items, parseListQuery({ sort: "confidence" })).items[0].episode).toBe(25);
    // Past the last page: the last page.
    expect(applyListQuery(items, parseListQuery({ page: "99" }), 10).page).toBe(3);
  });

  it("reads the URL leniently and writes only what differs from the defaults", () => {
    expect(parseListQuery(new URLSearchParams("sort=bogus&page=-2"))).toEqual({ q: "", series: "", tag: "", sort: "newest", page: 1 });
    expect(listQueryString({ q: "kv cache", series: "", tag: "latency", sort: "newest", page: 2 })).toBe("?q=kv+cache&tag=latency&page=2");
    expect(listQueryString(parseListQuery({}))).toBe("");
  });
});

describe("site paths and languages", () => {
  it("maps episode slugs and switches a path's language", () => {
    expect(episodeSlug(7)).toBe("ep-007");
    expect(parseEpisodeSlug("ep-012")).toBe(12);
    expect(parseEpisodeSlug("12")).toBeUndefined();
    expect(switchLangPath("/de/episodes/chimera/ep-001", "zh")).toBe("/zh/episodes/chimera/ep-001");
    expect(switchLangPath("/en", "hi")).toBe("/hi");
  });

  it("negotiates the language of / from Accept-Language", () => {
    expect(preferredLang(null)).toBe("en");
    expect(preferredLang("de-DE,de;q=0.9,en;q=0.8")).toBe("de");
    expect(preferredLang("fr-FR, zh-CN;q=0.7, hi;q=0.9")).toBe("hi");
    expect(preferredLang("fr, es;q=0.5")).toBe("en");
    expect(preferredLang("de;q=0, zh")).toBe("zh");
  });
});
