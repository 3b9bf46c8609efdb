import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkVercelOutput, formatReport, routeLimits, routeMatches } from "../scripts/check-vercel-output";

/**
 * The check over Vercel's build output (`npm run check:vercel`), run on
 * output trees constructed here: one shaped like `vercel build`'s for this
 * repository's routes (limits from the route files, crons from vercel.json,
 * functions shared through symlinks as Vercel does), then broken one way at
 * a time.
 */

const tmp = mkdtempSync(path.join(os.tmpdir(), "muse-vercel-out-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const crons = (JSON.parse(readFileSync("vercel.json", "utf8")) as { crons: { path: string; schedule: string }[] }).crons;
const limits = routeLimits("app");
let n = 0;

type Tree = {
  output: string;
  log: string;
  fn(route: string): string;
  config(route: string): Record<string, unknown>;
  writeConfig(route: string, config: Record<string, unknown>): void;
};

function tree(): Tree {
  const root = path.join(tmp, `t${++n}`);
  const output = path.join(root, "output");
  const fnDir = (route: string) => path.join(output, "functions", `${route}.func`);
  const writeFn = (route: string, maxDuration?: number) => {
    mkdirSync(fnDir(route), { recursive: true });
    writeFileSync(path.join(fnDir(route), "___next_launcher.cjs"), "module.exports = require('./.next/server/app/route.js');\n");
    const config = {
      operationType: "API",
      handler: "___next_launcher.cjs",
      runtime: "nodejs24.x",
      ...(maxDuration ? { maxDuration } : {}),
      filePathMap: { "node_modules/next/package.json": "node_modules/next/package.json" },
    };
    writeFileSync(path.join(fnDir(route), ".vc-config.json"), JSON.stringify(config));
  };
  // API routes; the cron route shares the agents' function, as in a real build.
  for (const [route, { maxDuration }] of limits) {
    if (route === "api/cron/[agent]") continue;
    writeFn(route, maxDuration ?? undefined);
  }
  mkdirSync(path.dirname(fnDir("api/cron/[agent]")), { recursive: true });
  symlinkSync("../agents/[agent].func", fnDir("api/cron/[agent]"));
  symlinkSync("[agent].func", fnDir("api/agents/[agent].rsc"));
  writeFn("[lang]"); // a page: no limit needed
  writeFileSync(path.join(output, "config.json"), JSON.stringify({ version: 3, routes: [], crons }));
  const log = path.join(root, "build.log");
  writeFileSync(log, 'Running "npm run build"\nTraced Next.js server files in: 55ms\nBuild Completed in .vercel/output [58s]\n');
  return {
    output,
    log,
    fn: fnDir,
    config: (route) => JSON.parse(readFileSync(path.join(fnDir(route), ".vc-config.json"), "utf8")) as Record<string, unknown>,
    writeConfig: (route, config) => writeFileSync(path.join(fnDir(route), ".vc-config.json"), JSON.stringify(config)),
  };
}

function check(t: Tree, overrides: { app?: string } = {}) {
  return checkVercelOutput({
    output: t.output,
    app: overrides.app ?? "app",
    root: ".",
    log: t.log,
    vercelJson: "vercel.json",
    packageJson: "package.json",
    maxMb: 250,
  });
}

describe("the Vercel output check", () => {
  it("reads each API route file's limit, and matches request paths to dynamic routes", () => {
    expect(limits.get("api/cron/[agent]")?.maxDuration).toBe(300);
    expect(limits.get("api/health")?.maxDuration).toBe(10);
    expect(routeMatches("api/cron/[agent]", "/api/cron/ingest")).toBe(1);
    expect(routeMatches("api/health", "/api/health")).toBe(2);
    expect(routeMatches("api/cron/[agent]", "/api/cron/ingest/extra")).toBe(0);
    expect(routeMatches("rum/[...path]", "/rum/a/b.js")).toBe(1);
  });

  it("passes an output that deploys as configured, and reports every function once with its routes and size", () => {
    const t = tree();
    const result = check(t);
    expect(result.failures).toEqual([]);
    const agents = result.functions.find((f) => f.routes.includes("api/cron/[agent]"));
    expect(agents?.routes).toEqual(["api/agents/[agent]", "api/agents/[agent].rsc", "api/cron/[agent]"]);
    expect(agents?.bytes).toBeGreaterThan(0);
    const report = formatReport(result, t.output);
    expect(report).toMatch(/300\s+nodejs24\.x\s+api\/agents\/\[agent\], api\/cron\/\[agent\]/);
    expect(report).toContain("cron /api/cron/ingest");
    expect(report.trim().endsWith("PASS")).toBe(true);
  });

  it("fails when the cron function's limit is not its route file's", () => {
    const t = tree();
    t.writeConfig("api/agents/[agent]", { ...t.config("api/agents/[agent]"), maxDuration: 60 });
    const { failures } = check(t);
    expect(failures).toContain("cron /api/cron/ingest: function api/cron/[agent] has maxDuration 60, intended 300");
    expect(failures).toContain("function api/cron/[agent] has maxDuration 60, its route file app/api/cron/[agent]/route.ts says 300");
  });

  it("fails when an API function has no limit", () => {
    const t = tree();
    const config = t.config("api/health");
    delete config.maxDuration;
    t.writeConfig("api/health", config);
    const { failures } = check(t);
    expect(failures).toContain("API function api/health has no maxDuration");
  });

  it("fails when no function serves a cron path", () => {
    const t = tree();
    unlinkSync(t.fn("api/cron/[agent]")); // a symlink (rmSync refuses one to a directory on Node 24)
    const { failures } = check(t);
    for (const cron of crons) expect(failures).toContain(`cron ${cron.path} (${cron.schedule}): no function serves it`);
    expect(failures).toContain("app/api/cron/[agent]/route.ts (maxDuration 300) has no function api/cron/[agent].func in the output");
  });

  it("fails when the built crons are not vercel.json's (a mistyped path)", () => {
    const t = tree();
    const broken = crons.map((c, i) => (i === 0 ? { ...c, path: "/api/crons/ingest" } : c));
    writeFileSync(path.join(t.output, "config.json"), JSON.stringify({ version: 3, routes: [], crons: broken }));
    const { failures } = check(t);
    expect(failures).toContain(`cron /api/crons/ingest (${crons[0].schedule}): no function serves it`);
    expect(failures.some((f) => f.startsWith("config.json's crons") && f.includes("differ from vercel.json"))).toBe(true);
  });

  it("fails when a function bundles chDB, as a file or through its filePathMap", () => {
    const file = tree();
    mkdirSync(path.join(file.fn("api/health"), "node_modules/@chdb/lib-linux-x64-gnu"), { recursive: true });
    writeFileSync(path.join(file.fn("api/health"), "node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"), "ELF");
    expect(check(file).failures).toContain("function api/health bundles chDB: node_modules/@chdb/lib-linux-x64-gnu/libchdb.so");

    const mapped = tree();
    const config = mapped.config("api/agents/[agent]") as { filePathMap: Record<string, string> };
    mapped.writeConfig("api/agents/[agent]", { ...config, filePathMap: { ...config.filePathMap, "node_modules/chdb/index.js": "node_modules/chdb/index.js" } });
    expect(check(mapped).failures).toContain("function api/agents/[agent] bundles chDB: node_modules/chdb/index.js (filePathMap)");
  });

  it("fails on Vercel's unmatched functions config warning and on a floating engines.node", () => {
    const t = tree();
    writeFileSync(
      t.log,
      [
        'Warning: Detected "engines": { "node": ">=20.9" } in your `package.json` that will automatically upgrade when a new major Node.js Version is released.',
        "WARNING: Unable to find source file for page /[lang]/opengraph-image/route with extensions: tsx, ts, jsx, js, this can cause functions config from `vercel.json` to not be applied",
        "Build Completed in .vercel/output [58s]",
      ].join("\n"),
    );
    const { failures } = check(t);
    expect(failures.filter((f) => f.startsWith("build log:"))).toHaveLength(2);
  });

  it("fails when a function runs on another Node.js major than engines.node", () => {
    const t = tree();
    t.writeConfig("api/health", { ...t.config("api/health"), runtime: "nodejs20.x" });
    expect(check(t).failures).toContain("function api/health runs on nodejs20.x, package.json engines.node wants nodejs24.x");
  });

  it("fails when an API route file declares no limit", () => {
    const app = path.join(tmp, "app-without-limit");
    mkdirSync(path.join(app, "api/ping"), { recursive: true });
    writeFileSync(path.join(app, "api/ping/route.ts"), 'export const dynamic = "force-dynamic";\nexport function GET() { return new Response("ok"); }\n');
    const { failures } = check(tree(), { app });
    expect(failures.some((f) => f.endsWith("api/ping/route.ts exports no maxDuration (every API route declares its limit in its route file)"))).toBe(true);
    expect(failures).toContain(`API function api/health has no route file under ${app}/api declaring its limit`);
  });

  it("exits 1 with the failures listed when run as a command", () => {
    const t = tree();
    unlinkSync(t.fn("api/cron/[agent]")); // a symlink (rmSync refuses one to a directory on Node 24)
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/check-vercel-output.ts", "--output", t.output, "--log", t.log], {
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (e) {
      ({ status, stderr } = e as { status: number; stderr: string });
    }
    expect(status).toBe(1);
    expect(stderr).toContain("FAIL (");
    expect(stderr).toContain("cron /api/cron/ingest");
  });
});
