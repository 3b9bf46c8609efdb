import { configDefaults, defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * `npm run test:hardening`: load, fault, fuzz and security suites
 * (tests/hardening), kept out of `npm test` so that stays fast. Same pool,
 * ClickHouse global setup and aliases as vitest.config.ts; longer timeouts,
 * and a setup file that gives the route tokens distinctive values and fails a
 * file whose output or responses contain one (tests/hardening/helpers/setup.ts).
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["tests/hardening/**/*.test.ts"],
    exclude: [...configDefaults.exclude],
    setupFiles: ["tests/hardening/helpers/setup.ts"],
    testTimeout: 240_000,
    hookTimeout: 180_000,
  },
});
