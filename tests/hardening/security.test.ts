import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml2js } from "xml-js";
import { syntheticEpisode } from "../../bench/episodes";
import { JsonLd } from "../../components/EpisodeParts";
import { renderMarkdown } from "../../lib/content/markdown";
import { vercelSignature } from "../../lib/http/vercel-webhook";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { setEnv } from "../helpers/env";
import { callHandler, isJsonError, type Answer } from "./helpers/http";
import { forgetLeaks, leaks } from "./helpers/leaks";
import { HARDENING_SECRETS } from "./helpers/setup";

/**
 * Security of the HTTP surface (docs/security.md) and of what the site
 * renders:
 * - every mutating route — found by walking app/api, so a new one cannot be
 *   missed — refuses a missing or wrong token with 401 (WWW-Authenticate:
 *   Bearer, a JSON error) and, with its token variable unset, 503 naming the
 *   variable; a denied request changes nothing in ClickHouse; the right token
 *   gets past the guard (the checks are not vacuous);
 * - no secret value reaches a log line or a response body (setup.ts scans all
 *   of them during this and every hardening suite);
 * - episode markdown cannot put script into the site: the renderer drops
 *   script, event handlers and javascript: URLs; the JSON-LD block cannot be
 *   closed from a title; the RSS feed carries no markup from front-matter.
 */

type RouteModule = Record<string, unknown>;
type Invoke = (request: Request) => Promise<Response>;

const API_DIR = path.join(import.meta.dirname, "..", "..", "app", "api");
const BASE = "http://localhost";

interface Guarded {
  method: "GET" | "POST";
  path: string;
  /** The route file, relative to app/api. */
  file: string;
  variable: keyof typeof HARDENING_SECRETS;
  /** `harmless`: the positive control's variant (e.g. an agent that does not exist). */
  invoke: (mod: RouteModule, harmless: boolean) => Invoke;
  /** A request that passes the guard without side effects (the positive control). */
  harmless: { path?: string; body?: string; contentType?: string };
}

const withParams = (name: string, value: string) => (mod: RouteModule, method: string) => (request: Request) =>
  (mod[method] as (r: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>)(request, { params: Promise.resolve({ [name]: value }) });
const plain = (method: string) => (mod: RouteModule) => mod[method] as Invoke;

const BEARER_ROUTES: Guarded[] = [
  {
    method: "POST",
    path: "/api/ingest/events",
    file: "ingest/events/route.ts",
    variable: "MUSE_INGEST_TOKEN",
    invoke: plain("POST"),
    harmless: { body: '{"events":[{}]}', contentType: "application/json" },
  },
  {
    method: "POST",
    path: "/api/ingest/bench",
    file: "ingest/bench/route.ts",
    variable: "MUSE_INGEST_TOKEN",
    invoke: plain("POST"),
    harmless: { body: "[]", contentType: "application/json" },
  },
  // Refused for a real agent; the positive control names one that does not exist (past the guard: 404, nothing runs).
  {
    method: "POST",
    path: "/api/agents/collect",
    file: "agents/[agent]/route.ts",
    variable: "MUSE_ADMIN_TOKEN",
    invoke: (m, h) => withParams("agent", h ? "no-such-agent" : "collect")(m, "POST"),
    harmless: { body: "{}", contentType: "application/json" },
  },
  {
    method: "GET",
    path: "/api/cron/collect",
    file: "cron/[agent]/route.ts",
    variable: "CRON_SECRET",
    invoke: (m, h) => withParams("agent", h ? "no-such-agent" : "collect")(m, "GET"),
    harmless: {},
  },
  { method: "POST", path: "/api/revalidate", file: "revalidate/route.ts", variable: "MUSE_ADMIN_TOKEN", invoke: plain("POST"), harmless: {} },
  // The runner API: the positive controls are refused past the guard (a bad limit, a body without runner: 400).
  {
    method: "GET",
    path: "/api/bench/requests",
    file: "bench/requests/route.ts",
    variable: "MUSE_RUNNER_TOKEN",
    invoke: plain("GET"),
    harmless: { path: "/api/bench/requests?limit=0" },
  },
  {
    method: "POST",
    path: "/api/bench/requests/req-1/claim",
    file: "bench/requests/[id]/claim/route.ts",
    variable: "MUSE_RUNNER_TOKEN",
    invoke: (m) => withParams("id", "req-1")(m, "POST"),
    harmless: { body: "{}", contentType: "application/json" },
  },
  {
    method: "POST",
    path: "/api/bench/requests/req-1/cannot-run",
    file: "bench/requests/[id]/cannot-run/route.ts",
    variable: "MUSE_RUNNER_TOKEN",
    invoke: (m) => withParams("id", "req-1")(m, "POST"),
    harmless: { body: "{}", contentType: "application/json" },
  },
  { method: "GET", path: "/api/runs", file: "runs/route.ts", variable: "MUSE_ADMIN_TOKEN", invoke: plain("GET"), harmless: { path: "/api/runs?limit=0" } },
  // Triage: the positive control is refused past the guard (a body without action and actor: 400).
  {
    method: "POST",
    path: "/api/changes/event-1/triage",
    file: "changes/[id]/triage/route.ts",
    variable: "MUSE_ADMIN_TOKEN",
    invoke: (m) => withParams("id", "event-1")(m, "POST"),
    harmless: { body: "{}", contentType: "application/json" },
  },
];
const WEBHOOK = { method: "POST", file: "webhooks/vercel/route.ts", variable: "VERCEL_WEBHOOK_SECRET" } as const;
/** Signed with GITHUB_WEBHOOK_SECRET (X-Hub-Signature-256): tests/github-webhook.test.ts covers its signature checks. */
const GITHUB_WEBHOOK = { method: "POST", file: "webhooks/github/route.ts", variable: "GITHUB_WEBHOOK_SECRET" } as const;
/** Routes anyone may call: read-only. */
const PUBLIC = ["GET health/route.ts", "GET episodes/route.ts", "GET changes/route.ts", "GET events/[id]/chart.svg/route.ts"];

let t: TestDatabase;
const modules = new Map<string, RouteModule>();

beforeAll(async () => {
  t = await createTestDatabase();
  await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
  for (const file of routeFiles(API_DIR)) modules.set(file, (await import(path.join(API_DIR, file))) as RouteModule);
});
afterAll(async () => {
  await setEnv({ CLICKHOUSE_URL: undefined, CLICKHOUSE_DATABASE: undefined });
  await t?.drop();
});

function routeFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return routeFiles(full, `${prefix}${name}/`);
    return name === "route.ts" ? [`${prefix}${name}`] : [];
  });
}

async function tableRows(): Promise<Record<string, number>> {
  const tables = ["ui_events", "ingest_requests", "bench_runs", "llm_events", "agent_runs", "agent_locks", "deployments", "episodes"];
  const [row] = await t.db.query<Record<string, number>>(`SELECT ${tables.map((name) => `(SELECT count() FROM ${name}) AS ${name}`).join(", ")}`);
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

async function send(
  route: Guarded,
  headers: Record<string, string>,
  options: { path?: string; body?: string; contentType?: string } = {},
  harmless = false,
): Promise<Answer> {
  const mod = modules.get(route.file)!;
  const init: RequestInit = { method: route.method, headers: { ...headers, ...(options.contentType ? { "content-type": options.contentType } : {}) } };
  if (route.method !== "GET") init.body = options.body ?? "{}";
  const result = await callHandler(route.invoke(mod, harmless), new Request(`${BASE}${options.path ?? route.path}`, init));
  if ("threw" in result) throw new Error(`${route.method} ${route.path} threw: ${String(result.threw)}`);
  return result;
}

/** Authorization values that must all be refused for `variable`. */
function wrongAuthorizations(variable: keyof typeof HARDENING_SECRETS): [string, Record<string, string>][] {
  const token = HARDENING_SECRETS[variable];
  const others = Object.entries(HARDENING_SECRETS).filter(([name]) => name !== variable);
  return [
    ["no Authorization header", {}],
    ["a wrong bearer token", { authorization: "Bearer not-the-token-0000000000" }],
    ["an empty bearer token", { authorization: "Bearer " }],
    ["Bearer without a token", { authorization: "Bearer" }],
    ...others.map(([name, value]): [string, Record<string, string>] => [`the ${name} value`, { authorization: `Bearer ${value}` }]),
    ["the token with a suffix", { authorization: `Bearer ${token}x` }],
    ["the token without its last character", { authorization: `Bearer ${token.slice(0, -1)}` }],
    ["the token upper-cased", { authorization: `Bearer ${token.toUpperCase()}` }],
    ["Basic auth carrying the token", { authorization: `Basic ${Buffer.from(`muse:${token}`).toString("base64")}` }],
    ["another scheme", { authorization: `Token ${token}` }],
    ["the token alone", { authorization: token }],
    ["the token in a cookie", { cookie: `token=${token}` }],
    ["the token in X-Api-Key", { "x-api-key": token }],
    ["two tokens, the wrong one first", { authorization: `Bearer wrong, Bearer ${token}` }],
  ];
}

describe("the secret watch", () => {
  it("sees a secret value written to stdout, stderr or the console (and these suites fail on one)", () => {
    const marker = `self-test-${Date.now()}`;
    process.stdout.write(`${marker} ${HARDENING_SECRETS.MUSE_ADMIN_TOKEN}\n`);
    process.stderr.write(Buffer.from(`${marker} ${HARDENING_SECRETS.CRON_SECRET}\n`));
    console.error(marker, { token: HARDENING_SECRETS.VERCEL_WEBHOOK_SECRET });
    const seen = leaks().filter((l) => l.excerpt.includes(marker));
    expect(seen.map((l) => [l.where, l.secret])).toEqual([
      ["stdout", "MUSE_ADMIN_TOKEN"],
      ["stderr", "CRON_SECRET"],
      ["console.error", "VERCEL_WEBHOOK_SECRET"],
    ]);
    forgetLeaks((l) => l.excerpt.includes(marker));
  });
});

describe("the routes are all classified", () => {
  it("every exported handler under app/api is either guarded (tested below) or public and read-only", () => {
    const guarded = new Set([
      ...BEARER_ROUTES.map((r) => `${r.method} ${r.file}`),
      `${WEBHOOK.method} ${WEBHOOK.file}`,
      `${GITHUB_WEBHOOK.method} ${GITHUB_WEBHOOK.file}`,
    ]);
    const found = [...modules].flatMap(([file, mod]) =>
      ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => typeof mod[m] === "function").map((m) => `${m} ${file}`),
    );
    const unclassified = found.filter((h) => !guarded.has(h) && !PUBLIC.includes(h));
    expect(unclassified, "a new API route: add it to security.test.ts (guarded or public)").toEqual([]);
    expect(found.filter((h) => PUBLIC.includes(h) && !h.startsWith("GET "))).toEqual([]);
  });
});

describe.each(BEARER_ROUTES)("$method $path ($variable)", (route) => {
  it("refuses every missing or wrong token with 401 and a Bearer challenge, and changes nothing", async () => {
    const before = await tableRows();
    for (const [label, headers] of wrongAuthorizations(route.variable)) {
      const answer = await send(route, headers, {
        path: `${route.harmless.path ?? route.path}${route.method === "GET" ? "&token=" : "?token="}${HARDENING_SECRETS[route.variable]}`,
        body: route.harmless.body,
        contentType: route.harmless.contentType ?? "application/json",
      });
      expect({ label, status: answer.status }).toEqual({ label, status: 401 });
      expect(answer.headers.get("www-authenticate") ?? "", label).toMatch(/^Bearer\b/);
      expect(isJsonError(answer), label).toBe(true);
    }
    expect(await tableRows()).toEqual(before);
  });

  it("with its token variable unset (or blank), refuses with 503 naming the variable, even to the old token", async () => {
    for (const unset of [undefined, "", "   "]) {
      await setEnv({ [route.variable]: unset });
      try {
        const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${HARDENING_SECRETS[route.variable]}` }, { authorization: "Bearer " }];
        for (const headers of attempts) {
          const answer = await send(route, headers, route.harmless);
          expect(answer.status).toBe(503);
          expect((answer.json as { error: string }).error).toContain(route.variable);
        }
      } finally {
        await setEnv({ [route.variable]: HARDENING_SECRETS[route.variable] });
      }
    }
  });

  it("lets the right token past the guard (the checks above are not vacuous)", async () => {
    const before = await tableRows();
    for (const authorization of [`Bearer ${HARDENING_SECRETS[route.variable]}`, `bearer   ${HARDENING_SECRETS[route.variable]}  `]) {
      const answer = await send(route, { authorization }, route.harmless, true);
      expect([401, 503]).not.toContain(answer.status);
    }
    // Auth is not all a route checks: these harmless requests wrote nothing either.
    expect(await tableRows()).toEqual(before);
  });
});

describe("POST /api/webhooks/vercel (VERCEL_WEBHOOK_SECRET, x-vercel-signature)", () => {
  const body = JSON.stringify({
    id: "evt_hardening",
    type: "deployment.created",
    createdAt: Date.now(),
    payload: { deployment: { id: "dpl_1", meta: { githubCommitSha: "a".repeat(40) } } },
  });
  const post = async (headers: Record<string, string>, text = body) => {
    const mod = modules.get(WEBHOOK.file)!;
    const result = await callHandler(
      mod.POST as Invoke,
      new Request(`${BASE}/api/webhooks/vercel`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: text }),
    );
    if ("threw" in result) throw new Error(`webhook threw: ${String(result.threw)}`);
    return result;
  };

  it("refuses a missing, wrong, foreign or replayed-onto-another-body signature with 401, and changes nothing", async () => {
    const secret = HARDENING_SECRETS.VERCEL_WEBHOOK_SECRET;
    const before = await tableRows();
    const cases: [string, Record<string, string>][] = [
      ["no signature", {}],
      ["an empty signature", { "x-vercel-signature": "" }],
      ["garbage", { "x-vercel-signature": "not-a-signature" }],
      ["signed with another token", { "x-vercel-signature": vercelSignature(HARDENING_SECRETS.MUSE_ADMIN_TOKEN, body) }],
      ["the signature of another body", { "x-vercel-signature": vercelSignature(secret, `${body} `) }],
      ["a prefixed signature", { "x-vercel-signature": `sha1=${vercelSignature(secret, body)}` }],
      ["a SHA-256 signature", { "x-vercel-signature": (await import("node:crypto")).createHmac("sha256", secret).update(body).digest("hex") }],
      ["the secret itself", { "x-vercel-signature": secret }],
      ["a bearer token instead", { authorization: `Bearer ${secret}` }],
    ];
    for (const [label, headers] of cases) {
      const answer = await post(headers);
      expect({ label, status: answer.status }).toEqual({ label, status: 401 });
      expect(isJsonError(answer), label).toBe(true);
    }
    expect(await tableRows()).toEqual(before);
  });

  it("with VERCEL_WEBHOOK_SECRET unset, refuses with 503 naming it; the right signature passes", async () => {
    await setEnv({ VERCEL_WEBHOOK_SECRET: undefined });
    try {
      const answer = await post({ "x-vercel-signature": vercelSignature(HARDENING_SECRETS.VERCEL_WEBHOOK_SECRET, body) });
      expect(answer.status).toBe(503);
      expect((answer.json as { error: string }).error).toContain("VERCEL_WEBHOOK_SECRET");
    } finally {
      await setEnv({ VERCEL_WEBHOOK_SECRET: HARDENING_SECRETS.VERCEL_WEBHOOK_SECRET });
    }
    const before = await tableRows();
    const ok = await post({ "x-vercel-signature": vercelSignature(HARDENING_SECRETS.VERCEL_WEBHOOK_SECRET, body) });
    expect(ok.status).toBe(200);
    // A deployment Muse did not cause: recorded as external (sql/022), with its event; nothing else is written.
    const after = await tableRows();
    expect(after.deployments).toBeGreaterThan(before.deployments);
    expect({ ...after, deployments: before.deployments }).toEqual(before);
  });
});

// ---------------------------------------------------------------- what the site renders

const MALICIOUS_MARKDOWN = [
  "<script>alert(1)</script>",
  "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
  "<img src=x onerror=alert(1)>",
  '<a href="javascript:alert(1)">click</a>',
  "[click](javascript:alert(1))",
  "[click](JAVASCRIPT:alert(1))",
  "[click](  javascript:alert(1) )",
  "[click](java\tscript:alert(1))",
  "[click](&#106;avascript:alert(1))",
  "[click](javascript&colon;alert(1))",
  "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "[click](vbscript:msgbox(1))",
  "![img](javascript:alert(1))",
  "<javascript:alert(1)>",
  "[ref][1]\n\n[1]: javascript:alert(1)",
  "<svg onload=alert(1)><circle r=1 /></svg>",
  '<iframe src="javascript:alert(1)"></iframe>',
  "<style>body{background:url(javascript:alert(1))}</style>",
  '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  "<details open ontoggle=alert(1)><summary>x</summary></details>",
  '<a href="#" onclick="alert(1)" onmouseover="alert(2)">x</a>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
  '```"><script>alert(1)</script>\ncode\n```',
  "## <script>alert(1)</script> heading {#x onclick=alert(1)}",
  "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |",
  "Footnote[^x].\n\n[^x]: <script>alert(1)</script> [y](javascript:alert(1))",
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  "<input autofocus onfocus=alert(1)>",
  '<a href="jav&#x09;ascript:alert(1)">tab</a>',
];

/** Character references decoded, so an encoded `javascript:` cannot hide in an attribute. */
function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);?/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);?/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&colon;/gi, ":")
    .replace(/&tab;/gi, "\t")
    .replace(/&newline;/gi, "\n")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

interface Tag {
  name: string;
  attributes: [string, string][];
}

/**
 * The tags of an HTML fragment with their attributes, quotes respected (a `<`
 * inside a quoted attribute value is text, as a browser reads it). No HTML
 * parser is a dependency; the renderer's output is well-formed serialised HTML.
 */
function tagsOf(html: string): Tag[] {
  const tags: Tag[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) break;
    const open = /^<\/?([A-Za-z][A-Za-z0-9:-]*)/.exec(html.slice(lt, lt + 80));
    if (!open) {
      i = lt + 1;
      continue;
    }
    let j = lt + open[0].length;
    const attributes: [string, string][] = [];
    while (j < html.length && html[j] !== ">") {
      const name = /^[^\s"'>/=]+/.exec(html.slice(j))?.[0];
      if (!name) {
        j += 1;
        continue;
      }
      j += name.length;
      while (/\s/.test(html[j] ?? "")) j += 1;
      let value = "";
      if (html[j] === "=") {
        j += 1;
        while (/\s/.test(html[j] ?? "")) j += 1;
        const quote = html[j];
        if (quote === '"' || quote === "'") {
          const close = html.indexOf(quote, j + 1);
          value = html.slice(j + 1, close < 0 ? html.length : close);
          j = close < 0 ? html.length : close + 1;
        } else {
          value = /^[^\s>]*/.exec(html.slice(j))![0];
          j += value.length;
        }
      }
      attributes.push([name.toLowerCase(), decodeEntities(value)]);
    }
    tags.push({ name: open[1].toLowerCase(), attributes });
    i = j + 1;
  }
  return tags;
}

const DANGEROUS = new Set([
  "script",
  "iframe",
  "frame",
  "object",
  "embed",
  "style",
  "svg",
  "math",
  "form",
  "meta",
  "base",
  "link",
  "input",
  "button",
  "noscript",
  "template",
]);
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "data", "xlink:href", "srcset", "poster", "background"]);

function scriptProblems(html: string): string[] {
  const problems: string[] = [];
  for (const tag of tagsOf(html)) {
    if (DANGEROUS.has(tag.name)) problems.push(`<${tag.name}>`);
    for (const [name, value] of tag.attributes) {
      if (name.startsWith("on")) problems.push(`${name}= on <${tag.name}>`);
      if (name === "style") problems.push(`style= on <${tag.name}>`);
      if (URL_ATTRIBUTES.has(name) && /^(javascript|vbscript|data):/i.test(value.replace(/[\u0000-\u0020]/g, "")))
        problems.push(`${name}="${value}" on <${tag.name}>`);
    }
  }
  return problems;
}

describe("episode markdown cannot inject script into the site", () => {
  it.each(MALICIOUS_MARKDOWN)("renders %j without script, handlers or script URLs", async (markdown) => {
    const { html, toc } = await renderMarkdown(`## Section\n\nBefore.\n\n${markdown}\n\nAfter.\n`);
    expect(scriptProblems(html)).toEqual([]);
    for (const entry of toc) expect(scriptProblems(`<a href="#${entry.id}">${entry.text}</a>`)).toEqual([]);
  });

  it("a title cannot close the JSON-LD script element", () => {
    const title = "</script><script>alert(1)</script><!--";
    const html = renderToStaticMarkup(
      createElement(JsonLd, { data: { "@type": "BlogPosting", headline: title, description: `${title} <img src=x onerror=alert(1)>` } }),
    );
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain("</script><script>");
    expect(JSON.parse(html.replace(/^<script[^>]*>/, "").replace(/<\/script>$/, ""))).toMatchObject({ headline: title });
  });

  describe("the RSS feed of episodes with hostile front-matter", () => {
    let dir: string;
    let xml = "";
    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), "muse-hardening-rss-"));
      const episode = syntheticEpisode("chimera", 1, { langs: ["en"] });
      const file = episode.files.get("en")!;
      const hostile = file.markdown
        .replace(/^title: ".*"$/m, 'title: "Evil ]]><script>alert(1)</script> twice ]]> thrice ]]]]><img src=x onerror=alert(2)>"')
        .replace(/^summary: ".*"$/m, 'summary: "Summary ]]></description><script>alert(3)</script><img src=x onerror=alert(4)>"');
      mkdirSync(path.join(dir, "episodes", "chimera"), { recursive: true });
      writeFileSync(
        path.join(dir, file.path),
        `${hostile}\n<script>alert(5)</script>\n\n[x](javascript:alert(6))\n\nA body with ]]> once, ]]> twice and \`]]>\` in code.\n`,
      );
      await setEnv({ MUSE_CONTENT_DIR: dir });
      const { GET } = (await import("../../app/[lang]/rss.xml/route")) as { GET: (r: Request, c: { params: Promise<{ lang: string }> }) => Promise<Response> };
      const res = await GET(new Request(`${BASE}/en/rss.xml`), { params: Promise.resolve({ lang: "en" }) });
      expect(res.status).toBe(200);
      xml = await res.text();
    });
    afterAll(async () => {
      await setEnv({ MUSE_CONTENT_DIR: undefined });
      rmSync(dir, { recursive: true, force: true });
    });

    /** The text of each `element`, its CDATA sections unwrapped (a CDATA section may contain "</element>"). */
    const texts = (element: string) =>
      [...xml.matchAll(new RegExp(`<${element}>((?:<!\\[CDATA\\[[\\s\\S]*?\\]\\]>|[^<])*)</${element}>`, "g"))].map((m) =>
        m[1].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, "$1"),
      );

    // feed wraps text in CDATA but splits only the first "]]>" of each: a second one used to end the section.
    it("stays well-formed XML however many times titles and bodies say ]]>", () => {
      expect(() => xml2js(xml, { compact: false })).not.toThrow();
      const parsed = xml2js(xml, { compact: true }) as {
        rss: { channel: { item: { title: { _cdata: string | string[] }; "content:encoded": { _cdata: string | string[] } } } };
      };
      const item = parsed.rss.channel.item;
      const join = (v: string | string[]) => (Array.isArray(v) ? v.join("") : v);
      expect(join(item.title._cdata).replace(/\u200b/g, "")).toContain("twice ]]> thrice ]]]]>");
      expect(join(item["content:encoded"]._cdata)).toMatch(/once, \]\]&gt; twice/);
    });

    it("keeps the markup of the body out (content:encoded is the sanitised HTML)", () => {
      expect(xml).toContain("<item>");
      const contents = texts("content:encoded");
      expect(contents).toHaveLength(1);
      for (const content of contents) expect(scriptProblems(content)).toEqual([]);
      expect(xml).not.toMatch(/alert\((5|6)\)/);
      // Outside CDATA (which the hostile "]]>" cannot end) the XML carries no markup of the episode's.
      const outside = tagsOf(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ""));
      expect(outside.filter((tag) => ["script", "img", "iframe", "svg"].includes(tag.name) || tag.attributes.some(([name]) => name.startsWith("on")))).toEqual(
        [],
      );
    });

    // Regression: RSS 2.0 readers render <description> as HTML and the summary is prose an LLM wrote;
    // it used to go in as is, so a summary holding `<img src=x onerror=...>` reached readers as markup.
    it("carries the summary as text, never as markup, in <description>", () => {
      const descriptions = texts("description");
      expect(descriptions.length).toBeGreaterThan(1);
      for (const d of descriptions) expect(scriptProblems(d)).toEqual([]);
    });
  });
});
