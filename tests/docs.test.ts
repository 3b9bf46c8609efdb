import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { currentEnvTableBlock, envTableBlock } from "../lib/cli/env-table";

/**
 * The repository documents itself: the environment table of
 * docs/configuration.md is lib/env.ts's, every relative link in README.md and
 * docs/ leads to a file that exists, and no committed file cites a document
 * outside the repository.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const docPages = [
  "README.md",
  ...readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
  "sql/README.md",
];

/** Markdown without fenced code blocks and inline code, where a bracket is not a link. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/(`+)[\s\S]*?\1/g, "");
}

/** Targets of inline links and images, `[text](target "title")`, and of reference definitions `[id]: target`. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const inline = [...text.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const defined = [...text.matchAll(/^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]);
  return [...inline, ...defined];
}

const isRelative = (target: string) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("//") && !target.startsWith("#");

describe("docs/configuration.md", () => {
  it("has the environment table of lib/env.ts (regenerate: npx tsx scripts/docs-env.ts)", () => {
    const block = currentEnvTableBlock(read("docs/configuration.md"));
    expect(block, "the env-table markers are missing").toBeDefined();
    expect(block).toBe(envTableBlock());
  });
});

describe("links", () => {
  it("finds inline, image and reference links, and none inside code", () => {
    expect(linkTargets('See [a](docs/a.md), ![b](img/b.png "B") and `[c](c.md)`.\n\n```\n[d](d.md)\n```\n[e]: ./e.md\n')).toEqual([
      "docs/a.md",
      "img/b.png",
      "./e.md",
    ]);
  });

  for (const page of docPages.filter((p) => existsSync(path.join(root, p)))) {
    it(`every relative link of ${page} leads to an existing file`, () => {
      const dir = path.dirname(path.join(root, page));
      const broken = linkTargets(read(page))
        .filter(isRelative)
        .filter((target) => {
          const file = decodeURIComponent(target.split(/[?#]/)[0]);
          return file !== "" && !existsSync(path.resolve(dir, file));
        });
      expect(broken, `${page} links to files that do not exist`).toEqual([]);
    });
  }
});

describe("the repository cites only itself", () => {
  // Built from parts so this file does not cite them itself.
  const outside = [["shared", "design"].join("/"), ["shared", "seeds"].join("/"), ["", "work", "shared"].join("/")];

  const frozen = new Set<string>();

  it("no committed text file names the design documents outside the repository", () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
    expect(files.length).toBeGreaterThan(10);
    const hits: string[] = [];
    for (const file of files) {
      const full = path.join(root, file);
      if (frozen.has(file) || !existsSync(full)) continue; // frozen migration; deleted in the working tree
      const bytes = readFileSync(full);
      if (bytes.includes(0)) continue; // binary
      const text = bytes.toString("utf8");
      text.split("\n").forEach((line, i) => {
        if (outside.some((s) => line.includes(s))) hits.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(hits, "cite the matching page of docs/ instead").toEqual([]);
  });
});
