import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { createDb, type ClickHouseConfig, type Db } from "../../../lib/clickhouse/client";
import { migrate } from "../../../lib/clickhouse/migrations";
import { pingClickHouse, projectRoot } from "../../../lib/local-clickhouse/launcher";
import { testClickHouseConfig, uniqueDatabaseName } from "../../helpers/db";

/**
 * A local ClickHouse of its own, in a child process (`scripts/clickhouse-server.ts`,
 * exactly what `npm run clickhouse` runs), for the hardening tests and the bench:
 * chDB allows one engine per process, so a ClickHouse that a test stops, kills and
 * restarts, or whose memory the bench measures, cannot live in the test process.
 */

export interface ClickHouseChild {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** SIGTERM (the server closes its engine cleanly), SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, mid-request if requests are in flight. */
  kill(): Promise<void>;
  /** Peak resident set size so far (VmHWM), in bytes; undefined once exited or off Linux. */
  peakRssBytes(): number | undefined;
}

/** A TCP port nothing listens on right now (closed again at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** VmHWM (peak RSS) or VmRSS of a process from /proc, in bytes. */
export function procStatusBytes(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function startClickHouseChild(options: {
  dataDir: string;
  port?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}): Promise<ClickHouseChild> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MUSE_LOCAL_CLICKHOUSE_HOST: "127.0.0.1",
    MUSE_LOCAL_CLICKHOUSE_PORT: String(port),
    MUSE_LOCAL_CLICKHOUSE_DATA: path.resolve(options.dataDir),
  };
  // The child requires the local ClickHouse's generated password (the one the
  // tests' clients use, see global-setup.ts), and must not inherit a remote target.
  for (const name of ["CLICKHOUSE_URL", "MUSE_LOCAL_CLICKHOUSE_USER", "MUSE_LOCAL_CLICKHOUSE_PASSWORD"]) delete env[name];
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "scripts", "clickhouse-server.ts")], {
    cwd: projectRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let exited = false;
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4_000);
    options.log?.(chunk.toString("utf8").trimEnd());
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );

  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  while (!(await pingClickHouse(url, 500))) {
    if (exited) throw new Error(`ClickHouse child exited before answering on ${url}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exit;
      throw new Error(`ClickHouse child did not answer on ${url} in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  const signal = async (sig: NodeJS.Signals) => {
    if (exited) return;
    child.kill(sig);
    const timer = sig === "SIGKILL" ? undefined : setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exit;
    if (timer) clearTimeout(timer);
  };
  return {
    url,
    port,
    dataDir: options.dataDir,
    pid: child.pid!,
    get exited() {
      return exited;
    },
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    peakRssBytes: () => (exited ? undefined : procStatusBytes(child.pid!, "VmHWM")),
  };
}

/** A migrated database of its own on the ClickHouse at `url`. */
export async function migratedDatabase(url: string, database = uniqueDatabaseName("muse_hardening")): Promise<{ db: Db; config: ClickHouseConfig }> {
  const config: ClickHouseConfig = { ...testClickHouseConfig(database), url };
  await migrate(config);
  return { db: createDb(config), config };
}
