import { configDefaults, defineConfig } from "vitest/config";
import path from "node:path";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
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
