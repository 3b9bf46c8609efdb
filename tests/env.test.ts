import { describe, expect, it } from "vitest";
import { EnvError, envDocs, parseEnv, ENV_SPEC } from "../lib/env";

describe("environment", () => {
  it("gives every variable its documented default", () => {
    const env = parseEnv({});
    expect(env.CLICKHOUSE_DATABASE).toBe("chimera_metrics");
    expect(env.CLICKHOUSE_URL).toBeUndefined();
    expect(env.MUSE_LOCAL_CLICKHOUSE_PORT).toBe(18123);
    expect(env.MUSE_PUBLISH_THRESHOLD).toBe(0.6);
    expect(env.MUSE_TRANSLATE_LANGS).toEqual(["de", "zh", "hi"]);
    expect(env.MUSE_COUNCIL_ALLOW_DEGRADED).toBe(false);
  });

  it("fails naming each bad variable", () => {
    let error: unknown;
    try {
      parseEnv({ CLICKHOUSE_URL: "not a url", MUSE_LOCAL_CLICKHOUSE_PORT: "99999", MUSE_PUBLISH_THRESHOLD: "high", BANTERHEARTS_REPO: "no-slash" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const names = (error as EnvError).problems.map((p) => p.variable).sort();
    expect(names).toEqual(["BANTERHEARTS_REPO", "CLICKHOUSE_URL", "MUSE_LOCAL_CLICKHOUSE_PORT", "MUSE_PUBLISH_THRESHOLD"]);
    expect((error as EnvError).message).toContain("MUSE_LOCAL_CLICKHOUSE_PORT");
  });

  it("parses flags, lists and repository references", () => {
    const env = parseEnv({ MUSE_COUNCIL_ALLOW_DEGRADED: "true", MUSE_TRANSLATE_LANGS: "de, hi", MUSE_CONTENT_REPO: "acme/blog@main" });
    expect(env.MUSE_COUNCIL_ALLOW_DEGRADED).toBe(true);
    expect(env.MUSE_TRANSLATE_LANGS).toEqual(["de", "hi"]);
    expect(env.MUSE_CONTENT_REPO).toBe("acme/blog@main");
    expect(() => parseEnv({ MUSE_TRANSLATE_LANGS: "de,fr" })).toThrow(/MUSE_TRANSLATE_LANGS/);
  });

  it("documents every variable, and marks tokens and keys as secrets", () => {
    const docs = envDocs();
    expect(docs).toHaveLength(Object.keys(ENV_SPEC).length);
    for (const d of docs) expect(d.description.length).toBeGreaterThan(10);
    const secrets = docs.filter((d) => d.secret).map((d) => d.name);
    for (const name of [
      "CLICKHOUSE_PASSWORD",
      "CRON_SECRET",
      "MUSE_ADMIN_TOKEN",
      "MUSE_INGEST_TOKEN",
      "GITHUB_TOKEN",
      "OPENAI_API_KEY",
      "DD_API_KEY",
      "VERCEL_WEBHOOK_SECRET",
    ]) {
      expect(secrets).toContain(name);
    }
  });
});

describe(".env.example", () => {
  it("lists every variable the app reads", async () => {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(new URL("../.env.example", import.meta.url), "utf8");
    const listed = [...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(Object.keys(ENV_SPEC).sort());
  });
});
