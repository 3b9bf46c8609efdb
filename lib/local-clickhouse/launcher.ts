import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localClickHouseCredentials, type LocalClickHouseCredentials } from "./credentials";

/**
 * Starts the local ClickHouse for the dev, demo and test commands when no
 * CLICKHOUSE_URL is configured and nothing answers on the local port, and
 * stops only what it started.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
export const projectRoot = path.resolve(here, "..", "..");

export async function pingClickHouse(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(new URL("/ping", url), { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()).startsWith("Ok.");
  } catch {
    return false;
  }
}

export interface EnsuredClickHouse {
  url: string;
  /** True when this call started the server (and `stop` will end it). */
  started: boolean;
  /** Who to authenticate as: CLICKHOUSE_USER/PASSWORD for a configured URL, else the local server's credentials. */
  credentials: LocalClickHouseCredentials;
  stop(): Promise<void>;
}

export interface EnsureOptions {
  host?: string;
  port?: number;
  dataDir?: string;
  /** Where the child's output goes; default inherits this process's stderr. */
  quiet?: boolean;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export async function ensureLocalClickHouse(options: EnsureOptions = {}): Promise<EnsuredClickHouse> {
  const configured = process.env.CLICKHOUSE_URL?.trim();
  if (configured) {
    const credentials = { user: process.env.CLICKHOUSE_USER || "default", password: process.env.CLICKHOUSE_PASSWORD ?? "" };
    return { url: configured, started: false, credentials, stop: async () => {} };
  }
  // Read (or generated) before the server starts, so the server and this process agree.
  const credentials = localClickHouseCredentials(process.env, projectRoot);
  const host = options.host ?? process.env.MUSE_LOCAL_CLICKHOUSE_HOST ?? "127.0.0.1";
  const port = options.port ?? Number(process.env.MUSE_LOCAL_CLICKHOUSE_PORT ?? 18123);
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (await pingClickHouse(url)) return { url, started: false, credentials, stop: async () => {} };

  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  log(`starting the local ClickHouse on ${url} ...`);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "scripts", "clickhouse-server.ts")], {
    cwd: projectRoot,
    env: {
      ...process.env,
      MUSE_LOCAL_CLICKHOUSE_HOST: host,
      MUSE_LOCAL_CLICKHOUSE_PORT: String(port),
      ...(options.dataDir ? { MUSE_LOCAL_CLICKHOUSE_DATA: options.dataDir } : {}),
    },
    stdio: ["ignore", options.quiet ? "ignore" : "inherit", "inherit"],
  });
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? -1;
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await pingClickHouse(url, 500))) {
    if (exited !== null) throw new Error(`the local ClickHouse exited with code ${exited} before answering on ${url}`);
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`the local ClickHouse did not answer on ${url} in time`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    started: true,
    credentials,
    async stop() {
      if (exited !== null) return;
      const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
