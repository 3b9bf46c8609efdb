/**
 * `npm run bench:site` (after `next build`): the JavaScript an episode page
 * loads on first visit, compressed, against the 60 kB budget.
 *
 * Takes the episode page exactly as it is served: the prerendered response
 * body of the episode route handler (.next/server/app/<lang>/episodes/<series>/<ep>.body),
 * or an App Router page's prerendered .html, or — with --url — the page
 * fetched from a running server. Collects every script the document runs on
 * load: each <script src> (not the noModule polyfills modern browsers skip;
 * /_next/* read from the build, other paths from public/ or the server) and
 * each inline script (JSON-LD is data, listed but not counted). Gzips (level
 * 9) and brotli-compresses each, prints the breakdown and PASS/FAIL.
 *
 * Options: --dir .next   --page /en/episodes/chimera/ep-001   --budget-kb 60
 *          --url http://127.0.0.1:3100 (fetch the page and its scripts from a server)
 *          --strict (exit 1 on FAIL)   --json
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: ".next" },
    page: { type: "string" },
    url: { type: "string" },
    "budget-kb": { type: "string", default: "60" },
    strict: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const dist = path.resolve(values.dir!);
const appDir = path.join(dist, "server", "app");
const budgetKb = Number(values["budget-kb"]);
const server = values.url?.replace(/\/+$/, "");

function fail(message: string): never {
  process.stderr.write(`measure-first-load: ${message}\n`);
  process.exit(2);
}

/** Prerendered responses under a directory, recursively: route handler bodies and page HTML. */
function prerendered(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? prerendered(full) : /\.(body|html)$/.test(name) ? [full] : [];
  });
}

const routeOf = (file: string) =>
  `/${path
    .relative(appDir, file)
    .replace(/\\/g, "/")
    .replace(/\.(body|html)$/, "")}`;

async function loadPage(): Promise<{ html: string; route: string; source: string; note?: string }> {
  if (server) {
    const route = values.page ?? "/en/episodes/chimera/ep-001";
    const response = await fetch(`${server}${route}`);
    if (!response.ok) fail(`GET ${server}${route}: ${response.status}`);
    return { html: await response.text(), route, source: `${server}${route}` };
  }
  if (!existsSync(appDir)) fail(`${appDir} does not exist: run \`next build\` first (or pass --url)`);
  if (values.page) {
    const base = path.join(appDir, values.page.replace(/^\/+/, ""));
    const file = [`${base}.body`, `${base}.html`].find(existsSync);
    if (!file) fail(`no prerendered response for ${values.page} (${base}.body / .html)`);
    return { html: readFileSync(file, "utf8"), route: values.page, source: path.relative(process.cwd(), file) };
  }
  const episodes = prerendered(path.join(appDir, "en", "episodes"))
    .filter((f) => /[\\/]ep-\d+\.(body|html)$/.test(f))
    .sort((a, b) => Number(b.endsWith(".body")) - Number(a.endsWith(".body")) || a.localeCompare(b));
  const file = episodes[0];
  if (file) return { html: readFileSync(file, "utf8"), route: routeOf(file), source: path.relative(process.cwd(), file) };
  // The home page is a static page (en.html) or, rendered without React's runtime, a route handler's body (en.body).
  const index = [path.join(appDir, "en.body"), path.join(appDir, "en.html")].find(existsSync);
  if (index)
    return {
      html: readFileSync(index, "utf8"),
      route: "/en",
      source: path.relative(process.cwd(), index),
      note: "no episode page in this build (empty content directory?): measured the English index instead",
    };
  fail("no prerendered episode page or /en page found");
}

interface Script {
  /** The src, or `inline #n`. */
  name: string;
  kind: "framework" | "file" | "inline" | "data";
  bytes: number;
  gzip: number;
  brotli: number;
  rum: boolean;
}

const sizes = (body: Buffer) => ({
  bytes: body.length,
  gzip: gzipSync(body, { level: 9 }).length,
  brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

async function scriptFile(src: string): Promise<Buffer> {
  const pathname = new URL(src, "http://localhost").pathname;
  if (pathname.startsWith("/_next/")) {
    const local = path.join(dist, decodeURIComponent(pathname.slice("/_next/".length)));
    if (existsSync(local)) return readFileSync(local);
  }
  const fromPublic = path.join(process.cwd(), "public", decodeURIComponent(pathname));
  if (existsSync(fromPublic) && statSync(fromPublic).isFile()) return readFileSync(fromPublic);
  if (server) {
    const response = await fetch(new URL(src, `${server}/`));
    if (response.ok) return Buffer.from(await response.arrayBuffer());
  }
  fail(`cannot read script ${src}${server ? "" : " (pass --url to fetch it from a running server)"}`);
}

const { html, route, source, note } = await loadPage();
const manifestPath = path.join(dist, "build-manifest.json");
const rootMain = new Set<string>(
  existsSync(manifestPath) ? ((JSON.parse(readFileSync(manifestPath, "utf8")) as { rootMainFiles?: string[] }).rootMainFiles ?? []) : [],
);

const scripts: Script[] = [];
const seen = new Set<string>();
let inline = 0;
for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  const [, attrs, body] = match;
  const src = /\bsrc="([^"]+)"/i.exec(attrs)?.[1];
  if (src) {
    if (/\bnomodule\b/i.test(attrs) || seen.has(src)) continue;
    seen.add(src);
    const file = await scriptFile(src);
    const rel = new URL(src, "http://localhost").pathname.replace(/^\/_next\//, "");
    scripts.push({ name: src, kind: rootMain.has(rel) ? "framework" : "file", ...sizes(file), rum: file.includes("DD_RUM") });
    continue;
  }
  if (!body.trim()) continue;
  inline += 1;
  const type = /\btype="([^"]+)"/i.exec(attrs)?.[1]?.toLowerCase();
  const isData = type !== undefined && type !== "module" && type !== "text/javascript" && type !== "application/javascript";
  scripts.push({
    name: `inline #${inline}${type ? ` (${type})` : ""}`,
    kind: isData ? "data" : "inline",
    ...sizes(Buffer.from(body)),
    rum: body.includes("DD_RUM"),
  });
}

const counted = scripts.filter((s) => s.kind !== "data");
const sum = (list: Script[], key: "bytes" | "gzip" | "brotli") => list.reduce((n, s) => n + s[key], 0);
const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const total = { bytes: sum(counted, "bytes"), gzip: sum(counted, "gzip"), brotli: sum(counted, "brotli") };
const pass = total.gzip <= budgetKb * 1024;
const rumLoaded = scripts.some((s) => s.rum);
const documentSize = sizes(Buffer.from(html));
const by = (kind: Script["kind"]) => counted.filter((s) => s.kind === kind);

if (values.json) {
  process.stdout.write(
    `${JSON.stringify(
      {
        route,
        source,
        note,
        scripts,
        total,
        // `shared` (the framework's chunks) and `route_own` (everything else counted) keep the keys bench/site.ts reads.
        shared: { gzip: sum(by("framework"), "gzip"), brotli: sum(by("framework"), "brotli") },
        route_own: { gzip: total.gzip - sum(by("framework"), "gzip"), brotli: total.brotli - sum(by("framework"), "brotli") },
        files: { gzip: sum(by("file"), "gzip") },
        inline: { gzip: sum(by("inline"), "gzip") },
        document: documentSize,
        budget_kb: budgetKb,
        pass,
        over_budget: !pass,
        rum_in_first_load: rumLoaded,
      },
      null,
      2,
    )}\n`,
  );
} else {
  const out = (line = "") => process.stdout.write(`${line}\n`);
  out(`First-load JavaScript of ${route}`);
  out(`(${source})`);
  if (note) out(`(${note})`);
  out();
  if (scripts.length === 0) out("  no scripts");
  for (const s of scripts) {
    const label = { framework: "framework", file: "file     ", inline: "inline   ", data: "data     " }[s.kind];
    out(
      `  ${label}  ${kb(s.gzip).padStart(9)} gzip  ${kb(s.brotli).padStart(9)} br  ${kb(s.bytes).padStart(9)} raw  ${s.name}${s.kind === "data" ? "  (not executed, not counted)" : ""}${s.rum ? "  (Datadog RUM)" : ""}`,
    );
  }
  out();
  out(`  framework chunks (Next.js + React): ${kb(sum(by("framework"), "gzip"))} gzip`);
  out(`  other script files:                 ${kb(sum(by("file"), "gzip"))} gzip`);
  out(`  inline scripts:                     ${kb(sum(by("inline"), "gzip"))} gzip`);
  out(`  total JavaScript:                   ${kb(total.gzip)} gzip, ${kb(total.brotli)} brotli (${counted.length} scripts, ${kb(total.bytes)} uncompressed)`);
  out(
    `  the HTML document itself:           ${kb(documentSize.gzip)} gzip, ${kb(documentSize.brotli)} brotli (${kb(documentSize.bytes)} uncompressed; inline CSS and SVG charts included)`,
  );
  out(`  Datadog RUM in first load: ${rumLoaded ? "YES (its loader; the bundle itself loads asynchronously after)" : "no"}`);
  out(`  budget ${budgetKb} kB gzip: ${pass ? "PASS" : `FAIL (over by ${kb(total.gzip - budgetKb * 1024)})`}`);
}
if (values.strict && !pass) process.exit(1);
