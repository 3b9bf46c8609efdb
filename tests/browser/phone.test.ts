import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { BASE, launchChromium, pipelineSeries, SHOTS } from "./chromium";

/**
 * Every page on a phone: a 390 × 844 viewport (a common phone; `isMobile`, so
 * the viewport meta counts), in real headless Chromium against the built site.
 * On each page: nothing scrolls sideways, every visible table cell is at least
 * a few characters wide and none is a squeezed column of running text (the
 * old three-column claims table wrapped each source query into a narrow
 * column a dozen lines tall), chart text is legible at the size it is drawn, no UI
 * string shows raw Markdown, and the layout does not shift while loading.
 * On the episode page, every evidence link lands on its claim row.
 * Full-page screenshots go to test-results/browser/phone-*.png.
 */

const WIDTH = 390;
/** "A few characters": a cell narrower than this many ems cannot show a word or a number. */
const MIN_CELL_EMS = 2.5;
/**
 * A squeezed column: a cell narrower than this many ems whose text wraps into more than MAX_LINES lines (the
 * old three-column claims table put each source query into a ~9 em column, a dozen lines tall).
 */
const MIN_TEXT_CELL_EMS = 12;
const MAX_LINES = 6;
/** Chart text, as shown on screen, in CSS px. */
const MIN_CHART_TEXT_PX = 8.5;

const EPISODE = `/episodes/${pipelineSeries()}/ep-003`; // the pipeline's episode (tests/browser/setup.ts): events, charts with markers, claims
const PAGES: [string, string][] = [
  ["home", "/en"],
  ["home-zh", "/zh"],
  ["episode-en", `/en${EPISODE}`],
  ["episode-de", `/de${EPISODE}`],
  ["episode-zh", `/zh${EPISODE}`],
  ["episode-hi", `/hi${EPISODE}`],
  ["episode-de-translated", "/de/episodes/chimera/ep-001"],
  ["episode-old", "/en/episodes/chimera/ep-002"],
  ["status", "/en/status"],
  ["status-hi", "/hi/status"],
  ["tags", "/en/tags"],
  ["series-index", "/en/series"],
  ["series", "/en/series/chimera"],
  ["not-found", "/en/episodes/chimera/ep-999"],
];

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: WIDTH, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

interface PageReport {
  overflow: { scrollWidth: number; innerWidth: number; offenders: string[] };
  narrowCells: string[];
  smallChartText: string[];
  markdown: string[];
}

/** Measures the page as laid out at 390 px (runs in the browser). */
function inspect(args: { minCellEms: number; minTextCellEms: number; maxLines: number; minChartText: number }): PageReport {
  const describe = (el: Element) => {
    const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
    const text = (el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${cls} "${text}"`;
  };
  const visible = (el: Element) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none";
  };
  // Anything reaching past the right edge that is not inside a box scrolling on its own.
  const clippedByScroller = (el: Element) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
    }
    return false;
  };
  const offenders: string[] = [];
  for (const el of Array.from(document.body.querySelectorAll("*"))) {
    if (!visible(el) || (el.closest("svg") && el.tagName.toLowerCase() !== "svg")) continue;
    const r = el.getBoundingClientRect();
    if (
      (r.right > window.innerWidth + 1 || r.left < -1) &&
      !clippedByScroller(el) &&
      !el.classList.contains("skip-link") &&
      !el.classList.contains("visually-hidden")
    ) {
      offenders.push(`${describe(el)} [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
  }
  const narrowCells: string[] = [];
  for (const cell of Array.from(document.querySelectorAll("main td, main th"))) {
    if (!visible(cell) || (cell.textContent ?? "").trim() === "") continue;
    if (cell.closest(".visually-hidden, thead[style], details:not([open])")) continue;
    const style = getComputedStyle(cell);
    if (cell.closest("thead") && getComputedStyle(cell.closest("thead")!).position === "absolute") continue;
    const width = cell.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const fontSize = parseFloat(style.fontSize);
    const ems = width / fontSize;
    const lineHeight = parseFloat(style.lineHeight) || 1.6 * fontSize;
    // The text's own height (a cell stretches to its row's), capped by the cell when it scrolls inside itself.
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = Math.min(range.getBoundingClientRect().height, cell.clientHeight) / lineHeight;
    const squeezed = ems < args.minTextCellEms && lines > args.maxLines;
    if (ems < args.minCellEms || squeezed)
      narrowCells.push(`${describe(cell)} ${width.toFixed(0)} px = ${ems.toFixed(1)} em${squeezed ? `, ${Math.round(lines)} lines` : ""}`);
  }
  const smallChartText: string[] = [];
  for (const svg of Array.from(document.querySelectorAll<SVGSVGElement>("main svg.chart-svg"))) {
    if (!visible(svg)) continue;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const text of Array.from(svg.querySelectorAll("text"))) {
      if (!(text.textContent ?? "").trim()) continue;
      const px = parseFloat(getComputedStyle(text).fontSize) * scale;
      if (px < args.minChartText)
        smallChartText.push(`${svg.closest("figure")?.getAttribute("aria-labelledby")}: "${text.textContent}" at ${px.toFixed(1)} px`);
    }
  }
  // Raw Markdown in UI text: backticks or ** outside code (prose code blocks may show anything).
  const markdown: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("code, pre, script, style, template")) continue;
    if (/`|\*\*/.test(node.nodeValue ?? "")) markdown.push(`${describe(parent)}: ${node.nodeValue!.trim().slice(0, 80)}`);
  }
  return {
    overflow: { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, offenders: offenders.slice(0, 10) },
    narrowCells,
    smallChartText,
    markdown,
  };
}

/** Layout shift while loading: the sum of the shifts without recent input (what CLS adds up, per session window at most). */
async function layoutShift(): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[])
            if (!entry.hadRecentInput) total += entry.value;
        }).observe({ type: "layout-shift", buffered: true });
        setTimeout(() => resolve(total), 500);
      }),
  );
}

async function checkPage(name: string, p: string, status = 200) {
  const response = await page.goto(`${BASE}${p}`, { waitUntil: "networkidle" });
  expect(response?.status()).toBe(status);
  const cls = await layoutShift();
  const report = await page.evaluate(inspect, {
    minCellEms: MIN_CELL_EMS,
    minTextCellEms: MIN_TEXT_CELL_EMS,
    maxLines: MAX_LINES,
    minChartText: MIN_CHART_TEXT_PX,
  });
  await page.screenshot({ path: path.join(SHOTS, `phone-${name}.png`), fullPage: true });
  // Close-ups of what used to break on phones: the claims, the events table, a chart.
  for (const [part, selector] of [
    ["claims", "table.claims"],
    ["events", ".events-scroll"],
    ["chart", "figure.chart"],
  ] as const) {
    const el = page.locator(`main ${selector}`).first();
    if ((await el.count()) > 0 && (await el.isVisible())) await el.screenshot({ path: path.join(SHOTS, `phone-${name}-${part}.png`) });
  }
  expect(report.overflow.offenders, "elements past the screen's edge").toEqual([]);
  expect(report.overflow.scrollWidth, "the page scrolls sideways").toBeLessThanOrEqual(report.overflow.innerWidth);
  expect(report.narrowCells, "table cells too narrow to read").toEqual([]);
  expect(report.smallChartText, "chart text too small").toEqual([]);
  expect(report.markdown, "UI text showing raw Markdown").toEqual([]);
  expect(cls, "layout shift while loading").toBeLessThan(0.05);
}

describe("Banterblogs on a 390 px phone", () => {
  for (const [name, p] of PAGES) {
    it(`${name} (${p}): no sideways scrolling, readable tables and charts, no raw Markdown, no layout shift`, async () => {
      await checkPage(name, p, name === "not-found" ? 404 : 200);
    });
  }

  it("a tag page: the same", async () => {
    const tags = await (await fetch(`${BASE}/en/tags`)).text();
    const href = /href="(\/en\/tags\/[^"]+)"/.exec(tags)?.[1];
    expect(href).toBeDefined();
    await checkPage("tag", href!);
  });

  it("the episode page's evidence links land on their claim rows", async () => {
    await page.goto(`${BASE}/en${EPISODE}`, { waitUntil: "networkidle" });
    // The sanitiser prefixes fragment links as it prefixes ids: #fact-<id> is rendered #user-content-fact-<id>.
    const EVIDENCE = 'main .prose a[href^="#fact-"], main .prose a[href^="#user-content-fact-"]';
    const targets = await page.locator(EVIDENCE).evaluateAll((as) => as.map((a) => a.getAttribute("href")!.slice(1)));
    expect(targets.length).toBeGreaterThan(0);
    const missing = await page.evaluate((ids) => ids.filter((id) => !document.getElementById(id)?.closest("table.claims tr")), targets);
    expect(missing, "evidence links without a claim row").toEqual([]);
    // Every claim row has the id the issue names: fact-<id>.
    expect(await page.locator("table.claims tbody tr:not([id^='fact-'])").count()).toBe(0);
    // Following one scrolls its row into view and marks it (:target).
    const link = page.locator(EVIDENCE).first();
    await link.click();
    const id = targets[0];
    await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash.slice(1)))).toBe(id);
    const row = await page.evaluate((rowId) => {
      const tr = document.getElementById(rowId)!.closest("tr")!;
      const r = tr.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, target: tr.matches(":target, :has(> :target)"), background: getComputedStyle(tr).backgroundColor };
    }, id);
    expect(row.target).toBe(true);
    expect(row.top).toBeGreaterThanOrEqual(-1);
    expect(row.top).toBeLessThan(844);
    await page.screenshot({ path: path.join(SHOTS, "phone-evidence-link.png") });
    // Evidence links are quiet: the text's colour, not the link accent.
    const colours = await link.evaluate((a) => ({ link: getComputedStyle(a).color, text: getComputedStyle(a.parentElement!).color }));
    expect(colours.link).toBe(colours.text);
  });

  it("searches the episodes on the home page (the island), and the query is in the URL", async () => {
    await page.goto(`${BASE}/en`, { waitUntil: "networkidle" });
    const before = await page.locator("main .episode-card").count();
    await page.locator('input[type="search"]').fill("banterpacks");
    await expect.poll(() => page.locator("main .episode-card").count()).toBeLessThan(before);
    expect(page.url()).toContain("q=banterpacks");
    await page.reload({ waitUntil: "networkidle" });
    expect(await page.locator('input[type="search"]').inputValue()).toBe("banterpacks");
    for (const href of await page.locator('main .episode-card a[href*="/en/episodes/"]').evaluateAll((as) => as.map((a) => a.getAttribute("href")))) {
      expect(href).toContain("/episodes/banterpacks/");
    }
  });
});
