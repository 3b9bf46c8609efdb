import { envDocs } from "../env";

/**
 * The environment table of docs/configuration.md, generated from lib/env.ts
 * (`envDocs()`), never typed by hand. `npx tsx scripts/docs-env.ts` rewrites
 * the part of the page between the two markers; tests/docs.test.ts fails when
 * the page and `envDocs()` disagree.
 */

export const ENV_TABLE_START = "<!-- env-table:start (generated from lib/env.ts by `npx tsx scripts/docs-env.ts`; do not edit by hand) -->";
export const ENV_TABLE_END = "<!-- env-table:end -->";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** One table per group of lib/env.ts, in declaration order. */
export function envTableMarkdown(): string {
  const groups = new Map<string, ReturnType<typeof envDocs>>();
  for (const d of envDocs()) groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
  const out: string[] = [];
  for (const [group, docs] of groups) {
    out.push(`### ${group}`, "", "| variable | default | what it is for |", "|---|---|---|");
    for (const d of docs) out.push(`| \`${d.name}\`${d.secret ? " (secret)" : ""} | ${cell(d.default)} | ${cell(d.description)} |`);
    out.push("");
  }
  return out.join("\n").trimEnd();
}

/** The generated block, markers included. */
export function envTableBlock(): string {
  return `${ENV_TABLE_START}\n\n${envTableMarkdown()}\n\n${ENV_TABLE_END}`;
}

/** The part of a page between the markers (markers included), or undefined when they are missing. */
export function currentEnvTableBlock(page: string): string | undefined {
  const start = page.indexOf(ENV_TABLE_START);
  const end = page.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) return undefined;
  return page.slice(start, end + ENV_TABLE_END.length);
}

/** The page with its generated block replaced by the current one. */
export function withEnvTable(page: string): string {
  const current = currentEnvTableBlock(page);
  if (current === undefined) throw new Error(`the page has no ${ENV_TABLE_START} … ${ENV_TABLE_END} markers`);
  return page.replace(current, () => envTableBlock());
}
