import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * scripts/with-node.mjs: the npm scripts run on production's Node major. On
 * that major the command just runs; on an older one, with the download turned
 * off, it stops with one sentence (the download itself is exercised by CI's
 * fresh machines, not here: it needs the registry).
 */
const root = path.resolve(import.meta.dirname, "..");
const script = path.join(root, "scripts", "with-node.mjs");

/** An older Node on this machine (the system's), when there is one. */
function olderNode(): string | undefined {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"]) {
    const r = spawnSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" });
    if (r.status === 0 && Number(r.stdout.split(".")[0]) < 24) return candidate;
  }
  return undefined;
}

describe("with-node", () => {
  it("runs the command directly on production's major, passing arguments and the exit code through", () => {
    expect(Number(process.versions.node.split(".")[0])).toBe(24);
    const out = execFileSync(process.execPath, [script, process.execPath, "-e", "process.stdout.write(process.argv.slice(1).join(','))", "a", "b c"], {
      encoding: "utf8",
    });
    expect(out).toBe("a,b c");
    const failing = spawnSync(process.execPath, [script, process.execPath, "-e", "process.exit(7)"]);
    expect(failing.status).toBe(7);
  });

  it.runIf(olderNode())("on an older Node with the download off, stops with one sentence naming the Node needed", () => {
    const r = spawnSync(olderNode()!, [script, "node", "--version"], {
      encoding: "utf8",
      env: { ...process.env, MUSE_NODE_DOWNLOAD: "0", PATH: "/usr/bin:/bin" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Muse needs Node\.js 24/);
    expect(r.stdout).toBe("");
  });
});
