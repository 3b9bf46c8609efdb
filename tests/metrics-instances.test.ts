import { describe, expect, it } from "vitest";
import { memoryLogger } from "../lib/log";
import { seriesOf } from "./helpers/deps";
import { createCountLedger, createMetrics, replayableSeries, type CountLedger, type SeriesPoint } from "../lib/metrics";

/**
 * Counts that add up across serverless instances (issue 14, item 3), against
 * a fake Datadog that applies the intake's real rule: for one series (metric +
 * tags) and timestamp the LAST value received wins, and points older than an
 * hour are dropped without an error. Everything runs on an injected clock.
 */

class FakeDatadog {
  /** `${metric}|${sorted tags}|${timestamp}` → value */
  readonly store = new Map<string, number>();
  dropped = 0;
  down = false;
  constructor(readonly clock: () => number) {}

  fetch: typeof fetch = async (_url, init) => {
    if (this.down) return new Response("unavailable", { status: 503 });
    const { series } = JSON.parse(String(init?.body)) as { series: SeriesPoint[] };
    const now = Math.floor(this.clock() / 1000);
    for (const s of series) {
      for (const p of s.points) {
        if (p.timestamp < now - 3_600 || p.timestamp > now + 600) {
          this.dropped += 1;
          continue;
        }
        this.store.set(`${s.metric}|${[...s.tags].sort().join(",")}|${p.timestamp}`, p.value);
      }
    }
    return new Response("{}", { status: 202 });
  };

  /** What `sum:metric{*}.as_count()` over all time shows. */
  total(metric: string): number {
    let sum = 0;
    for (const [key, value] of this.store) if (key.startsWith(`${metric}|`)) sum += value;
    return sum;
  }
}

function clockAt(iso: string) {
  let ms = Date.parse(iso);
  return { now: () => ms, advance: (by: number) => void (ms += by) };
}

/** One simulated serverless instance: a Metrics per request, as the routes do. */
function instance(id: number, datadog: FakeDatadog, clock: () => number, fixed: boolean, spooled: SeriesPoint[][] = []) {
  const ledger: CountLedger = createCountLedger();
  return {
    request() {
      return createMetrics({
        apiKey: "k",
        apiUrl: "http://datadog.test",
        baseTags: ["service:muse", "env:test", ...(fixed ? [`instance:${id}`] : [])],
        log: memoryLogger(),
        fetch: datadog.fetch,
        clock,
        retries: 0,
        retryDelayMs: 1,
        ...(fixed ? { ledger } : {}),
        spool: async (series) => void spooled.push(series),
      });
    },
  };
}

async function run(fixed: boolean) {
  const clock = clockAt("2026-11-20T12:00:03.000Z");
  const datadog = new FakeDatadog(clock.now);
  const instances = Array.from({ length: 5 }, (_, i) => instance(i, datadog, clock.now, fixed));
  let sent = 0;
  for (let round = 0; round < 30; round++) {
    // Each instance answers 1-3 requests at once this second; each request counts and flushes.
    await Promise.all(
      instances.flatMap((inst, i) =>
        Array.from({ length: 1 + ((round + i) % 3) }, async () => {
          const metrics = inst.request();
          metrics.count("muse.ingest.requests", 1, { route: "events", status: 202 });
          sent += 1;
          await metrics.flush();
        }),
      ),
    );
    clock.advance(1_000);
  }
  return { sent, total: datadog.total("muse.ingest.requests") };
}

describe("counts from 5 concurrent instances, flushing after every request", () => {
  it("before: one series per bucket for everyone, so Datadog keeps one flush's count per bucket", async () => {
    const { sent, total } = await run(false);
    expect(sent).toBe(300);
    expect(total).toBeLessThan(sent / 4);
  });

  it("with an instance tag and per-instance bucket totals: exactly what was counted", async () => {
    const { sent, total } = await run(true);
    expect(total).toBe(sent);
  });
});

describe("a Datadog outage", () => {
  it("spooled totals replayed later add up exactly, also for points older than Datadog's hour", async () => {
    const clock = clockAt("2026-11-20T12:00:01.000Z");
    const datadog = new FakeDatadog(clock.now);
    const spooled: SeriesPoint[][] = [];
    const inst = instance(1, datadog, clock.now, true, spooled);
    const request = async (n: number) => {
      const m = inst.request();
      m.count("muse.publish.failures", n);
      await m.flush();
    };
    await request(2); // delivered: bucket total 2
    datadog.down = true;
    await request(3); // fails: bucket total 5 spooled, bucket frozen
    datadog.down = false;
    await request(4); // same 10 s: moves to the next bucket, total 4
    clock.advance(10_000);
    await request(1);
    expect(datadog.total("muse.publish.failures")).toBe(2 + 4 + 1);
    expect(spooled).toHaveLength(1);

    // Replayed within the hour: the frozen bucket's total 5 replaces the 2 delivered before the outage.
    const replayNow = replayableSeries(spooled[0], clock.now());
    expect(replayNow.moved).toBe(0);
    await datadog.fetch("http://datadog.test/api/v2/series", { method: "POST", body: JSON.stringify({ series: replayNow.series }) });
    expect(datadog.total("muse.publish.failures")).toBe(10);
    // Sent again: nothing changes (a total, not an increment).
    await datadog.fetch("http://datadog.test/api/v2/series", { method: "POST", body: JSON.stringify({ series: replayNow.series }) });
    expect(datadog.total("muse.publish.failures")).toBe(10);
  });

  it("points older than the hour are moved to the replay's time with replayed:true, not dropped", async () => {
    const clock = clockAt("2026-11-20T12:00:01.000Z");
    const datadog = new FakeDatadog(clock.now);
    const spooled: SeriesPoint[][] = [];
    const inst = instance(1, datadog, clock.now, true, spooled);
    datadog.down = true;
    for (const n of [3, 4]) {
      const m = inst.request();
      m.count("muse.publish.failures", n);
      await m.flush();
      clock.advance(10_000);
    }
    datadog.down = false;
    clock.advance(2 * 3_600_000);

    // As the replay used to send them: original timestamps, silently dropped.
    const asBefore = spooled.flat();
    await datadog.fetch("http://datadog.test/api/v2/series", { method: "POST", body: JSON.stringify({ series: asBefore }) });
    expect(datadog.dropped).toBe(2);
    expect(datadog.total("muse.publish.failures")).toBe(0);

    for (const entry of spooled) {
      const { series, moved } = replayableSeries(entry, clock.now());
      expect(moved).toBe(1);
      expect(series[0].tags).toEqual(expect.arrayContaining(["replayed:true", expect.stringMatching(/^instance:replay-/)]));
      await datadog.fetch("http://datadog.test/api/v2/series", { method: "POST", body: JSON.stringify({ series }) });
    }
    expect(datadog.total("muse.publish.failures")).toBe(3 + 4);
  });
});

describe("metrics on an injected clock", () => {
  it("two counts on both sides of a 10 s bucket boundary are two points that add up", async () => {
    const clock = clockAt("2026-11-20T12:00:09.500Z");
    const metrics = createMetrics({ apiUrl: "http://datadog.test", baseTags: [], log: memoryLogger(), clock: clock.now });
    metrics.count("muse.publish.failures");
    clock.advance(1_000);
    metrics.count("muse.publish.failures");
    const points = seriesOf(metrics, "muse.publish.failures");
    expect(points.map((s) => s.points[0].timestamp)).toEqual([Date.parse("2026-11-20T12:00:00Z") / 1000, Date.parse("2026-11-20T12:00:10Z") / 1000]);
    expect(points.reduce((n, s) => n + s.points[0].value, 0)).toBe(2);
  });
});
