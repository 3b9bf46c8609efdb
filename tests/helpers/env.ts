import { resetDb } from "../../lib/clickhouse";
import { resetEnvCache } from "../../lib/env";

/** Sets (or, with undefined, removes) variables, then drops the cached env and ClickHouse client. */
export async function setEnv(values: Record<string, string | undefined>): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvCache();
  await resetDb();
}

/** The current values of `names`, to hand back to setEnv later. */
export function saveEnv(names: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, process.env[n]]));
}
