import { configDefaults, defineConfig } from "vitest/config";
import path from "node:path";

export default defineConfig({
  // server-only throws outside React's server condition, which vitest does not set: its empty module here.
  resolve: { alias: { "@": path.resolve(import.meta.dirname), "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js") } },
  test: {
    // chDB must never load in a worker thread (it crashes the process when the
    // worker exits); tests talk to it over HTTP from forked processes anyway.
    pool: "forks",
    maxWorkers: 2,
    globalSetup: ["tests/helpers/global-setup.ts"],
    include: ["tests/**/*.test.ts"],
    // npm run test:hardening (vitest.hardening.config.ts) runs those: they take minutes.
    exclude: [...configDefaults.exclude, "tests/hardening/**", "tests/browser/**"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
