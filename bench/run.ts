/**
 * `npm run bench`: Muse's figures, each measured side by side in one run, printed
 * as a table and written to bench/results.json.
 *
 *   npm run bench                          all sections (the site section runs two `next build`s: slow)
 *   npm run bench -- --skip-site           everything but the site builds
 *   npm run bench -- --only analytics      one section: ingest | analytics | site | agents | changepoints | changepoints-real | attribution | statistics | production | lighthouse
 *   npm run bench -- --skip-lighthouse     everything but Lighthouse (a build, then 3 mobile runs × 7 pages: slow)
 *   npm run bench -- --days 10             analytics over 10 days instead of 30
 *   npm run bench -- --quick               small sizes (a smoke run; figures not comparable)
 *
 * With --only, the other sections' latest results are kept in results.json
 * (each section records when it was measured). Each section that needs
 * ClickHouse spawns one of its own (scripts/clickhouse-server.ts in a child
 * process, temp data directory) and stops it at the end.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { agentsSection } from "./agents";
import { attributionSection } from "./attribution";
import { analyticsSection } from "./analytics";
import { changepointsSection } from "./changepoints";
import { changepointsRealSection } from "./changepoints-real";
import { ingestSection } from "./ingest";
import { productionSection } from "./production";
import { renderTable, say, type Row, type SectionResult } from "./lib";
import { lighthouseSection } from "./lighthouse";
import { siteSection } from "./site";
import { statisticsSection } from "./statistics";

const SECTIONS = [
  "ingest",
  "analytics",
  "site",
  "agents",
  "changepoints",
  "changepoints-real",
  "attribution",
  "statistics",
  "production",
  "lighthouse",
] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    "skip-site": { type: "boolean", default: false },
    "skip-lighthouse": { type: "boolean", default: false },
    days: { type: "string", default: "30" },
    quick: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    readFileSync(new URL(import.meta.url), "utf8")
      .split("*/")[0]
      .replace(/^\/\*\*?\n?/, "")
      .replace(/^ \* ?/gm, ""),
  );
  process.exit(0);
}
const unknown = (values.only ?? []).filter((s) => !(SECTIONS as readonly string[]).includes(s));
if (unknown.length) {
  process.stderr.write(`unknown section(s) ${unknown.join(", ")}: expected ${SECTIONS.join(", ")}\n`);
  process.exit(2);
}
const days = Number(values.days);
if (!Number.isInteger(days) || days < 3 || days > 90) {
  process.stderr.write("--days must be a whole number from 3 to 90\n");
  process.exit(2);
}
const selected = SECTIONS.filter((s) =>
  values.only ? values.only.includes(s) : !(s === "site" && values["skip-site"]) && !(s === "lighthouse" && values["skip-lighthouse"]),
);
const quick = values.quick;

const RUNNERS: Record<Section, () => Promise<SectionResult>> = {
  ingest: () => ingestSection({ eventsPerSize: quick ? 3_000 : 40_000, minBatches: quick ? 1 : 12, rounds: quick ? 1 : 3 }),
  analytics: () => (quick ? analyticsSection({ days: 3, budgetMinutes: 5, small: 10_000, large: 100_000 }) : analyticsSection({ days, budgetMinutes: 15 })),
  site: () => siteSection({ episodes: quick ? [10, 40] : [100, 1_000] }),
  agents: () => agentsSection({ days: quick ? 3 : 14 }),
  changepoints: () => changepointsSection(quick ? { reps: 4, clean: 300 } : { reps: 20, clean: 1_000 }),
  "changepoints-real": () => changepointsRealSection({ quick }),
  attribution: () => attributionSection({ corpora: quick ? 40 : 300, quick }),
  statistics: () => statisticsSection(quick ? { reps: 200, episodes: 100, walks: 200 } : { reps: 2000, episodes: 1000, walks: 1000 }),
  production: () =>
    productionSection(
      quick ? { days: 5, eventsPerDay: 50_000, instances: 5, seconds: 30 } : { days: 30, eventsPerDay: 1_000_000, instances: 20, seconds: 120 },
    ),
  lighthouse: () => lighthouseSection({ runs: quick ? 1 : 3 }),
};

const resultsFile = path.join(projectRoot, "bench", "results.json");
interface Results {
  machine: Record<string, unknown>;
  sections: Partial<Record<Section, { measured_at: string; duration_ms: number; quick: boolean; rows: Row[]; details: Record<string, unknown> }>>;
}
const previous: Results | undefined = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Results) : undefined;
const results: Results = {
  machine: {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    load_average_at_start: os.loadavg().map((l) => Number(l.toFixed(2))),
  },
  sections: values.only ? { ...(previous?.sections ?? {}) } : {},
};

say(`sections: ${selected.join(", ")}${quick ? " (quick)" : ""}; ${os.cpus().length} cpus, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
let failed = false;
for (const section of selected) {
  say(`== ${section}`);
  const started = performance.now();
  try {
    const result = await RUNNERS[section]();
    results.sections[section] = { measured_at: new Date().toISOString(), duration_ms: Math.round(performance.now() - started), quick, ...result };
  } catch (error) {
    failed = true;
    say(`${section} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
results.machine.load_average_at_end = os.loadavg().map((l) => Number(l.toFixed(2)));

// With --only, the file is read again right before writing: sections another run wrote meanwhile are kept.
if (values.only && existsSync(resultsFile)) {
  const latest = JSON.parse(readFileSync(resultsFile, "utf8")) as Results;
  const mine = Object.fromEntries(selected.flatMap((s) => (results.sections[s] ? [[s, results.sections[s]]] : [])));
  results.sections = { ...(latest.sections ?? {}), ...mine };
}
const rows = SECTIONS.flatMap((s) => results.sections[s]?.rows ?? []);
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(
  `\nMuse bench — ${os.cpus().length} cpus, node ${process.version}, ${new Date().toISOString().slice(0, 10)}${quick ? " (quick: not comparable)" : ""}\n\n`,
);
process.stdout.write(`${renderTable(rows)}\n\n`);
const stale = SECTIONS.filter((s) => results.sections[s] && !selected.includes(s));
if (stale.length) process.stdout.write(`(${stale.join(", ")}: from an earlier run, ${stale.map((s) => results.sections[s]!.measured_at).join(", ")})\n`);
process.stdout.write(`written to ${path.relative(process.cwd(), resultsFile)}\n`);
process.exit(failed ? 1 : 0);
