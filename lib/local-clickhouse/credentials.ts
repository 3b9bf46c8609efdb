import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The local ClickHouse's credentials. The server always requires a password:
 * MUSE_LOCAL_CLICKHOUSE_PASSWORD when set, else one generated on first use and
 * kept (mode 0600) in `.muse/local-clickhouse.password` of the working
 * directory. The server (scripts/clickhouse-server.ts) and every client that
 * talks to it (lib/clickhouse/client.ts when CLICKHOUSE_URL is unset, the
 * tests' helpers) call this same function, so a freshly started server and
 * existing clients always agree; whichever comes first creates the file.
 */

export const LOCAL_CLICKHOUSE_PASSWORD_FILE = path.join(".muse", "local-clickhouse.password");
export const LOCAL_CLICKHOUSE_DEFAULT_USER = "default";

export interface LocalClickHouseCredentials {
  user: string;
  password: string;
}

/** The validated Env or process.env: only the two variables are read. */
type CredentialEnv = { MUSE_LOCAL_CLICKHOUSE_USER?: string | undefined; MUSE_LOCAL_CLICKHOUSE_PASSWORD?: string | undefined; [name: string]: unknown };

export function localClickHouseCredentials(env: CredentialEnv, cwd = process.cwd()): LocalClickHouseCredentials {
  const user = env.MUSE_LOCAL_CLICKHOUSE_USER?.trim() || LOCAL_CLICKHOUSE_DEFAULT_USER;
  const configured = env.MUSE_LOCAL_CLICKHOUSE_PASSWORD;
  if (configured !== undefined && configured !== "") return { user, password: configured };
  return { user, password: generatedPassword(path.resolve(cwd, LOCAL_CLICKHOUSE_PASSWORD_FILE)) };
}

function readPassword(file: string): string | undefined {
  try {
    const value = readFileSync(file, "utf8").trim();
    return value === "" ? undefined : value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Reads the password file, creating it atomically (write a temp file, hard-link it into place) when missing. */
export function generatedPassword(file: string): string {
  const existing = readPassword(file);
  if (existing) return existing;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  try {
    linkSync(tmp, file); // fails with EEXIST when another process won the race
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(tmp);
  }
  const created = readPassword(file);
  if (!created) throw new Error(`could not read the local ClickHouse password from ${file}`);
  return created;
}

/**
 * The least-privilege users of sql/users/muse_users.sql, as the local
 * ClickHouse knows them. chDB has no grants, so the server maps them: the
 * migrator and the agent writer may do everything the default user may, and
 * the reader runs every request with `readonly=1` (set by the server, which the
 * client cannot lift). Each password is generated on first use and kept
 * (mode 0600) in `.muse/local-clickhouse.<user>.password`, like the default
 * user's.
 */
export const LOCAL_CLICKHOUSE_ROLE_USERS = { migrator: "muse_migrator", agent: "muse_agent", reader: "muse_reader" } as const;

export interface LocalClickHouseUser extends LocalClickHouseCredentials {
  /** Every request of this user runs with readonly=1. */
  readonly: boolean;
}

export function localRoleUserPassword(user: string, cwd = process.cwd()): string {
  if (!/^[A-Za-z0-9_]+$/.test(user)) throw new Error(`invalid local ClickHouse user name ${JSON.stringify(user)}`);
  return generatedPassword(path.resolve(cwd, ".muse", `local-clickhouse.${user}.password`));
}

/** Everyone the local ClickHouse accepts: the configured default user, then muse_migrator, muse_agent and muse_reader. */
export function localClickHouseUsers(env: CredentialEnv, cwd = process.cwd()): LocalClickHouseUser[] {
  const main = localClickHouseCredentials(env, cwd);
  const roles = Object.values(LOCAL_CLICKHOUSE_ROLE_USERS).filter((user) => user !== main.user);
  return [
    { ...main, readonly: main.user === LOCAL_CLICKHOUSE_ROLE_USERS.reader },
    ...roles.map((user) => ({ user, password: localRoleUserPassword(user, cwd), readonly: user === LOCAL_CLICKHOUSE_ROLE_USERS.reader })),
  ];
}
