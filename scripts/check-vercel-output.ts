/**
 * `npm run check:vercel` (after `vercel build`): checks Vercel's own build
 * output (the Build Output API tree in .vercel/output) against what the
 * repository says it deploys. Fails (exit 1) on any of:
 *
 * - a cron path in config.json that no function serves, or whose function's
 *   maxDuration is not the one its route file exports;
 * - config.json's crons differing from vercel.json's (with --vercel-json);
 * - an API route file without `export const maxDuration`, an API function
 *   without a maxDuration, or a function whose maxDuration differs from its
 *   route file's (route segment config is the one source of limits);
 * - a function that bundles chDB (libchdb.so, the chdb or @chdb/* packages),
 *   as a file in its directory or in its .vc-config.json filePathMap;
 * - a function on another Node.js major than package.json's engines.node
 *   (with --package);
 * - a function larger than Vercel's 250 MB uncompressed limit (--max-mb);
 * - in the build log (--log): Vercel's "Unable to find source file ...
 *   functions config" warning, or its warning that engines.node floats.
 *
 * Prints every function (shared ones once, with the routes they serve), its
 * maxDuration, runtime and uncompressed size.
 *
 *   tsx scripts/check-vercel-output.ts --output .vercel/output --log .vercel/build.log
 *     [--app app] [--root .] [--vercel-json vercel.json] [--package package.json] [--max-mb 250]
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export type Cron = { path: string; schedule: string };

export type FunctionInfo = {
  /** The function's directory after symlinks (functions sharing one are the same function). */
  dir: string;
  /** Routes it serves (paths under functions/ without .func), sorted. */
  routes: string[];
  maxDuration: number | null;
  runtime: string | null;
  files: number;
  bytes: number;
  chdb: string[];
};

export type CheckOptions = {
  output: string;
  app: string;
  /** Project root the filePathMap entries are relative to. */
  root: string;
  log?: string;
  vercelJson?: string;
  packageJson?: string;
  maxMb: number;
};

export type CheckResult = { failures: string[]; notes: string[]; functions: FunctionInfo[]; crons: Cron[] };

const CHDB = /(^|\/)(chdb|@chdb)(\/|$)|libchdb/i;

/**
 * The limits the route files declare: function route (e.g. `api/cron/[agent]`)
 * → `export const maxDuration`, or null for a route file without one. Next.js
 * requires the value to be a literal, so reading it from the source is exact.
 */
export function routeLimits(appDir: string, under = "api"): Map<string, { file: string; maxDuration: number | null }> {
  const limits = new Map<string, { file: string; maxDuration: number | null }>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/^route\.(ts|tsx|js|jsx|mjs)$/.test(entry.name)) {
        const source = readFileSync(full, "utf8");
        const match = /^export const maxDuration\s*=\s*(\d+)\s*;?/m.exec(source);
        const segments = path
          .relative(appDir, dir)
          .split(path.sep)
          .filter((s) => s !== "" && !/^\(.*\)$/.test(s) && !s.startsWith("@"));
        limits.set(segments.join("/"), { file: path.relative(process.cwd(), full), maxDuration: match ? Number(match[1]) : null });
      }
    }
  };
  walk(path.join(appDir, under));
  return limits;
}

/** Whether a function route (`api/cron/[agent]`) serves a request path (`/api/cron/ingest`); 2 = exact, 1 = dynamic, 0 = no. */
export function routeMatches(route: string, requestPath: string): 0 | 1 | 2 {
  const want = requestPath.replace(/^\/+|\/+$/g, "");
  if (route === want) return 2;
  const pattern = route
    .split("/")
    .map((s) => {
      if (/^\[\[\.\.\..+\]\]$/.test(s)) return "(?:/.*)?";
      if (/^\[\.\.\..+\]$/.test(s)) return "/.+";
      if (/^\[.+\]$/.test(s)) return "/[^/]+";
      return `/${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
    })
    .join("");
  return new RegExp(`^${pattern}$`).test(`/${want}`) ? 1 : 0;
}

function walkFiles(dir: string, visit: (relative: string, bytes: number) => void, prefix = ""): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) walkFiles(full, visit, relative);
    else visit(relative, stat.size);
  }
}

/** Every function in the output: `.func` directories (symlinked ones resolved and grouped). */
export function readFunctions(output: string, root: string): FunctionInfo[] {
  const functionsDir = path.join(output, "functions");
  const byDir = new Map<string, FunctionInfo>();
  const visit = (dir: string, prefix: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      const relative = prefix ? `${prefix}/${entry}` : entry;
      const isDir = statSync(full, { throwIfNoEntry: false })?.isDirectory() ?? false;
      if (!isDir) continue;
      if (!entry.endsWith(".func")) {
        if (!lstatSync(full).isSymbolicLink()) visit(full, relative);
        continue;
      }
      const route = relative.slice(0, -".func".length);
      const real = realpathSync(full);
      let info = byDir.get(real);
      if (!info) {
        const configFile = path.join(real, ".vc-config.json");
        const config = (existsSync(configFile) ? JSON.parse(readFileSync(configFile, "utf8")) : {}) as {
          maxDuration?: number;
          runtime?: string;
          filePathMap?: Record<string, string>;
        };
        info = { dir: real, routes: [], maxDuration: config.maxDuration ?? null, runtime: config.runtime ?? null, files: 0, bytes: 0, chdb: [] };
        const seen = new Set<string>();
        walkFiles(real, (file, bytes) => {
          seen.add(file);
          info!.files += 1;
          info!.bytes += bytes;
          if (CHDB.test(file)) info!.chdb.push(file);
          else if (file.endsWith(".js") && bytes < 20_000_000 && readFileSync(path.join(real, file), "utf8").includes("libchdb.so"))
            info!.chdb.push(`${file} (mentions libchdb.so)`);
        });
        for (const [target, source] of Object.entries(config.filePathMap ?? {})) {
          if (CHDB.test(target) || CHDB.test(source)) info.chdb.push(`${target} (filePathMap)`);
          if (seen.has(target)) continue;
          const bytes = statSync(path.resolve(root, source), { throwIfNoEntry: false })?.size;
          info.files += 1;
          info.bytes += bytes ?? 0;
        }
        byDir.set(real, info);
      }
      info.routes.push(route);
    }
  };
  visit(functionsDir, "");
  for (const info of byDir.values()) info.routes.sort();
  return [...byDir.values()].sort((a, b) => b.bytes - a.bytes);
}

/** A function route without its `.rsc` twin suffix; null for prefetch segment functions. */
function baseRoute(route: string): string | null {
  if (route.includes(".segments/")) return null;
  return route.replace(/\.rsc$/, "");
}

export function checkVercelOutput(options: CheckOptions): CheckResult {
  const failures: string[] = [];
  const notes: string[] = [];
  const configFile = path.join(options.output, "config.json");
  if (!existsSync(configFile)) {
    return { failures: [`${configFile} does not exist: run \`vercel build\` first`], notes, functions: [], crons: [] };
  }
  const config = JSON.parse(readFileSync(configFile, "utf8")) as { crons?: Cron[] };
  const crons = config.crons ?? [];
  const functions = readFunctions(options.output, options.root);
  const limits = routeLimits(options.app);

  // route → function, for the base routes (not .rsc twins, not segment prefetches)
  const served = new Map<string, FunctionInfo>();
  for (const fn of functions)
    for (const route of fn.routes) {
      const base = baseRoute(route);
      if (base !== null && !served.has(base)) served.set(base, fn);
    }

  // 1. Limits: one source (route segment config), applied to the function.
  for (const [route, { file, maxDuration }] of limits) {
    if (maxDuration === null) {
      failures.push(`${file} exports no maxDuration (every API route declares its limit in its route file)`);
      continue;
    }
    const fn = served.get(route);
    if (!fn) failures.push(`${file} (maxDuration ${maxDuration}) has no function ${route}.func in the output`);
    else if (fn.maxDuration !== maxDuration)
      failures.push(`function ${route} has maxDuration ${fn.maxDuration ?? "unset"}, its route file ${file} says ${maxDuration}`);
  }
  for (const [route, fn] of served) {
    if (!route.startsWith("api/")) continue;
    if (fn.maxDuration === null) failures.push(`API function ${route} has no maxDuration`);
    if (!limits.has(route)) failures.push(`API function ${route} has no route file under ${options.app}/api declaring its limit`);
  }

  // 2. Crons: each path is served by a function with its route file's limit.
  if (options.vercelJson) {
    const declared = ((JSON.parse(readFileSync(options.vercelJson, "utf8")) as { crons?: Cron[] }).crons ?? []).map((c) => `${c.path} ${c.schedule}`).sort();
    const built = crons.map((c) => `${c.path} ${c.schedule}`).sort();
    if (JSON.stringify(declared) !== JSON.stringify(built)) {
      failures.push(`config.json's crons [${built.join(", ")}] differ from ${options.vercelJson}'s [${declared.join(", ")}]`);
    }
  }
  for (const cron of crons) {
    const candidates = [...served.keys()].map((route) => ({ route, score: routeMatches(route, cron.path) })).filter((c) => c.score > 0);
    const best = candidates.find((c) => c.score === 2) ?? candidates.find((c) => c.score === 1);
    if (!best) {
      failures.push(`cron ${cron.path} (${cron.schedule}): no function serves it`);
      continue;
    }
    const fn = served.get(best.route)!;
    const intended = limits.get(best.route)?.maxDuration ?? null;
    if (intended === null) failures.push(`cron ${cron.path}: served by ${best.route}, which has no route file under ${options.app}/api declaring maxDuration`);
    else if (fn.maxDuration !== intended)
      failures.push(`cron ${cron.path}: function ${best.route} has maxDuration ${fn.maxDuration ?? "unset"}, intended ${intended}`);
  }

  // 3. chDB stays out of every function; sizes within Vercel's limit; runtime = engines.
  const wantedMajor = options.packageJson
    ? /\d+/.exec(String((JSON.parse(readFileSync(options.packageJson, "utf8")) as { engines?: { node?: string } }).engines?.node ?? ""))?.[0]
    : undefined;
  for (const fn of functions) {
    const name = fn.routes.find((r) => baseRoute(r) !== null) ?? fn.routes[0];
    if (fn.chdb.length > 0) failures.push(`function ${name} bundles chDB: ${fn.chdb.slice(0, 5).join(", ")}`);
    if (fn.bytes > options.maxMb * 1_000_000) failures.push(`function ${name} is ${mb(fn.bytes)} uncompressed, over ${options.maxMb} MB`);
    if (wantedMajor && fn.runtime !== `nodejs${wantedMajor}.x`)
      failures.push(`function ${name} runs on ${fn.runtime ?? "no runtime"}, package.json engines.node wants nodejs${wantedMajor}.x`);
  }

  // 4. The build log.
  if (options.log) {
    if (!existsSync(options.log)) failures.push(`build log ${options.log} does not exist`);
    else {
      for (const line of readFileSync(options.log, "utf8").split("\n")) {
        const text = line.replace(/\x1b\[[0-9;]*m/g, "").trim();
        if (/Unable to find source file|functions config .* (may not|to not) be applied/i.test(text)) failures.push(`build log: ${text}`);
        else if (/Detected "engines".*automatically upgrade/i.test(text)) failures.push(`build log: ${text}`);
        else if (/^(WARN(ING)?!?|Warning:)/i.test(text) && !/Build not running on Vercel/.test(text)) notes.push(`build log: ${text}`);
      }
    }
  }
  if (crons.length === 0) notes.push("config.json declares no crons");
  return { failures, notes, functions, crons };
}

function mb(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

export function formatReport(result: CheckResult, output: string): string {
  const lines: string[] = [];
  lines.push(`${output}: ${result.functions.length} functions, ${result.crons.length} crons`);
  lines.push("  size (uncompressed)  files  maxDuration  runtime      serves");
  for (const fn of result.functions) {
    const routes = fn.routes.map(baseRoute).filter((r): r is string => r !== null);
    const unique = [...new Set(routes)];
    const shown = unique.slice(0, 4).join(", ") + (unique.length > 4 ? ` (+${unique.length - 4} more)` : "");
    lines.push(
      `  ${mb(fn.bytes).padStart(19)}  ${String(fn.files).padStart(5)}  ${String(fn.maxDuration ?? "-").padStart(11)}  ${(fn.runtime ?? "-").padEnd(11)}  ${shown}`,
    );
  }
  for (const cron of result.crons) lines.push(`  cron ${cron.path} ${cron.schedule}`);
  for (const note of result.notes) lines.push(`  note: ${note}`);
  lines.push(result.failures.length === 0 ? "PASS" : `FAIL (${result.failures.length}):\n${result.failures.map((f) => `  - ${f}`).join("\n")}`);
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      output: { type: "string", default: ".vercel/output" },
      app: { type: "string", default: "app" },
      root: { type: "string", default: "." },
      log: { type: "string" },
      "vercel-json": { type: "string", default: "vercel.json" },
      package: { type: "string", default: "package.json" },
      "max-mb": { type: "string", default: "250" },
    },
  });
  const result = checkVercelOutput({
    output: values.output!,
    app: values.app!,
    root: values.root!,
    log: values.log,
    vercelJson: values["vercel-json"] || undefined,
    packageJson: values.package || undefined,
    maxMb: Number(values["max-mb"]),
  });
  const report = formatReport(result, values.output!);
  if (result.failures.length > 0) {
    process.stderr.write(`${report}\n`);
    process.exit(1);
  }
  process.stdout.write(`${report}\n`);
}
