import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureLocalClickHouse } from "../../lib/local-clickhouse/launcher";

/**
 * Tests run real ClickHouse SQL: against CLICKHOUSE_URL when set, else the
 * local ClickHouse already answering on its port, else one started here (with
 * a throw-away data directory) and stopped afterwards. Each test file works in
 * its own database (see helpers/db.ts).
 */
export default async function setup() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "muse-test-ch-"));
  const clickhouse = await ensureLocalClickHouse({ quiet: true, dataDir });
  process.env.MUSE_TEST_CLICKHOUSE_URL = clickhouse.url;
  if (!process.env.CLICKHOUSE_URL) {
    // The local ClickHouse requires its (generated) password; tests that point
    // CLICKHOUSE_URL at it authenticate with CLICKHOUSE_USER/PASSWORD.
    process.env.CLICKHOUSE_USER = clickhouse.credentials.user;
    process.env.CLICKHOUSE_PASSWORD = clickhouse.credentials.password;
  }
  return async () => {
    await clickhouse.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
