import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect } from "vitest";
import { resetEnvCache } from "../../../lib/env";
import { installLeakWatch, leaks } from "./leaks";

/**
 * Runs before every hardening test file (vitest.hardening.config.ts): the
 * route tokens get distinctive values (never seen in a log line or a
 * response body: see leaks.ts), the dead-letter store goes to a temp directory
 * of this file (never the checkout's .muse/dlq), and output is scanned.
 */

export const HARDENING_SECRETS = {
  MUSE_INGEST_TOKEN: "hardening-ingest-token-6b1f0c9e71",
  MUSE_ADMIN_TOKEN: "hardening-admin-token-3d7e21aa05",
  MUSE_RUNNER_TOKEN: "hardening-runner-token-58c0e3b7a4",
  CRON_SECRET: "hardening-cron-secret-c4e8f5b2d9",
  VERCEL_WEBHOOK_SECRET: "hardening-vercel-secret-9a2d6e1748",
} as const;

for (const [name, value] of Object.entries(HARDENING_SECRETS)) process.env[name] = value;
// CLICKHOUSE_PASSWORD is the local ClickHouse's generated password here (global-setup.ts): a secret watched like the tokens.
const dlqDir = mkdtempSync(path.join(os.tmpdir(), "muse-hardening-dlq-"));
process.env.MUSE_DLQ_DIR = dlqDir;
process.env.MUSE_LOG_LEVEL = "debug";
// These suites send thousands of requests as one client to test storage under load, faults and fuzzing, which rate
// limits would turn into 429s; the limits have their own tests (tests/rate-limit.test.ts).
process.env.MUSE_RATE_LIMIT = "off";
// Never a real LLM, GitHub or Datadog from a developer's shell.
for (const name of ["OPENAI_API_KEY", "OPENAI_BASE_URL", "GITHUB_TOKEN", "DD_API_KEY", "DD_APP_KEY", "DD_API_URL"]) delete process.env[name];
resetEnvCache();

const uninstall = installLeakWatch();

afterAll(() => {
  uninstall();
  rmSync(dlqDir, { recursive: true, force: true });
  const found = leaks();
  expect(found, `secret values leaked into output or responses:\n${found.map((l) => `${l.where} (${l.secret}): ${l.excerpt}`).join("\n")}`).toEqual([]);
});
