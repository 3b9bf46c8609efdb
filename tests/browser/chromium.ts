import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";

/**
 * What the browser suites share: the demo site's address (tests/browser/setup.ts),
 * where screenshots go, and the headless Chromium they drive — Debian's
 * (`/usr/bin/chromium`, or CHROMIUM_PATH), never a downloaded one.
 */

export const BASE = process.env.MUSE_BROWSER_BASE_URL!;
export const SHOTS = path.resolve("test-results", "browser");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless Chromium without network side traffic (updates, sync, QUIC), with the screenshot folder made. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * The series of the episode the setup's pipeline published (number 3): chimera when users felt one of its benchmark
 * changes, banterpacks otherwise — the sample world decides, the tests follow.
 */
export function pipelineSeries(): string {
  const content = process.env.MUSE_BROWSER_CONTENT_DIR ?? "";
  return ["chimera", "banterpacks"].find((s) => existsSync(path.join(content, "episodes", s, "ep-003.md"))) ?? "chimera";
}
