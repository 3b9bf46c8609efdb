import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { BASE, launchChromium, pipelineSeries, SHOTS } from "./chromium";

/**
 * The reader's path through the built site in real headless Chromium:
 * index → search → tag → episode (charts) → language switch → prev/next →
 * status. No console errors anywhere; screenshots go to test-results/browser.
 */

let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
});

afterAll(async () => {
  await browser?.close();
});

async function shot(name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe("Banterblogs in Chromium", () => {
  it("opens the index and lists the episodes, newest first", async () => {
    await page.goto(`${BASE}/en`, { waitUntil: "networkidle" });
    expect(await page.getAttribute("html", "lang")).toBe("en");
    await shot("01-index");
    const hrefs = await page.locator('main .episode-card a[href*="/en/episodes/"]').evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    // Three valid fixture episodes (banterpacks/ep-002 is deliberately invalid and skipped) and the one
    // the pipeline published, which is the newest.
    expect(hrefs).toHaveLength(4);
    expect(hrefs[0]).toBe(`/en/episodes/${pipelineSeries()}/ep-003`);
  });

  it("searches the episodes", async () => {
    const search = page.locator('input[type="search"]');
    const before = await page.locator('main a[href*="/en/episodes/"]').count();
    await search.fill("banterpacks");
    await page.waitForTimeout(300);
    const after = await page.locator('main a[href*="/en/episodes/"]').count();
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(before);
    for (const href of await page.locator('main a[href*="/en/episodes/"]').evaluateAll((as) => as.map((a) => a.getAttribute("href")))) {
      expect(href).toContain("/episodes/banterpacks/");
    }
    await shot("02-search");
    await search.fill("");
  });

  it("filters by tag", async () => {
    await page.goto(`${BASE}/en/tags`, { waitUntil: "networkidle" });
    const tag = page.locator('main a[href^="/en/tags/"]').first();
    const tagHref = await tag.getAttribute("href");
    await tag.click();
    await page.waitForURL(`**${tagHref}`);
    expect(await page.locator('main a[href*="/en/episodes/"]').count()).toBeGreaterThan(0);
    await shot("03-tag");
  });

  it("opens the pipeline's episode with its evidence charts and claims", async () => {
    await page.goto(`${BASE}/en`, { waitUntil: "networkidle" });
    // The newest episode is the one the pipeline just published from ClickHouse data.
    const newest = page.locator('main a[href*="/en/episodes/"]').first();
    await newest.click();
    await page.waitForURL("**/en/episodes/**");
    const charts = page.locator('svg[role="img"]');
    expect(await charts.count()).toBeGreaterThanOrEqual(2);
    for (const chart of await charts.all()) {
      expect(await chart.isVisible()).toBe(true);
      expect(await chart.locator("path, circle, rect").count()).toBeGreaterThan(2);
    }
    expect(await page.locator("h2[id$='evidence']").count()).toBeGreaterThan(0);
    expect(await page.locator("nav.toc a[href^='#']").count()).toBeGreaterThanOrEqual(5);
    await shot("04-episode");
  });

  it("switches language: a missing translation shows the original and says so", async () => {
    const url = page.url();
    await page.locator('nav.lang-switch a[hreflang="de"]').first().click();
    await page.waitForURL(url.replace("/en/", "/de/"));
    expect(await page.getAttribute("html", "lang")).toBe("de");
    await expect.poll(() => page.locator('[data-notice="untranslated"]').count()).toBeGreaterThan(0);
    await shot("05-episode-de-fallback");
  });

  it("shows an existing translation in its language", async () => {
    await page.goto(`${BASE}/de/episodes/chimera/ep-001`, { waitUntil: "networkidle" });
    expect(await page.getAttribute("html", "lang")).toBe("de");
    expect(await page.locator('[data-notice="untranslated"]').count()).toBe(0);
    expect(await page.locator('link[rel="alternate"][hreflang="en"]').count()).toBe(1);
    await shot("06-episode-de");
  });

  it("follows prev/next within a series", async () => {
    await page.goto(`${BASE}/en/episodes/chimera/ep-002`, { waitUntil: "networkidle" });
    await page.locator('a[rel="prev"]').first().click();
    await page.waitForURL("**/en/episodes/chimera/ep-001");
    await page.locator('a[rel="next"]').first().click();
    await page.waitForURL("**/en/episodes/chimera/ep-002");
    // The pipeline's ep-003 follows when it is a chimera episode; otherwise ep-002 is the series' newest.
    const next = await page.locator('a[rel="next"]').count();
    if (pipelineSeries() === "chimera") expect(next).toBeGreaterThan(0);
    else expect(next).toBe(0);
    await shot("07-prev-next");
  });

  it("opens /status and sees live charts with data", async () => {
    await page.goto(`${BASE}/en/status`, { waitUntil: "networkidle" });
    expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("main table tbody tr").count()).toBeGreaterThan(3);
    expect(await page.content()).not.toContain("unreachable");
    await shot("08-status");
  });

  it("logged no console errors on any page", () => {
    expect(consoleErrors).toEqual([]);
  });
});
