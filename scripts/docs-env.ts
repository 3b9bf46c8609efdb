/**
 * `npx tsx scripts/docs-env.ts`: rewrites the environment table of
 * docs/configuration.md from lib/env.ts. `--check` only compares (exit 1 when
 * the page is stale), as tests/docs.test.ts does.
 */
import { readFile, writeFile } from "node:fs/promises";
import { withEnvTable } from "../lib/cli/env-table";

const page = new URL("../docs/configuration.md", import.meta.url);
const before = await readFile(page, "utf8");
const after = withEnvTable(before);
if (process.argv.includes("--check")) {
  if (after !== before) {
    process.stderr.write("docs/configuration.md is out of date: run npx tsx scripts/docs-env.ts\n");
    process.exit(1);
  }
  process.stdout.write("docs/configuration.md is up to date\n");
} else if (after !== before) {
  await writeFile(page, after);
  process.stdout.write("docs/configuration.md: environment table rewritten from lib/env.ts\n");
} else {
  process.stdout.write("docs/configuration.md is up to date\n");
}
