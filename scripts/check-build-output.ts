/**
 * Fails when the Next.js build output would ship chDB: the 566 MB engine
 * belongs to the local ClickHouse process only, never to a server bundle or a
 * Vercel function (checked in CI after `next build`).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(process.argv[2] ?? ".next");
const offenders: string[] = [];

async function walk(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === "cache") continue; // build cache, never deployed
      await walk(full);
    } else if (/chdb/i.test(entry.name)) {
      offenders.push(full);
    } else if (entry.name.endsWith(".nft.json")) {
      // Traces list every file a function ships with.
      const trace = JSON.parse(await readFile(full, "utf8")) as { files?: string[] };
      if ((trace.files ?? []).some((f) => /(^|\/)(chdb|@chdb)\//.test(f) || f.includes("libchdb"))) offenders.push(full);
    } else if (entry.name.endsWith(".js") && !entry.name.startsWith("required-server-files")) {
      // (required-server-files echoes next.config, whose exclusion list names chdb.)
      if ((await stat(full)).size > 20_000_000) continue;
      if ((await readFile(full, "utf8")).includes("libchdb.so")) offenders.push(full);
    }
  }
}

await walk(root);
if (offenders.length > 0) {
  console.error(`chDB found in the build output (${offenders.length} file(s)):\n${offenders.slice(0, 20).join("\n")}`);
  process.exit(1);
}
console.log(`build output ${path.relative(process.cwd(), root)}: no chDB (libchdb.so) in any file or trace`);
