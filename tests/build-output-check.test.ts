import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(path.join(os.tmpdir(), "muse-next-out-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(root: string): { code: number; output: string } {
  try {
    const output = execFileSync(process.execPath, ["--import", "tsx", "scripts/check-build-output.ts", root], { encoding: "utf8", stdio: "pipe" });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status: number; stderr: string };
    return { code: err.status, output: err.stderr };
  }
}

describe("build output check", () => {
  it("passes a build whose traces do not include chDB", () => {
    const root = path.join(dir, "clean");
    mkdirSync(path.join(root, "server"), { recursive: true });
    writeFileSync(path.join(root, "server", "route.js.nft.json"), JSON.stringify({ version: 1, files: ["../../node_modules/next/dist/server.js"] }));
    expect(check(root).code).toBe(0);
  });

  it("fails a build that traced chDB's native library into a function", () => {
    const root = path.join(dir, "dirty");
    mkdirSync(path.join(root, "server"), { recursive: true });
    writeFileSync(
      path.join(root, "server", "route.js.nft.json"),
      JSON.stringify({ version: 1, files: ["../../node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"] }),
    );
    const result = check(root);
    expect(result.code).toBe(1);
    expect(result.output).toContain("route.js.nft.json");
  });
});
