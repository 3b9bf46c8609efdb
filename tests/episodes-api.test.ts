import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resetEnvCache } from "../lib/env";

/**
 * GET /api/episodes through its route handler, against a temporary
 * MUSE_CONTENT_DIR (a copy of the fixtures, plus an invalid file).
 */

const FIXTURES = path.join(import.meta.dirname, "fixtures", "content");
let dir: string;
let empty: string;
const saved = { dir: process.env.MUSE_CONTENT_DIR, site: process.env.MUSE_SITE_URL, sample: process.env.MUSE_SAMPLE_DATA };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "muse-api-content-"));
  empty = mkdtempSync(path.join(os.tmpdir(), "muse-api-empty-"));
  cpSync(FIXTURES, dir, { recursive: true });
  writeFileSync(path.join(dir, "episodes", "chimera", "ep-003.md"), "---\ntitle: [unclosed\n---\n## What changed\n");
  process.env.MUSE_CONTENT_DIR = dir;
  process.env.MUSE_SITE_URL = "https://blog.example.com";
  delete process.env.MUSE_SAMPLE_DATA;
  resetEnvCache();
});
afterEach(() => {
  process.env.MUSE_CONTENT_DIR = dir;
  resetEnvCache();
});
afterAll(() => {
  for (const [key, value] of [
    ["MUSE_CONTENT_DIR", saved.dir],
    ["MUSE_SITE_URL", saved.site],
    ["MUSE_SAMPLE_DATA", saved.sample],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvCache();
  rmSync(dir, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

async function get(query = ""): Promise<{ status: number; body: Record<string, unknown> & { episodes?: Record<string, unknown>[] } }> {
  const { GET } = await import("../app/api/episodes/route");
  const res = await GET(new Request(`http://localhost/api/episodes${query}`));
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("GET /api/episodes", () => {
  it("lists the published episodes newest first, in English by default, skipping the invalid file", async () => {
    const { status, body } = await get();
    expect(status).toBe(200);
    expect(body).toMatchObject({ lang: "en", series: null, count: 3 });
    const episodes = body.episodes!;
    expect(episodes.map((e) => `${e.series}/${e.episode}`)).toEqual(["chimera/2", "banterpacks/1", "chimera/1"]);
    expect(episodes[0]).toMatchObject({
      lang: "en",
      requested_lang: "en",
      fallback: false,
      title: "The KV-cache fix brings p95 latency back down",
      date: "2026-11-15T06:00:00.000Z",
      url: "https://blog.example.com/en/episodes/chimera/ep-002",
      path: "episodes/chimera/ep-002.md",
      languages: ["en", "zh"],
      sample: false,
      improvements: 1,
    });
    expect(episodes[1]).toMatchObject({ sample: true });
    expect(episodes[2].tags).toContain("regression");
  });

  it("filters by series", async () => {
    const { status, body } = await get("?series=chimera");
    expect(status).toBe(200);
    expect(body.episodes!.map((e) => e.episode)).toEqual([2, 1]);
    expect((await get("?series=banterpacks")).body.count).toBe(1);
  });

  it("gives each episode in the requested language, or the English original marked as a fallback", async () => {
    const { body } = await get("?lang=de");
    const byId = Object.fromEntries(body.episodes!.map((e) => [`${e.series}/${e.episode}`, e]));
    expect(byId["chimera/1"]).toMatchObject({
      lang: "de",
      requested_lang: "de",
      fallback: false,
      url: "https://blog.example.com/de/episodes/chimera/ep-001",
      path: "episodes/chimera/ep-001.de.md",
    });
    expect(byId["chimera/1"].title).toMatch(/wurde langsamer/);
    expect(byId["chimera/2"]).toMatchObject({ lang: "en", requested_lang: "de", fallback: true, url: "https://blog.example.com/de/episodes/chimera/ep-002" });
    const zh = await get("?lang=zh&series=chimera");
    expect(zh.body.episodes!.map((e) => [e.episode, e.lang])).toEqual([
      [2, "zh"],
      [1, "en"],
    ]);
  });

  it("answers 400 naming the bad parameter", async () => {
    const lang = await get("?lang=fr");
    expect(lang.status).toBe(400);
    expect(lang.body).toMatchObject({ parameter: "lang" });
    expect(String(lang.body.error)).toMatch(/lang/);
    const series = await get("?series=nope");
    expect(series.status).toBe(400);
    expect(String(series.body.error)).toMatch(/series/);
    const unknown = await get("?lang=en&page=5");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ parameter: "page" });
    const limit = await get("?lang=en&limit=500");
    expect(limit.status).toBe(400);
    expect(limit.body).toMatchObject({ parameter: "limit" });
    const repeated = await get("?lang=en&lang=de");
    expect(repeated.status).toBe(400);
    expect(String(repeated.body.error)).toMatch(/lang.*more than once/);
  });

  it("answers an empty list for an empty content directory", async () => {
    process.env.MUSE_CONTENT_DIR = empty;
    resetEnvCache();
    const { status, body } = await get("?lang=hi");
    expect(status).toBe(200);
    expect(body).toMatchObject({ lang: "hi", count: 0, episodes: [] });
  });
});
