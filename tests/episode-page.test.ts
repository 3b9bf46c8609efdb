import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createElement, Fragment, useMemo } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GET as episodeGET, generateStaticParams } from "../app/[lang]/episodes/[series]/[episode]/route";
import { GET as ogGET } from "../app/og/[lang]/[series]/[episode]/route";
import { GET as rumGET, generateStaticParams as rumParams } from "../app/rum/[...path]/route";
import { THEME_SCRIPT } from "../components/StaticThemeToggle";
import { resetEnvCache } from "../lib/env";
import { episodePageTree, notFoundPageTree } from "../lib/site/episode-page";
import { renderStaticMarkup } from "../lib/site/static-markup";

/**
 * The episode page as served: a route handler returning a complete static
 * HTML document (no framework JavaScript), rendered from the fixture content.
 */

const FIXTURES = path.join(import.meta.dirname, "fixtures", "content");
const SITE = "https://blog.example.com";
const VARS = [
  "MUSE_CONTENT_DIR",
  "MUSE_SITE_URL",
  "MUSE_SAMPLE_DATA",
  "NEXT_PUBLIC_DD_APPLICATION_ID",
  "NEXT_PUBLIC_DD_CLIENT_TOKEN",
  "MUSE_LOG_LEVEL",
] as const;
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
const temps: string[] = [];

function setEnv(values: Partial<Record<(typeof VARS)[number], string | undefined>>) {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvCache();
}

beforeAll(() =>
  setEnv({
    MUSE_CONTENT_DIR: FIXTURES,
    MUSE_SITE_URL: SITE,
    MUSE_SAMPLE_DATA: undefined,
    MUSE_LOG_LEVEL: "error",
    NEXT_PUBLIC_DD_APPLICATION_ID: undefined,
    NEXT_PUBLIC_DD_CLIENT_TOKEN: undefined,
  }),
);
afterEach(() => setEnv({ MUSE_CONTENT_DIR: FIXTURES, NEXT_PUBLIC_DD_APPLICATION_ID: undefined, NEXT_PUBLIC_DD_CLIENT_TOKEN: undefined }));
afterAll(() => {
  setEnv(saved);
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; type: string | null; html: string }> {
  const [, lang, , series, episode] = new URL(url, SITE).pathname.split("/");
  const response = await episodeGET(new Request(new URL(url, SITE)), { params: Promise.resolve({ lang, series, episode }) });
  return { status: response.status, type: response.headers.get("content-type"), html: await response.text() };
}

const all = (html: string, re: RegExp) => [...html.matchAll(re)];
const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
const headOf = (html: string) => /<head>([\s\S]*)<\/head>/.exec(html)![1];
/** Every attribute name of every start tag (values never span a quote: the renderer escapes them). */
const attributeNames = (html: string) =>
  all(html, /<[a-zA-Z][\w:-]*((?:\s+[^\s=>"'/]+(?:="[^"]*")?)*)\s*\/?>/g).flatMap((m) => all(m[1], /\s+([^\s=>"'/]+)(?:="[^"]*")?/g).map((a) => a[1]));
const scripts = (html: string) => all(html, /<script\b([^>]*)>([\s\S]*?)<\/script>/g).map((m) => ({ attrs: m[1], body: m[2] }));

describe("the episode route", () => {
  it("is statically generated for every episode in every language", async () => {
    const params = await generateStaticParams();
    expect(params).toHaveLength(3 * 4);
    expect(params).toContainEqual({ lang: "de", series: "chimera", episode: "ep-001" });
    expect(params).toContainEqual({ lang: "hi", series: "banterpacks", episode: "ep-001" });
  });

  it("serves a complete HTML document in the page's language, with canonical, hreflang, Open Graph and JSON-LD", async () => {
    const { status, type, html } = await get("/de/episodes/chimera/ep-001");
    expect(status).toBe(200);
    expect(type).toBe("text/html; charset=utf-8");
    expect(html.startsWith('<!DOCTYPE html><html lang="de">')).toBe(true);
    const head = headOf(html);
    expect(head).toContain("<title>llama-3.1-8b q4_k_m wurde langsamer, und die Nutzer merkten es · Banterblogs</title>");
    expect(head).toMatch(/<meta name="description" content="Eine Banterhearts-Änderung[^"]*"\/>/);
    expect(head).toContain(`<link rel="canonical" href="${SITE}/de/episodes/chimera/ep-001"/>`);
    // Alternates only in the languages the episode exists in, plus x-default.
    const alternates = all(head, /<link rel="alternate"[^>]*hrefLang="([^"]+)"[^>]*>/g).map((m) => [m[1], attr(m[0], "href")]);
    expect(alternates).toEqual([
      ["en", `${SITE}/en/episodes/chimera/ep-001`],
      ["de", `${SITE}/de/episodes/chimera/ep-001`],
      ["x-default", `${SITE}/en/episodes/chimera/ep-001`],
    ]);
    expect(head).toContain(`<meta property="og:image" content="${SITE}/og/de/chimera/ep-001"/>`);
    expect(head).toContain('<meta property="og:type" content="article"/>');
    expect(head).toContain('<meta property="og:locale" content="de_DE"/>');
    expect(head).toContain(`<meta name="twitter:image" content="${SITE}/og/de/chimera/ep-001"/>`);
    expect(head).toContain(`<link rel="alternate" href="${SITE}/de/rss.xml" type="application/rss+xml" title="Banterblogs (de)"/>`);
    expect(head).toContain('<link rel="icon" href="/icon.svg" type="image/svg+xml" sizes="any"/>');
    expect(head).not.toContain('name="robots"');
    // The site's stylesheet, inlined (and minified).
    const css = /<style>([\s\S]*?)<\/style>/.exec(head)![1];
    expect(css).toContain(".skip-link{");
    expect(css).toContain(':root[data-theme="dark"]');
    expect(css).not.toContain("/*");

    const ld = scripts(html).filter((s) => s.attrs.includes("application/ld+json"));
    expect(ld).toHaveLength(1);
    const data = JSON.parse(ld[0].body) as Record<string, unknown>;
    expect(data).toMatchObject({
      "@type": "BlogPosting",
      headline: "llama-3.1-8b q4_k_m wurde langsamer, und die Nutzer merkten es",
      inLanguage: "de",
      url: `${SITE}/de/episodes/chimera/ep-001`,
      image: `${SITE}/og/de/chimera/ep-001`,
      translationOfWork: { url: `${SITE}/en/episodes/chimera/ep-001` },
    });
  });

  it("has the site's header, skip link, language switch to the same episode, footer", async () => {
    const { html } = await get("/de/episodes/chimera/ep-001");
    const body = /<body>([\s\S]*)<\/body>/.exec(html)![1];
    expect(body.startsWith('<a class="skip-link" href="#main">Zum Inhalt springen</a><header class="site">')).toBe(true);
    expect(body).toContain('<main id="main" tabindex="-1">');
    const switcher = /<nav aria-label="Sprache" class="lang-switch">([\s\S]*?)<\/nav>/.exec(body)![1];
    expect(all(switcher, /href="([^"]+)"/g).map((m) => m[1])).toEqual(["/en", "/de", "/zh", "/hi"].map((l) => `${l}/episodes/chimera/ep-001`));
    expect(switcher).toMatch(/href="\/de\/episodes\/chimera\/ep-001"[^>]*aria-current="true"/);
    expect(body).toMatch(/<nav aria-label="Hauptnavigation" class="main-nav">.*href="\/de" aria-current="page">Folgen<\/a>.*href="\/de\/series">/s);
    expect(body).toMatch(/<footer class="site"><div><p>Jede Zahl wird aus ClickHouse-Zeilen berechnet/);
    // The theme toggle: present, hidden until the script wires it, no inline handler.
    expect(body).toMatch(
      /<button type="button" id="theme-toggle" class="theme-toggle" hidden="" aria-label="Farbschema: System" data-label="Farbschema" data-system="System" data-light="hell" data-dark="dunkel">/,
    );
  });

  it("draws the Evidence charts as accessible SVG, with data tables", async () => {
    const { html } = await get("/en/episodes/chimera/ep-001");
    const svgs = all(html, /<svg role="img" aria-labelledby="([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g);
    expect(svgs.length).toBe(4);
    for (const [, labelledBy, inner] of svgs) {
      const [titleId, descId] = labelledBy.split(" ");
      expect(inner).toMatch(new RegExp(`^<title id="${titleId}">[^<]+</title><desc id="${descId}">[^<]+</desc>`));
      expect(inner).toMatch(/<path|<circle/); // the line, the points
    }
    expect(html).toContain('<title id="ev-p95-title">Banterhearts p95 latency per day</title>');
    expect(html).toContain('<text class="visx-axis-label"');
    expect(all(html, /<details class="chart-data"><summary>Data table<\/summary>/g)).toHaveLength(4);
  });

  it("has a table of contents whose anchors are the headings' ids, metrics, claims with sources and prev/next", async () => {
    const { html } = await get("/en/episodes/chimera/ep-001");
    const toc = /<nav class="toc" aria-labelledby="toc-heading">([\s\S]*?)<\/nav>/.exec(html)![1];
    const anchors = all(toc, /href="#([^"]+)"/g).map((m) => m[1]);
    expect(anchors).toEqual([
      "user-content-what-changed",
      "user-content-the-commit",
      "user-content-why-it-matters",
      "user-content-benchmarks-summary",
      "user-content-next-steps",
      "user-content-links--artifacts",
      "episode-metrics",
      "episode-evidence",
      "episode-claims",
    ]);
    for (const id of anchors) expect(html, id).toMatch(new RegExp(`<h[23] id="${id}">`));
    expect(html).toContain('<table class="metrics">');
    expect(html).toMatch(/<table class="claims">[\s\S]*<td class="source">/);
    expect(html).toContain('<nav class="prev-next" aria-label="More in this series">');
    expect(html).toMatch(/<a href="\/en\/episodes\/chimera\/ep-002" rel="next"><small>Next episode →<\/small>The KV-cache fix/);
    expect(html).not.toContain('rel="prev"');
    const second = await get("/en/episodes/chimera/ep-002");
    expect(second.html).toMatch(/<a href="\/en\/episodes\/chimera\/ep-001" rel="prev"><small>← Previous episode<\/small>llama-3.1-8b/);
  });

  it("shows the English original with a notice where the translation is missing, canonicalised to it (not noindex: the canonical says which page to index)", async () => {
    const { status, html } = await get("/hi/episodes/chimera/ep-001");
    expect(status).toBe(200);
    expect(html).toContain('<html lang="hi">');
    expect(html).toMatch(/<p class="notice" role="note" data-notice="untranslated">इस एपिसोड का हिन्दी में अनुवाद अभी नहीं हुआ है।/);
    expect(html).toContain('<h1 id="episode-title" lang="en">llama-3.1-8b q4_k_m got slower, and users felt it</h1>');
    expect(html).toContain('<div class="prose" lang="en">');
    expect(html).toContain(`<link rel="canonical" href="${SITE}/en/episodes/chimera/ep-001"/>`);
    expect(html).not.toContain('name="robots"');
    // hreflang lists only the languages the episode exists in: the fallback URL is never an alternate.
    expect(html).not.toMatch(/<link rel="alternate" href="[^"]*\/hi\/episodes\/[^"]*" hrefLang="hi"/);
    // ep-002 has no Hindi translation either: its title in the series navigation is English, and marked so.
    expect(html).toMatch(/<a href="\/hi\/episodes\/chimera\/ep-002" rel="next" lang="en"><small lang="hi">/);
    const translated = await get("/de/episodes/chimera/ep-001");
    expect(translated.html).not.toContain('data-notice="untranslated"');
  });

  it("labels sample data", async () => {
    const { html } = await get("/en/episodes/banterpacks/ep-001");
    expect(html).toContain('<span class="badge badge-sample">Sample data</span>');
    expect(html).toContain('data-notice="sample"');
  });

  it("ships no JavaScript file without RUM keys: only the inline theme script (≤ 1 kB) and JSON-LD", async () => {
    for (const lang of ["en", "de", "zh", "hi"]) {
      const { html } = await get(`/${lang}/episodes/chimera/ep-002`);
      expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
      const list = scripts(html);
      expect(list.map((s) => s.attrs)).toEqual(["", ' type="application/ld+json"']);
      expect(list[0].body).toBe(THEME_SCRIPT);
      expect(attributeNames(html).filter((a) => /^on/i.test(a))).toEqual([]); // no inline event handlers (CSP)
      expect(attributeNames(html).length).toBeGreaterThan(500);
      expect(html).not.toContain("DD_RUM");
    }
    expect(Buffer.byteLength(THEME_SCRIPT)).toBeLessThanOrEqual(1024);
  });

  it("with RUM keys, loads the same-origin RUM bundle asynchronously from a small inline script", async () => {
    setEnv({ NEXT_PUBLIC_DD_APPLICATION_ID: "app-123", NEXT_PUBLIC_DD_CLIENT_TOKEN: "pub</script>token" });
    const { html } = await get("/en/episodes/chimera/ep-001");
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    const rum = scripts(html).find((s) => s.body.includes("DD_RUM"))!;
    expect(rum.body).toContain('s.src="/rum/datadog-rum.js"');
    expect(rum.body).toContain('"applicationId":"app-123"');
    expect(rum.body).toContain("pub\\u003c/script>token"); // cannot close the element
    expect(html.indexOf(rum.body)).toBeGreaterThan(html.indexOf("<footer"));

    // The bundle it loads: @datadog/browser-rum's own, same-origin.
    expect(await rumParams()).toContainEqual({ path: ["datadog-rum.js"] });
    const bundle = await rumGET(new Request(`${SITE}/rum/datadog-rum.js`), { params: Promise.resolve({ path: ["datadog-rum.js"] }) });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await bundle.text()).toContain("DD_RUM");
    const other = await rumGET(new Request(`${SITE}/rum/x.js`), { params: Promise.resolve({ path: ["..", "package.json"] }) });
    expect(other.status).toBe(404);
  });

  it("answers 404 with a page in the language for unknown episodes, series and languages", async () => {
    for (const [url, lang] of [
      ["/de/episodes/chimera/ep-099", "de"],
      ["/en/episodes/nope/ep-001", "en"],
      ["/de/episodes/chimera/1", "de"],
      ["/fr/episodes/chimera/ep-001", "en"],
    ] as const) {
      const { status, type, html } = await get(url);
      expect(status, url).toBe(404);
      expect(type).toBe("text/html; charset=utf-8");
      expect(html).toContain(`<html lang="${lang}">`);
      expect(html).toContain('<meta name="robots" content="noindex"/>');
    }
    expect((await get("/de/episodes/chimera/ep-099")).html).toContain("<h1>Seite nicht gefunden</h1>");
  });

  it("never lets episode content inject script: markdown is sanitised, front-matter escaped (also in JSON-LD)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "muse-episode-page-"));
    temps.push(dir);
    cpSync(FIXTURES, dir, { recursive: true });
    const file = path.join(dir, "episodes", "chimera", "ep-001.md");
    const attacks = [
      "<script>alert(1)</script>",
      "<script src=https://evil.example/x.js></script>",
      "[click](javascript:alert(1))",
      "<img src=x onerror=alert(1)>",
      '<a href="#" onclick="alert(1)">x</a>',
      '<iframe src="https://evil.example"></iframe>',
      '<svg onload="alert(1)"></svg>',
      "[ref]\n\n[ref]: javascript:alert(1)",
    ].join("\n\n");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace('title: "llama-3.1-8b q4_k_m got slower, and users felt it"', 'title: "</script><script>alert(1)</script> <b onmouseover=alert(1)>x"')
        .replace("## Why it matters\n", `## Why it matters\n\n${attacks}\n`),
    );
    setEnv({ MUSE_CONTENT_DIR: dir });
    const { status, html } = await get("/en/episodes/chimera/ep-001");
    expect(status).toBe(200);
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(scripts(html).map((s) => s.attrs)).toEqual(["", ' type="application/ld+json"']);
    expect(JSON.parse(scripts(html)[1].body).headline).toBe("</script><script>alert(1)</script> <b onmouseover=alert(1)>x");
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toMatch(/<(iframe|img)\b/i);
    expect(attributeNames(html).filter((a) => /^on/i.test(a))).toEqual([]);
    expect(all(html, /<svg\b/g)).toHaveLength(4); // only the charts
  });
});

describe("static markup", () => {
  it("renders whole episode pages exactly as react-dom/server's renderToStaticMarkup does", async () => {
    const trees = [
      await episodePageTree({ lang: "en", series: "chimera", episode: "ep-001" }),
      await episodePageTree({ lang: "zh", series: "chimera", episode: "ep-002" }),
      await episodePageTree({ lang: "hi", series: "chimera", episode: "ep-001" }),
      await episodePageTree({ lang: "de", series: "banterpacks", episode: "ep-001" }),
      notFoundPageTree("zh"),
    ];
    for (const { document } of trees) {
      const ours = renderStaticMarkup(document);
      expect(ours.length).toBeGreaterThan(1000);
      expect(ours).toBe(renderToStaticMarkup(document));
    }
  });

  it("follows React DOM's rules for attributes, text and URLs", () => {
    const h = createElement;
    const tree = h(
      "div",
      {
        className: "a",
        hidden: true,
        open: false,
        "aria-hidden": true,
        "data-x": false,
        tabIndex: -1,
        title: `"<&'>`,
        style: { fontSize: 11, opacity: 0.5, marginTop: 0, "--x": " y " },
        suppressHydrationWarning: true,
      },
      "a",
      1,
      null,
      false,
      [
        h("svg", { key: 1, viewBox: "0 0 1 1", strokeWidth: 2, clipPath: "url(#c)", xlinkHref: "#x" }),
        h("a", { key: 2, href: "javascript:alert(1)", hrefLang: "de" }, "x"),
      ],
      h(Fragment, null, h("br"), h("img", { src: "", alt: "" })),
      h("p", { dangerouslySetInnerHTML: { __html: "<b>raw</b>" } }),
    );
    expect(renderStaticMarkup(tree)).toBe(renderToStaticMarkup(tree));
  });

  it("refuses what cannot work without JavaScript: handlers, hooks, async and client components", () => {
    expect(() => renderStaticMarkup(createElement("button", { onClick: () => undefined }))).toThrow(/event handlers/);
    function WithHook() {
      return createElement(
        "p",
        null,
        useMemo(() => "x", []),
      );
    }
    expect(() => renderStaticMarkup(createElement(WithHook))).toThrow(/WithHook.*no hooks/);
    async function Async() {
      return createElement("p");
    }
    expect(() => renderStaticMarkup(createElement(Async as unknown as () => null))).toThrow(/async/);
    const clientRef = Object.assign(() => null, { $$typeof: Symbol.for("react.client.reference") });
    expect(() => renderStaticMarkup(createElement(clientRef))).toThrow(/client component/);
  });
});

describe("the theme script", () => {
  /** A tiny DOM: <html>, the toggle button, localStorage, window events. */
  function run(stored: string | null) {
    const store = new Map<string, string>(stored ? [["muse-theme", stored]] : []);
    const listeners: Record<string, (() => void)[]> = {};
    const text = { nodeValue: " system" };
    const button = {
      hidden: true,
      dataset: { label: "Theme", system: "system", light: "light", dark: "dark" } as Record<string, string>,
      lastChild: text,
      attributes: {} as Record<string, string>,
      click: () => undefined as void,
      setAttribute(name: string, value: string) {
        this.attributes[name] = value;
      },
      addEventListener(type: string, fn: () => void) {
        if (type === "click") this.click = fn;
      },
    };
    const root = { dataset: {} as Record<string, string> };
    const document = {
      documentElement: root,
      getElementById: (id: string) => (id === "theme-toggle" && ready ? button : null),
      addEventListener: (type: string, fn: () => void) => (listeners[type] ??= []).push(fn),
    };
    let ready = false;
    const localStorage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
      removeItem: (k: string) => store.delete(k),
    };
    new Function("document", "localStorage", "addEventListener", THEME_SCRIPT)(document, localStorage, (type: string, fn: () => void) =>
      (listeners[type] ??= []).push(fn),
    );
    const themeBefore = root.dataset.theme;
    ready = true;
    for (const fn of listeners.DOMContentLoaded ?? []) fn();
    return { root, button, text, store, themeBefore };
  }

  it("applies the stored theme before paint, shows the toggle and cycles system → light → dark → system", () => {
    const dark = run("dark");
    expect(dark.themeBefore).toBe("dark");
    expect(dark.button.hidden).toBe(false);
    expect(dark.text.nodeValue).toBe(" dark");
    expect(dark.button.attributes["aria-label"]).toBe("Theme: dark");

    const t = run(null);
    expect(t.themeBefore).toBeUndefined();
    expect(t.text.nodeValue).toBe(" system");
    t.button.click();
    expect([t.root.dataset.theme, t.store.get("muse-theme"), t.text.nodeValue]).toEqual(["light", "light", " light"]);
    t.button.click();
    expect([t.root.dataset.theme, t.store.get("muse-theme"), t.button.attributes["aria-label"]]).toEqual(["dark", "dark", "Theme: dark"]);
    t.button.click();
    expect([t.root.dataset.theme, t.store.has("muse-theme"), t.text.nodeValue]).toEqual([undefined, false, " system"]);
  });
});

describe("the Open Graph image route", () => {
  it("returns a PNG for an episode", async () => {
    const response = await ogGET(new Request(`${SITE}/og/de/chimera/ep-001`), {
      params: Promise.resolve({ lang: "de", series: "chimera", episode: "ep-001" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(1, 4)].map((b) => String.fromCharCode(b)).join("")).toBe("PNG");
  }, 60_000);
});

describe("change events (what changed, by commit)", () => {
  const FIX_SHA = "b".repeat(40);
  const REG_SHA = "c0ffee1234567890abcdef1234567890abcdef12";
  /** ep-002 with two events: a fixed regression inside the charted days, an improvement before them. */
  const withEvents = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "muse-episode-events-"));
    temps.push(dir);
    cpSync(FIXTURES, dir, { recursive: true });
    const events = `  change_events:
    - n: 1
      commit_sha: "${REG_SHA}"
      commit_ts: "2026-11-10T18:00:00.000Z"
      subject: "kv-cache: larger blocks"
      candidates: ["${REG_SHA}"]
      kind: "regression"
      status: "fixed"
      fixed_by_sha: "${FIX_SHA}"
      fixed_ts: "2026-11-12T09:00:00.000Z"
      lead: { label: "llama-3.1-8b q4_k_m p95", metric: "latency_p95_ms", change_pct: 18.3456, ci_pct: [12.25, 24.5], q_value: 0.00031, mean_before: 186.07, mean_after: 220.15, n_before: 9, n_after: 12 }
      series_changed: 3
      series_same_direction: 3
      median_change_pct: 15.2
      users: { measurable: true, felt: true, latency_change_pct: 9.75, latency_ci_pct: [4.5, 15.25], latency_p_value: 0.004 }
    - n: 2
      commit_sha: "${"d".repeat(40)}"
      commit_ts: "2026-10-20T10:00:00.000Z"
      subject: "older: outside the charted days"
      candidates: []
      kind: "improvement"
      status: "kept"
      fixed_by_sha: ""
      fixed_ts: null
      lead: { label: "mistral-7b q8_0 tokens/s", metric: "tokens_per_sec", change_pct: 7.5, ci_pct: [2, 13], q_value: 0.02, mean_before: 40, mean_after: 43, n_before: 8, n_after: 8 }
      series_changed: 1
      series_same_direction: 1
      median_change_pct: 7.5
      users: null
`;
    const file = path.join(dir, "episodes", "chimera", "ep-002.md");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("  days: 7\n");
    writeFileSync(file, text.replace("  days: 7\n", `${events}  days: 7\n`));
    setEnv({ MUSE_CONTENT_DIR: dir });
  };

  it("marks the events within the charts' days on the latency charts, with accessible text", async () => {
    withEvents();
    const { status, html } = await get("/en/episodes/chimera/ep-002");
    expect(status).toBe(200);
    for (const chart of ["ev-p95", "ev-user"]) {
      const figure = new RegExp(`<figure class="chart" aria-labelledby="${chart}-caption">([\\s\\S]*?)</figure>`).exec(html)![1];
      const markers = all(
        figure,
        /<g class="chart-marker marker-(\w+)" data-commit="(\w+)"><title>([^<]+)<\/title><line ([^>]*)><\/line><text[^>]*>(\w+)<\/text><\/g>/g,
      );
      // Only the regression: the improvement's commit is before the first charted day.
      expect(markers.map((m) => [m[1], m[2], m[5]])).toEqual([["regression", "c0ffee1", "c0ffee1"]]);
      expect(markers[0][3]).toBe("regression at commit c0ffee1 (Nov 10, 2026): llama-3.1-8b q4_k_m p95 +18.3%");
      expect(markers[0][4]).toContain('stroke-dasharray="4 3"');
      // The SVG's description and the visible list under it say what the marker marks.
      expect(figure).toMatch(new RegExp(`<desc id="${chart}-desc">[^<]*regression at commit c0ffee1 \\(Nov 10, 2026\\)`));
      expect(figure).toContain('<ul class="chart-notes" aria-label="Commits marked on the chart"><li class="marker-regression">regression at commit c0ffee1');
    }
    // Not on the error-rate chart.
    expect(/<figure class="chart" aria-labelledby="ev-errors-caption">([\s\S]*?)<\/figure>/.exec(html)![1]).not.toContain('<g class="chart-marker');
  });

  it("places a marker at its commit's time: a quarter day right of its day's point at 18:00", async () => {
    const { markerX } = await import("../components/charts/LineChart");
    const days = ["2026-11-08", "2026-11-09", "2026-11-10"];
    const x = Object.assign((d: string) => ({ "2026-11-08": 0, "2026-11-09": 100, "2026-11-10": 200 })[d], { step: () => 100 });
    expect(markerX("2026-11-10T18:00:00.000Z", days, x)).toBe(225);
    expect(markerX("2026-11-08T00:00:00.000Z", days, x)).toBe(-50);
    expect(markerX("2026-11-07T23:59:59.000Z", days, x)).toBeUndefined();
    expect(markerX("2026-11-11T00:00:00.000Z", days, x)).toBeUndefined();
    expect(markerX("not a date", days, x)).toBeUndefined();
  });

  it("lists the events in a scrollable table: commit, kind, lead series, change with its interval, q-value, users, status", async () => {
    withEvents();
    const { html } = await get("/en/episodes/chimera/ep-002");
    expect(html).toMatch(/<div class="table-scroll events-scroll"><table class="events"><caption>What changed, by commit<\/caption>/);
    const rows = all(/<table class="events">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1], /<tr data-event="\d+">([\s\S]*?)<\/tr>/g).map((m) =>
      all(m[1], /<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g).map((c) => c[1].replace(/<[^>]+>/g, "")),
    );
    expect(rows).toEqual([
      [
        "c0ffee1",
        "regression",
        "llama-3.1-8b q4_k_m p95 +2 more series",
        "+18.3%",
        "[+12.3%, +24.5%]",
        // Below 0.001 a q-value is its floor (lib/episode/fact.ts), escaped in HTML.
        "&lt;\u00a00.001",
        "yes",
        "+9.8% [+4.5%, +15.3%]",
        "fixed (fixed by bbbbbbb)",
      ],
      ["dddddddd".slice(0, 7), "improvement", "mistral-7b q8_0 tokens/s", "+7.5%", "[+2.0%, +13.0%]", "0.020", "not measurable", "–", "kept"],
    ]);
    expect(html).toContain('<code title="kv-cache: larger blocks">c0ffee1</code>');
    // The old window-vs-window table is not shown for an episode with events.
    expect(html).not.toContain('<th scope="col">quant</th>');
  });

  it("formats the table's numbers in the page's locale", async () => {
    withEvents();
    // ep-002 has a zh translation; the table and charts come from the original's front-matter.
    const zh = (await get("/zh/episodes/chimera/ep-002")).html;
    expect(zh).toContain("<caption>按提交列出的变化</caption>");
    const de = (await get("/de/episodes/chimera/ep-002")).html;
    expect(de).toContain("<caption>Was sich geändert hat, nach Commit</caption>");
    // German: decimal comma, a (non-breaking) space before %.
    expect(de).toMatch(/>\+18,3\s%</);
    expect(de).toMatch(/>\[\+12,3\s%, \+24,5\s%\]</);
    expect(de).toContain(">Verschlechterung<");
    expect(de).toContain("behoben durch bbbbbbb");
  });

  it("still renders old episodes' window-vs-window changes, without markers", async () => {
    const { html } = await get("/en/episodes/chimera/ep-001");
    expect(html).toContain("<caption>Significant changes</caption>");
    expect(html).toContain('<th scope="col">quant</th>');
    expect(html).not.toContain('<table class="events"');
    expect(html).not.toContain('<g class="chart-marker');
    expect(html).not.toContain('<ul class="chart-notes"');
  });

  it("renders the events page exactly as react-dom/server does", async () => {
    withEvents();
    const { document } = await episodePageTree({ lang: "de", series: "chimera", episode: "ep-002" });
    expect(renderStaticMarkup(document)).toBe(renderToStaticMarkup(document));
  });
});
