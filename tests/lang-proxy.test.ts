import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { NextRequest } from "next/server";
import { unstable_doesMiddlewareMatch } from "next/experimental/testing/server";
import { describe, expect, it } from "vitest";
import { config, proxy } from "../proxy";
import { preferredLang } from "../lib/site/negotiate";

/**
 * Unprefixed paths reach the negotiated language: the proxy (proxy.ts)
 * redirects `/status`, `/tags/…`, `/episodes/…` (and `/`) to the visitor's
 * language, and runs on nothing else, so the reader pages stay static.
 */

const redirect = (url: string, acceptLanguage?: string) =>
  proxy(new NextRequest(`http://127.0.0.1:3000${url}`, { headers: acceptLanguage === undefined ? {} : { "accept-language": acceptLanguage } }));

describe("Accept-Language negotiation (negotiator)", () => {
  it.each([
    [null, "en"],
    ["", "en"],
    ["de-DE,de;q=0.9,en;q=0.8", "de"],
    ["de-AT", "de"],
    ["zh-TW", "zh"],
    ["zh-Hant-TW,zh;q=0.8", "zh"],
    ["hi-IN", "hi"],
    ["fr-FR, zh-CN;q=0.7, hi;q=0.9", "hi"],
    ["fr, es;q=0.5", "en"],
    ["de;q=0, zh", "zh"],
    ["en-GB,en;q=0.9,de;q=0.8", "en"],
    ["*", "en"],
    ["fr, *;q=0.1", "en"],
    ["DE", "de"],
    [";;;,,=", "en"],
  ])("%s → %s", (header, lang) => {
    expect(preferredLang(header)).toBe(lang);
  });
});

describe("the proxy", () => {
  it.each([
    ["/status", "de-DE,de;q=0.9", "/de/status"],
    ["/tags", "zh-CN", "/zh/tags"],
    ["/tags/latency", "hi", "/hi/tags/latency"],
    ["/series/banterhearts", undefined, "/en/series/banterhearts"],
    ["/episodes/banterhearts/2026-11-20-latency?ref=feed", "de", "/de/episodes/banterhearts/2026-11-20-latency?ref=feed"],
    ["/rss.xml", "zh", "/zh/rss.xml"],
    ["/", "hi-IN,en;q=0.5", "/hi"],
    ["/", "fr", "/en"],
  ])("%s (Accept-Language %s) → %s", (from, header, to) => {
    const res = redirect(from, header);
    expect(res.status).toBe(307);
    expect(new URL(res.headers.get("location")!).pathname + new URL(res.headers.get("location")!).search).toBe(to);
    expect(res.headers.get("vary")).toMatch(/Accept-Language/i);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("keeps the host of the request (no open redirect)", () => {
    const res = proxy(new NextRequest("https://muse.example//evil.example/status", { headers: { "accept-language": "de" } }));
    const location = new URL(res.headers.get("location")!);
    expect([location.host, location.pathname]).toEqual(["muse.example", "/de//evil.example/status"]);
  });
});

describe("where the proxy runs", () => {
  const matches = (url: string) => unstable_doesMiddlewareMatch({ config, url });

  it.each(["/", "/status", "/tags", "/tags/latency", "/series", "/series/banterhearts", "/episodes/banterhearts/2026-11-20-latency", "/rss.xml"])(
    "runs on the unprefixed %s",
    (url) => expect(matches(url)).toBe(true),
  );

  it.each([
    "/en",
    "/de/status",
    "/zh/tags/latency",
    "/hi/episodes/banterhearts/x",
    "/en/rss.xml",
    "/api/health",
    "/api/cron/watch",
    "/_next/static/chunks/main.js",
    "/og/en/banterhearts/x",
    "/rum/datadog-rum.js",
    "/robots.txt",
    "/sitemap.xml",
    "/icon.svg",
    "/statusx",
  ])("never on %s", (url) => expect(matches(url)).toBe(false));

  it("one negotiation: no route handler at / and no page reads request headers or cookies (pages stay static)", () => {
    expect(() => statSync(path.join(__dirname, "..", "app", "route.ts"))).toThrow();
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (/^(page|layout|not-found)\.tsx$/.test(name)) files.push(full);
      }
    };
    walk(path.join(__dirname, "..", "app", "[lang]"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      expect(source, file).not.toMatch(/from "next\/headers"|force-dynamic|accept-language/i);
    }
  });
});
