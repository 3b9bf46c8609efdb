import { defineConfig } from "vitest/config";
import path from "node:path";

/** Browser tests: real headless Chromium (Debian's) against the built site. `npm run test:browser`. */
export default defineConfig({
  // server-only throws outside React's server condition, which vitest does not set: its empty module here.
  resolve: { alias: { "@": path.resolve(import.meta.dirname), "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js") } },
  test: {
    pool: "forks",
    maxWorkers: 1,
    include: ["tests/browser/**/*.test.ts"],
    globalSetup: ["tests/browser/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
