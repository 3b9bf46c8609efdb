import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { serveDemoSite } from "../tests/helpers/demo-site";
import { fmt, median, say, type Row, type SectionResult } from "./lib";
import { messageOf } from "../lib/error-message";

/**
 * Lighthouse (12.2.3, the devDependency; mobile form factor with its simulated
 * throttling: a mid-range phone on a slow 4G link, 4× CPU slowdown) on the
 * built site, served by `next start` the way a deployment serves it:
 * the home page, one episode page in all four languages (en, de, zh, hi), the
 * status page and a tag page. Each page runs `runs` times (3 by default); the
 * figures are medians: performance, accessibility, best-practices and SEO
 * scores, LCP, CLS and TBT.
 *
 * The site is what a reader of the demo sees: a fresh database with 10 days of
 * sample data and one pipeline run (its episode has charts with change
 * markers, an events table and a claims table), beside the hand-written
 * fixture episodes (with de and zh translations; hi shows the English original
 * and says so). The app is copied to bench/out/lighthouse (sources only;
 * node_modules resolve from the checkout above it) so the checkout's own
 * `.next` is never touched. Browser: Debian's Chromium (CHROME_PATH, default
 * /usr/bin/chromium); never a downloaded one.
 */

const CHROME = process.env.CHROME_PATH ?? "/usr/bin/chromium";
const CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run";

interface LighthouseRun {
  performance: number;
  accessibility: number;
  best_practices: number;
  seo: number;
  lcp_ms: number;
  cls: number;
  tbt_ms: number;
  fcp_ms: number;
}

interface PageResult {
  page: string;
  url: string;
  runs: LighthouseRun[];
  median: LighthouseRun;
}

/** Runs a command; `output` is the tail of stderr (and of stdout unless `stdoutIsData`). */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdoutIsData?: boolean },
): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (!options.stdoutIsData) output = (output + chunk.toString("utf8")).slice(-20_000);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    });
    child.once("exit", (code) => resolve({ code: code ?? 1, stdout, output }));
  });
}

/** One Lighthouse run on `url`; a run whose trace Chromium failed to record (NO_NAVSTART, NO_FCP: it happens under load) is retried twice. */
export async function lighthouseOnce(url: string, env: NodeJS.ProcessEnv = process.env): Promise<LighthouseRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lighthouseAttempt(url, env);
    } catch (error) {
      if (attempt >= 3) throw error;
      const lines = messageOf(error)
        .split("\n")
        .filter((l) => l.trim());
      say(
        `lighthouse: ${url}: ${lines.find((l) => /Runtime error|NO_[A-Z_]+|Error:/.test(l)) ?? lines.pop() ?? "failed"}; again (attempt ${attempt + 1} of 3)`,
      );
    }
  }
}

async function lighthouseAttempt(url: string, env: NodeJS.ProcessEnv): Promise<LighthouseRun> {
  const bin = path.join(projectRoot, "node_modules", "lighthouse", "cli", "index.js");
  const result = await run(
    process.execPath,
    [
      bin,
      url,
      "--output=json",
      "--output-path=stdout",
      "--quiet",
      `--chrome-flags=${CHROME_FLAGS}`,
      "--only-categories=performance,accessibility,best-practices,seo",
    ],
    { cwd: projectRoot, env: { ...env, CHROME_PATH: CHROME }, stdoutIsData: true },
  );
  if (result.code !== 0) throw new Error(`lighthouse ${url} exited with ${result.code}:\n${result.output.slice(-1_000)}`);
  const lhr = JSON.parse(result.stdout) as {
    runtimeError?: { code: string; message: string };
    categories: Record<string, { score: number | null }>;
    audits: Record<string, { numericValue?: number }>;
  };
  if (lhr.runtimeError) throw new Error(`lighthouse ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const score = (k: string) => Math.round((lhr.categories[k]?.score ?? 0) * 100);
  const audit = (k: string) => lhr.audits[k]?.numericValue ?? NaN;
  return {
    performance: score("performance"),
    accessibility: score("accessibility"),
    best_practices: score("best-practices"),
    seo: score("seo"),
    lcp_ms: Math.round(audit("largest-contentful-paint")),
    cls: Number(audit("cumulative-layout-shift").toFixed(4)),
    tbt_ms: Math.round(audit("total-blocking-time")),
    fcp_ms: Math.round(audit("first-contentful-paint")),
  };
}

function medianRun(runs: LighthouseRun[]): LighthouseRun {
  const keys = Object.keys(runs[0]) as (keyof LighthouseRun)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])) as unknown as LighthouseRun;
}

/** The site a reader of the demo sees (tests/helpers/demo-site.ts), built in bench/out/lighthouse and served. */
function servedSite() {
  return serveDemoSite({
    appDir: path.join(projectRoot, "bench", "out", "lighthouse"),
    name: "muse-bench-lighthouse",
    say: (line) => say(`lighthouse: ${line}`),
    // RUM off explicitly: a maintainer's NEXT_PUBLIC_DD_* would otherwise load the Datadog script into the measurement.
    env: { NEXT_PUBLIC_DD_APPLICATION_ID: "", NEXT_PUBLIC_DD_CLIENT_TOKEN: "" },
  });
}

export async function lighthouseSection(options: { runs: number }): Promise<SectionResult> {
  if (!existsSync(CHROME)) throw new Error(`no Chromium at ${CHROME} (apt-get install -y chromium, or set CHROME_PATH)`);
  const site = await servedSite();
  try {
    const home = await (await fetch(`${site.baseUrl}/en`)).text();
    const episodePath = /href="\/en(\/episodes\/[^"?#]+)"/.exec(home)?.[1];
    const tagPath = /href="\/en(\/tags\/[^"?#]+)"/.exec(home)?.[1];
    if (!episodePath || !tagPath) throw new Error("the home page links no episode or no tag");
    const pages: [string, string][] = [
      ["home", "/en"],
      ...(["en", "de", "zh", "hi"] as const).map((lang): [string, string] => [`episode (${lang})`, `/${lang}${episodePath}`]),
      ["status", "/en/status"],
      ["tag", `/en${tagPath}`],
    ];
    // One request each first: pages generated on first request are then cached, as a reader after the first would find them.
    for (const [, p] of pages) await fetch(`${site.baseUrl}${p}`).then((r) => r.text());
    const results: PageResult[] = [];
    for (const [name, p] of pages) {
      const runs: LighthouseRun[] = [];
      for (let i = 0; i < options.runs; i++) {
        runs.push(await lighthouseOnce(`${site.baseUrl}${p}`));
        const r = runs[runs.length - 1];
        say(`lighthouse: ${name} run ${i + 1}: performance ${r.performance}, LCP ${fmt.ms(r.lcp_ms)}, CLS ${r.cls.toFixed(3)}, TBT ${fmt.ms(r.tbt_ms)}`);
      }
      results.push({ page: name, url: p, runs, median: medianRun(runs) });
    }
    const rows: Row[] = results.map((r) => ({
      section: "lighthouse",
      measure: `${r.page} ${r.url}`,
      value: `perf ${r.median.performance} · LCP ${fmt.ms(r.median.lcp_ms)} · CLS ${r.median.cls.toFixed(3)} · TBT ${fmt.ms(r.median.tbt_ms)}`,
      note: `a11y ${r.median.accessibility}, best practices ${r.median.best_practices}, SEO ${r.median.seo}; mobile, median of ${r.runs.length}`,
    }));
    return { rows, details: { lighthouse: "12.2.3", form_factor: "mobile (simulated throttling)", runs_per_page: options.runs, pages: results } };
  } finally {
    await site.stop();
  }
}
