import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishableRows, syntheticEpisode } from "../../bench/episodes";
import { serveSite, type DemoSite } from "../../lib/demo/site";
import { projectRoot } from "../../lib/local-clickhouse/launcher";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { copyApp } from "../helpers/demo-site";
import { freePort } from "./helpers/clickhouse-child";
import { report, scanForSecrets } from "./helpers/leaks";

/**
 * `npm run demo` serves an episode published after its first build, with the
 * demo's own machinery (lib/demo/site.ts): the site is built and served behind
 * the demo's address; an episode is then published through
 * `POST /api/agents/publish` (the admin token), committed to a content
 * repository in a temp directory (never this checkout); with nobody
 * rebuilding anything, the demo sees the new file, builds the site into its
 * second build directory while the first build keeps answering, swaps, and the
 * episode's page answers 200 with its title — still the static page with no
 * framework JavaScript. Two real `next build`s of a copy of the app under
 * `.muse/` (the checkout's `.next` is never touched): minutes on two cores.
 * The swap logic alone, with injected processes and clock: tests/demo-redeploy.test.ts.
 */

const NAME = "demo-new-episode";
const appDir = path.join(projectRoot, ".muse", `${NAME}-site`);
const said: string[] = [];
let t: TestDatabase;
let work: string;
let contentDir: string;
let site: DemoSite | undefined;
let checkoutHead: string;

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decode = (html: string) =>
  html
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, "&");

async function get(url: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url, { redirect: "manual" });
  const text = await res.text();
  scanForSecrets(`GET ${new URL(url).pathname}`, text);
  return { status: res.status, type: res.headers.get("content-type") ?? "", text };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the demo said:\n${said.join("\n")}`);
    await sleep(500);
  }
}

beforeAll(async () => {
  checkoutHead = git(projectRoot, "rev-parse", "HEAD");
  t = await createTestDatabase();
  work = mkdtempSync(path.join(os.tmpdir(), `muse-${NAME}-`));
  contentDir = path.join(work, "content");
  cpSync(path.join(projectRoot, "tests", "fixtures", "content"), contentDir, { recursive: true });
  copyApp(appDir);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLICKHOUSE_URL: t.config.url,
    CLICKHOUSE_USER: t.config.username,
    CLICKHOUSE_PASSWORD: t.config.password,
    CLICKHOUSE_DATABASE: t.config.database,
    MUSE_CONTENT_DIR: contentDir,
    // The publisher revalidates through the demo's address, as in the demo.
    MUSE_SITE_URL: `http://127.0.0.1:${port}`,
    BANTERHEARTS_DIR: path.join(work, "banterhearts"),
    BANTERPACKS_DIR: path.join(work, "banterpacks"),
    MUSE_SAMPLE_DATA: "true",
    MUSE_LOG_LEVEL: "warn",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  site = await serveSite({
    appDir,
    env,
    port,
    checkEveryMs: 1_000,
    say: (line) => {
      said.push(line);
      report(`demo: ${line}`);
    },
  });
}, 900_000);

afterAll(async () => {
  await site?.stop();
  await t?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
  rmSync(appDir, { recursive: true, force: true });
}, 120_000);

describe("npm run demo: an episode published after the first build", () => {
  it("is served without a manual rebuild, while the first build serves until the new one is ready", async () => {
    const url = site!.url;
    const page = `${url}/en/episodes/chimera/ep-003`;
    expect((await get(`${url}/en/episodes/chimera/ep-001`)).status).toBe(200);
    expect((await get(page)).status).toBe(404);

    // A publishable episode, published the way a maintainer (or the demo's cron) does.
    const episode = syntheticEpisode("chimera", 3, { langs: ["en"] });
    const created = new Date(Date.now() - 2 * 3_600_000).toISOString();
    await t.db.insert("episodes", publishableRows(episode, created));
    const published = await fetch(`${url}/api/agents/publish`, {
      method: "POST",
      headers: { Authorization: `Bearer ${process.env.MUSE_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: "{}",
    });
    const record = (await published.json()) as { status: string; summary: { published: { series: string; episode: number }[]; revalidation: string } };
    scanForSecrets("publish run record", JSON.stringify(record));
    expect(published.status).toBe(200);
    expect(record.status).toBe("ok");
    expect(record.summary.published).toMatchObject([{ series: "chimera", episode: 3 }]);
    expect(record.summary.revalidation).toBe("ok");
    // Committed to the temp content repository; this checkout's branch did not move.
    expect(git(contentDir, "log", "-1", "--format=%s")).toBe("Publish chimera episode 003 (en)");
    expect(git(projectRoot, "rev-parse", "HEAD")).toBe(checkoutHead);

    // Nobody rebuilds: the demo sees the new file and rebuilds on its own, the first build answering meanwhile.
    await until("the rebuild to start", async () => (said.some((l) => l.startsWith("published chimera/ep-003 (en); rebuilding")) ? true : undefined), 60_000);
    // Meanwhile the first build answers: its index lists the episode (the publisher revalidated it), its page is a 404.
    await until(
      "the index to list the episode",
      async () => ((await get(`${url}/en`)).text.includes("/en/episodes/chimera/ep-003") ? true : undefined),
      60_000,
    );
    const early = await get(page);
    // (The demo says it swapped in the same tick as it routes: a 200 here comes with that line.)
    if (!said.some((l) => l.startsWith("rebuilt in "))) expect(early.status).toBe(404);

    const served = await until(
      "the episode page",
      async () => {
        const res = await get(page);
        return res.status === 200 ? res : undefined;
      },
      900_000,
    );
    expect(served.type).toMatch(/^text\/html/);
    expect(decode(served.text)).toContain(`<title>${episode.title} · `);
    // Still the static page: no framework JavaScript.
    expect(served.text).not.toContain("/_next/static/chunks/");
    const card = await fetch(`${url}/og/en/chimera/ep-003`);
    expect(card.status).toBe(200);
    expect(card.headers.get("content-type")).toBe("image/png");
    expect(said.filter((l) => l.startsWith("rebuilt in "))).toEqual([
      expect.stringMatching(/^rebuilt in \d+ s; now serving the new build \(\.muse\/next-b\) on /),
    ]);
    expect(said.find((l) => l.startsWith("rebuilt in "))).toContain(` on ${url}: ${page}`);
    // Next.js found both build directories' types in tsconfig.json and left it as it is.
    expect(readFileSync(path.join(appDir, "tsconfig.json"), "utf8")).toBe(readFileSync(path.join(projectRoot, "tsconfig.json"), "utf8"));
    // Nothing else to build.
    await sleep(3_000);
    expect(said.filter((l) => l.includes("rebuilding"))).toHaveLength(1);
  }, 1_200_000);
});
