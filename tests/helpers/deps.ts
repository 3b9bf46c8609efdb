import { parseEnv, type Env } from "../../lib/env";
import { memoryLogger } from "../../lib/log";
import { createMetrics, type SeriesPoint } from "../../lib/metrics";
import type { Db } from "../../lib/clickhouse/client";
import type { AgentDeps, Clock } from "../../lib/agents/types";
import type { ListCommitsOptions, UpstreamCommit, UpstreamName, UpstreamRepo } from "../../lib/upstream/types";

/** The series of one metric a test's Metrics holds, not yet flushed, in the order they were recorded. */
export function seriesOf(metrics: { pending(): SeriesPoint[] }, metric: string): SeriesPoint[] {
  return metrics.pending().filter((s) => s.metric === metric);
}

/** An in-memory upstream repository for agent tests (the real ones are tested on their own). */
export class MemoryRepo implements UpstreamRepo {
  readonly location: string;
  files = new Map<string, string>(); // `${sha}:${path}` → text
  constructor(
    readonly name: UpstreamName,
    public commits: UpstreamCommit[] = [],
  ) {
    this.location = `memory:${name}`;
  }
  async latestCommit() {
    const last = this.commits.at(-1);
    return last ? { sha: last.sha, ts: last.ts } : undefined;
  }
  async listCommits(options: ListCommitsOptions = {}) {
    let list = [...this.commits];
    if (options.afterSha) {
      const i = list.findIndex((c) => c.sha === options.afterSha);
      if (i >= 0) list = list.slice(i + 1);
    }
    if (options.since) list = list.filter((c) => Date.parse(c.ts) >= options.since!.getTime());
    if (options.until) list = list.filter((c) => Date.parse(c.ts) <= options.until!.getTime());
    return list.slice(-(options.limit ?? 500));
  }
  async readFile(sha: string, path: string) {
    const text = this.files.get(`${sha}:${path}`);
    if (text === undefined) throw new Error(`no ${path} at ${sha}`);
    return text;
  }
}

export function fixedClock(iso: string): Clock & { set(iso: string): void; advance(ms: number): void } {
  let now = new Date(iso);
  return {
    now: () => new Date(now),
    set: (v) => {
      now = new Date(v);
    },
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

export function testDeps(db: Db, overrides: Partial<Omit<AgentDeps, "log" | "metrics" | "env">> & { envVars?: Record<string, string> } = {}) {
  const log = memoryLogger();
  const env: Env = parseEnv({ MUSE_LOCK_TTL_SECONDS: "60", ...(overrides.envVars ?? {}) });
  // Metrics bucket counts per 10 s: on the wall clock, two counts of one test could fall into two
  // buckets (a flaky count). They run on the injected clock, or on one fixed instant without one.
  const frozenAt = Date.now();
  const metricsClock = overrides.clock ? () => overrides.clock!.now().getTime() : () => frozenAt;
  const metrics = createMetrics({ apiUrl: "http://127.0.0.1:9", baseTags: ["env:test"], log, clock: metricsClock });
  return {
    db,
    upstream: overrides.upstream ?? { hearts: new MemoryRepo("banterhearts"), packs: new MemoryRepo("banterpacks") },
    clock: overrides.clock ?? { now: () => new Date() },
    metrics,
    log,
    env,
  };
}
