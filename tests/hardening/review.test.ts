import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClickHouseCredentials, LOCAL_CLICKHOUSE_PASSWORD_FILE } from "../../lib/local-clickhouse/credentials";
import { projectRoot } from "../../lib/local-clickhouse/launcher";
import { startClickHouseChild, type ClickHouseChild } from "./helpers/clickhouse-child";

/**
 * Findings of a review of the running system (an attacker's and an
 * operator's view), each as a test that fails on the code before the fix.
 * See docs/security.md for the model these enforce.
 */

interface Raw {
  status: number;
  body: string;
}

/** A raw HTTP request (node:http, so Host and Origin can be anything a browser might send). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "POST", headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("the local ClickHouse (npm run clickhouse) refuses web pages and strangers", () => {
  let child: ClickHouseChild;
  let dataDir: string;
  const credentials = localClickHouseCredentials(process.env, projectRoot);
  const basic = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}`;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "muse-review-ch-"));
    child = await startClickHouseChild({ dataDir });
  });
  afterAll(async () => {
    await child?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers its own clients (the generated password under .muse/, file mode 0600)", async () => {
    const ok = await raw(child.url, { headers: { authorization: basic }, body: "SELECT 1" });
    expect(ok).toEqual({ status: 200, body: "1\n" });
    if (!process.env.MUSE_LOCAL_CLICKHOUSE_PASSWORD) {
      expect(statSync(path.join(projectRoot, LOCAL_CLICKHOUSE_PASSWORD_FILE)).mode & 0o077).toBe(0);
      expect(credentials.password.length).toBeGreaterThanOrEqual(24);
    }
  });

  it("refuses a request without the password, or with a wrong one", async () => {
    expect((await raw(child.url, { body: "SELECT 1" })).status).toBe(401);
    const wrong = `Basic ${Buffer.from(`${credentials.user}:not-the-password`).toString("base64")}`;
    expect((await raw(child.url, { headers: { authorization: wrong }, body: "SELECT 1" })).status).toBe(403);
    expect((await raw(`${child.url}/?query=SELECT%201`, { method: "GET" })).status).toBe(401);
  });

  it("refuses a request a web page makes (Origin, Sec-Fetch-Site), even with the password", async () => {
    const pageHeaders: Record<string, string>[] = [
      { origin: "https://attacker.example", "content-type": "text/plain" },
      { origin: "null" },
      { origin: "http://127.0.0.1:3000" },
      { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of pageHeaders) {
      const answer = await raw(child.url, { headers: { ...headers, authorization: basic }, body: "SELECT 1" });
      expect({ headers, status: answer.status }).toEqual({ headers, status: 403 });
      expect(answer.body).not.toBe("1\n");
    }
    // A preflight gets no CORS grant either.
    expect((await raw(child.url, { method: "OPTIONS", headers: { origin: "https://attacker.example", "access-control-request-method": "POST" } })).status).toBe(
      403,
    );
  });

  it("refuses a Host that names another site (DNS rebinding), and accepts loopback names", async () => {
    for (const host of ["attacker.example", `attacker.example:${child.port}`, `rebind.127.0.0.1.nip.io:${child.port}`]) {
      const answer = await raw(child.url, { headers: { host, authorization: basic }, body: "SELECT 1" });
      expect({ host, status: answer.status }).toEqual({ host, status: 403 });
    }
    for (const host of [`127.0.0.1:${child.port}`, `localhost:${child.port}`, "localhost"]) {
      const answer = await raw(child.url, { headers: { host, authorization: basic }, body: "SELECT 1" });
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
  });
});
