import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resetEnvCache } from "../lib/env";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { copyApp } from "../tests/helpers/demo-site";
import { ALL_LANGS, syntheticEpisode } from "./episodes";
import { fmt, median, say, tempDir, timed, type Row, type SectionResult } from "./lib";

/**
 * Site: `next build` time with 100 and 1,000 generated episodes × 4 languages
 * (the council's offline writer + lib/council/render.ts, see episodes.ts),
 * and the episode page's first-load JavaScript (scripts/measure-first-load.ts
 * on that build, when the script exists).
 *
 * Each build runs in a copy of the app under bench/out/site (sources only;
 * node_modules resolve from the checkout above it), with MUSE_CONTENT_DIR
 * pointing at the generated episodes: the checkout's own .next, which other
 * work uses, is never touched. `.next` is removed between builds, so each is
 * a cold build. Series alternate between chimera and banterpacks.
 */

function writeEpisodes(dir: string, count: number): number {
  let files = 0;
  for (let n = 1; n <= count; n++) {
    const series = n % 2 === 0 ? "banterpacks" : "chimera";
    const episode = syntheticEpisode(series, Math.ceil(n / 2), { langs: ALL_LANGS });
    for (const file of episode.files.values()) {
      const full = path.join(dir, file.path);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, file.markdown);
      files += 1;
    }
  }
  return files;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("exit", (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * loadContent() on `dir`: the first call (parse every file), then the median
 * memoised call at run time (the files re-listed to see a publish) and during
 * `next build` (NEXT_PHASE set: the memo is trusted), interleaved.
 */
async function contentReads(dir: string): Promise<{ coldMs: number; warmMs: number; inBuildMs: number }> {
  const saved = { dir: process.env.MUSE_CONTENT_DIR, phase: process.env.NEXT_PHASE };
  const restore = (name: "MUSE_CONTENT_DIR" | "NEXT_PHASE", value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  process.env.MUSE_CONTENT_DIR = dir;
  resetEnvCache();
  try {
    const { loadContent } = await import("../lib/content/episodes");
    const cold = await timed(() => loadContent());
    const warm: number[] = [];
    const inBuild: number[] = [];
    for (let i = 0; i < 9; i++) {
      restore("NEXT_PHASE", undefined);
      warm.push((await timed(() => loadContent())).ms);
      process.env.NEXT_PHASE = "phase-production-build";
      inBuild.push((await timed(() => loadContent())).ms);
    }
    return { coldMs: cold.ms, warmMs: median(warm), inBuildMs: median(inBuild) };
  } finally {
    restore("MUSE_CONTENT_DIR", saved.dir);
    restore("NEXT_PHASE", saved.phase);
    resetEnvCache();
  }
}

export async function siteSection(options: { episodes: number[] }): Promise<SectionResult> {
  const app = path.join(projectRoot, "bench", "out", "site");
  const measureScript = path.join(projectRoot, "scripts", "measure-first-load.ts");
  const rows: Row[] = [];
  const builds: Record<string, unknown>[] = [];
  say(`site: copying the app to ${path.relative(projectRoot, app)} ...`);
  copyApp(app);
  try {
    for (const count of options.episodes) {
      const content = tempDir(`site-content-${count}`);
      try {
        const files = writeEpisodes(content.dir, count);
        // What every page's read of the content costs (lib/content/episodes.ts loadContent, memoised on the files' names, sizes and mtimes).
        const reads = await contentReads(content.dir);
        say(
          `site: ${count} episodes × ${ALL_LANGS.length} languages (${files} files) written; loadContent ${fmt.ms(reads.coldMs)} cold, ${fmt.ms(reads.warmMs)} memoised, ${fmt.ms(reads.inBuildMs)} in a build; next build ...`,
        );
        rmSync(path.join(app, ".next"), { recursive: true, force: true });
        const env: NodeJS.ProcessEnv = { ...process.env, MUSE_CONTENT_DIR: content.dir, NEXT_TELEMETRY_DISABLED: "1" };
        const build = await timed(() =>
          run(process.execPath, [path.join(projectRoot, "node_modules", "next", "dist", "bin", "next"), "build"], { cwd: app, env }),
        );
        if (build.value.code !== 0) throw new Error(`next build with ${count} episodes failed:\n${build.value.output.slice(-4_000)}`);
        say(`site: ${count} episodes built in ${fmt.ms(build.ms)}`);
        const pages = (build.value.output.match(/Generating static pages[^\n]*\((\d+)\/(\d+)\)/g) ?? []).at(-1)?.match(/\/(\d+)\)/)?.[1];
        const entry: Record<string, unknown> = {
          episodes: count,
          files,
          build_ms: build.ms,
          static_pages: pages ? Number(pages) : undefined,
          load_content_ms: reads,
        };

        if (existsSync(measureScript)) {
          const measured = await run(process.execPath, ["--import", "tsx", measureScript, "--dir", path.join(app, ".next"), "--json"], {
            cwd: projectRoot,
            env: process.env,
          });
          if (measured.code === 0) {
            // The script's JSON (its own format; only these fields are read).
            const firstLoad = JSON.parse(measured.output.slice(measured.output.indexOf("{"))) as {
              route: string;
              total: { gzip: number; brotli: number };
              shared?: { gzip: number };
              route_own?: { gzip: number };
              document?: { gzip: number };
              rum_in_first_load?: boolean;
            };
            entry.first_load = firstLoad;
            if (count === options.episodes[0]) {
              rows.push({
                section: "site",
                measure: "episode page first-load JS",
                value: `${fmt.kb(firstLoad.total.gzip)} gzip`,
                ratio:
                  firstLoad.shared && firstLoad.route_own ? `framework ${fmt.kb(firstLoad.shared.gzip)} + page ${fmt.kb(firstLoad.route_own.gzip)}` : undefined,
                note: [
                  firstLoad.route,
                  `${fmt.kb(firstLoad.total.brotli)} brotli`,
                  firstLoad.document ? `HTML document ${fmt.kb(firstLoad.document.gzip)} gzip` : "",
                  firstLoad.rum_in_first_load === undefined ? "" : `RUM in first load: ${firstLoad.rum_in_first_load ? "yes" : "no"}`,
                ]
                  .filter(Boolean)
                  .join("; "),
              });
            }
          } else {
            entry.first_load_error = measured.output.slice(-500);
          }
        } else if (count === options.episodes[0]) {
          rows.push({ section: "site", measure: "episode page first-load JS", value: "n/a", note: "scripts/measure-first-load.ts is not in this checkout" });
        }
        const buildRow: Row = {
          section: "site",
          measure: `next build, ${count.toLocaleString("en-US")} episodes × ${ALL_LANGS.length} languages`,
          value: fmt.ms(build.ms),
          note: `${files} episode files${pages ? `, ${pages} static pages` : ""}`,
        };
        const first = builds[0] as { episodes: number; build_ms: number } | undefined;
        if (first) buildRow.ratio = `${fmt.x(build.ms / first.build_ms)} the ${first.episodes}-episode build for ${fmt.x(count / first.episodes)} episodes`;
        rows.push(buildRow);
        rows.push({
          section: "site",
          measure: `loadContent(), ${count.toLocaleString("en-US")} episodes`,
          value: `${fmt.ms(reads.inBuildMs)} in a build, ${fmt.ms(reads.warmMs)} at run time`,
          ratio: `run time = ${fmt.x(reads.warmMs / Math.max(reads.inBuildMs, 0.001))} build`,
          note: `${fmt.ms(reads.coldMs)} the first call; memoised, at run time re-listed to see a publish; every page's render reads the content`,
        });
        builds.push(entry);
      } finally {
        content.remove();
      }
    }
    return { rows, details: { builds, note: "cold builds of a copy of the app (bench/out/site), MUSE_CONTENT_DIR = generated episodes" } };
  } finally {
    rmSync(path.join(app, ".next"), { recursive: true, force: true });
  }
}
