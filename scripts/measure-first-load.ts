/**
 * `npm run bench:site` (after `next build`): the JavaScript an episode page
 * loads on first visit, compressed. Reads the prerendered HTML of an episode
 * page (.next/server/app/<lang>/episodes/<series>/<ep>.html), takes its
 * <script src> chunks (not the noModule polyfills modern browsers skip),
 * gzips (level 9) and brotli-compresses each, and prints the sums, split into
 * the framework's shared chunks (Next.js + React, `rootMainFiles` of the build
 * manifest) and the route's own chunks. It also says whether the Datadog RUM
 * package is among them (it must not be without RUM keys).
 *
 * Options: --dir .next   --page /en/episodes/chimera/ep-001   --budget-kb 60
 *          --strict (exit 1 when the total gzip size is over the budget)
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: ".next" },
    page: { type: "string" },
    "budget-kb": { type: "string", default: "60" },
    strict: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const dist = path.resolve(values.dir!);
const appDir = path.join(dist, "server", "app");
const budgetKb = Number(values["budget-kb"]);

function fail(message: string): never {
  process.stderr.write(`measure-first-load: ${message}\n`);
  process.exit(2);
}

if (!existsSync(appDir)) fail(`${appDir} does not exist: run \`next build\` first`);

/** Prerendered HTML files under a directory, recursively. */
function htmlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? htmlFiles(full) : name.endsWith(".html") ? [full] : [];
  });
}

function pickPage(): { file: string; route: string; note?: string } {
  if (values.page) {
    const file = path.join(appDir, `${values.page.replace(/^\/+/, "")}.html`);
    if (!existsSync(file)) fail(`no prerendered HTML for ${values.page} (${file})`);
    return { file, route: values.page };
  }
  const episodes = htmlFiles(path.join(appDir, "en", "episodes")).sort();
  const file = episodes[0] ?? htmlFiles(appDir).find((f) => /episodes[\\/][^\\/]+[\\/]ep-\d+\.html$/.test(f));
  if (file) return { file, route: `/${path.relative(appDir, file).replace(/\\/g, "/").replace(/\.html$/, "")}` };
  const index = path.join(appDir, "en.html");
  if (existsSync(index)) return { file: index, route: "/en", note: "no episode page in this build (empty content directory?): measured the English index, which shares the episode page's layout" };
  fail("no prerendered episode page or /en page found");
}

interface Chunk {
  src: string;
  bytes: number;
  gzip: number;
  brotli: number;
  shared: boolean;
  rum: boolean;
}

const { file, route, note } = pickPage();
const html = readFileSync(file, "utf8");
const manifestPath = path.join(dist, "build-manifest.json");
const rootMain = new Set<string>(
  existsSync(manifestPath) ? ((JSON.parse(readFileSync(manifestPath, "utf8")) as { rootMainFiles?: string[] }).rootMainFiles ?? []) : [],
);

const chunks: Chunk[] = [];
const seen = new Set<string>();
for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
  const src = /\bsrc="([^"]+)"/i.exec(tag)?.[1];
  if (!src || /\bnomodule\b/i.test(tag) || seen.has(src)) continue;
  seen.add(src);
  const rel = src.replace(/^.*?\/_next\//, "");
  const body = readFileSync(path.join(dist, rel));
  chunks.push({
    src,
    bytes: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
    brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    shared: rootMain.has(rel),
    // The RUM package's own code (its global), not the tiny loader that imports it lazily.
    rum: body.includes("DD_RUM"),
  });
}

const sum = (list: Chunk[], key: "bytes" | "gzip" | "brotli") => list.reduce((n, c) => n + c[key], 0);
const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const shared = chunks.filter((c) => c.shared);
const own = chunks.filter((c) => !c.shared);
const total = { bytes: sum(chunks, "bytes"), gzip: sum(chunks, "gzip"), brotli: sum(chunks, "brotli") };
const overBudget = total.gzip > budgetKb * 1024;
const rumLoaded = chunks.some((c) => c.rum);

if (values.json) {
  process.stdout.write(`${JSON.stringify({ route, note, chunks, total, shared: { gzip: sum(shared, "gzip"), brotli: sum(shared, "brotli") }, route_own: { gzip: sum(own, "gzip"), brotli: sum(own, "brotli") }, budget_kb: budgetKb, over_budget: overBudget, rum_in_first_load: rumLoaded }, null, 2)}\n`);
} else {
  const out = (line = "") => process.stdout.write(`${line}\n`);
  out(`First-load JavaScript of ${route}`);
  if (note) out(`(${note})`);
  out();
  for (const c of chunks) out(`  ${c.shared ? "framework" : "route    "}  ${kb(c.gzip).padStart(9)} gzip  ${kb(c.brotli).padStart(9)} br  ${kb(c.bytes).padStart(9)} raw  ${c.src}${c.rum ? "  (Datadog RUM)" : ""}`);
  out();
  out(`  framework (Next.js + React, shared by every page): ${kb(sum(shared, "gzip"))} gzip, ${kb(sum(shared, "brotli"))} brotli`);
  out(`  this route's own chunks:                          ${kb(sum(own, "gzip"))} gzip, ${kb(sum(own, "brotli"))} brotli`);
  out(`  total:                                            ${kb(total.gzip)} gzip, ${kb(total.brotli)} brotli (${chunks.length} scripts, ${kb(total.bytes)} uncompressed)`);
  out(`  Datadog RUM package in first load: ${rumLoaded ? "YES" : "no"}`);
  out(`  budget ${budgetKb} kB gzip: ${overBudget ? `over by ${kb(total.gzip - budgetKb * 1024)}` : "within"}`);
}
if (values.strict && overBudget) process.exit(1);
