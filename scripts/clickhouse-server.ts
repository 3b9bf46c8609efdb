/** `npm run clickhouse`: ClickHouse's HTTP interface over chDB, on loopback by default. */
import { loadEnv } from "../lib/env";
import { localClickHouseCredentials, localClickHouseUsers } from "../lib/local-clickhouse/credentials";
import { startLocalClickHouse } from "../lib/local-clickhouse/server";

const env = loadEnv();
// Always with a password (generated under .muse/ unless MUSE_LOCAL_CLICKHOUSE_PASSWORD is set).
const credentials = localClickHouseCredentials(env);
const server = await startLocalClickHouse({
  host: env.MUSE_LOCAL_CLICKHOUSE_HOST,
  port: env.MUSE_LOCAL_CLICKHOUSE_PORT,
  dataDir: env.MUSE_LOCAL_CLICKHOUSE_DATA,
  user: credentials.user,
  password: credentials.password,
  // muse_migrator, muse_agent and the read-only muse_reader (sql/users/), passwords generated under .muse/.
  users: localClickHouseUsers(env).slice(1),
  log: (line) => process.stdout.write(`[clickhouse] ${line}\n`),
});

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.close().then(() => process.exit(0));
  });
}
