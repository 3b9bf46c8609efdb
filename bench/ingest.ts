import { randomBytes } from "node:crypto";
import * as nodeModule from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createDb } from "../lib/clickhouse/client";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { eventsWrite, sha256Hex, validateEvents } from "../lib/ingest/events/ingest";
import { scrubText } from "../lib/ingest/events/pii";
import { ADVERSARIAL, adversarialText } from "../tests/helpers/pii-adversarial";
import { migratedDatabase, startClickHouseChild } from "../tests/hardening/helpers/clickhouse-child";
import { setEnv } from "../tests/helpers/env";
import { Gen } from "../tests/hardening/helpers/gen";
import { serveRoutes } from "../tests/hardening/helpers/http";
import { fmt, median, say, tempDir, timed, type Row, type SectionResult } from "./lib";

/**
 * Ingest: events/s through POST /api/ingest/events against the raw engine
 * taking the same rows, side by side, for batches of 100, 1,000 and 10,000.
 *
 * The route is measured over HTTP: a node:http server on 127.0.0.1 wraps the
 * real handler (tests/hardening/helpers/http.ts), and one client sends JSON
 * bodies one request at a time over a kept-alive connection — what an
 * uploader sees: HTTP, body read, JSON parse, validation of every event, PII
 * scrubbing, id derivation, one INSERT ... FORMAT JSONEachRow over HTTP. (The
 * wrapper receives each body whole before calling the handler; Next streams
 * it. Body reads are a small part either way.)
 * The raw engine is Db.insert of the very rows the route produced for that
 * batch (computed beforehand, untimed) into a second database on the same
 * server. Batches alternate route/raw so drift hits both alike. Every request
 * carries an Idempotency-Key, as the overlay's do, so the route also claims
 * the key (an insert and a read) before its insert. Three rounds over the
 * sizes, each size and round after one untimed pair; a size's ratio is its
 * median round's, with the spread beside it.
 *
 * Both run against a ClickHouse the bench spawns (scripts/clickhouse-server.ts
 * in a child process), whose peak RSS (VmHWM) is read at the end.
 */

const BATCHES = [100, 1_000, 10_000] as const;
const SHA = "c".repeat(40);
const TYPES = ["overlay.open", "query_submit", "query_result", "ui.click", "error"];
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

function makeEvents(g: Gen, n: number, now: number): Record<string, unknown>[] {
  let sid = g.uuid();
  return Array.from({ length: n }, (_, i) => {
    if (i % 40 === 0) sid = g.uuid();
    return {
      ts: new Date(now - g.int(0, 6 * 86_400_000)).toISOString(),
      session_id: sid,
      commit_sha: SHA,
      event_type: g.pick(TYPES),
      latency_ms: g.int(0, 4_000),
      user_agent: UA,
      // Realistic metadata, with PII the scrubber has to find.
      metadata: { scene: "main", query_chars: g.int(0, 300), contact: i % 50 === 0 ? "viewer@example.com" : "", ip: i % 70 === 0 ? "203.0.113.7" : "" },
    };
  });
}

/**
 * The route's modules import "server-only", which throws outside React's
 * server condition (Next sets it; tsx does not): resolved to its empty module
 * here, as vitest.config.ts aliases it, before the route is imported.
 */
type ResolveHook = (specifier: string, context: unknown, next: (specifier: string, context: unknown) => unknown) => unknown;
// Node 22.15+/23.5+ (in-thread hooks, for import and require alike); @types/node here predates it.
const { registerHooks } = nodeModule as unknown as { registerHooks(hooks: { resolve: ResolveHook }): unknown };
let serverOnlyHook: unknown;
async function loadRoute() {
  serverOnlyHook ??= registerHooks({
    resolve: (specifier, context, next) =>
      specifier === "server-only"
        ? { url: pathToFileURL(path.join(projectRoot, "node_modules/server-only/empty.js")).href, shortCircuit: true }
        : next(specifier, context),
  });
  return (await import("../app/api/ingest/events/route")).POST;
}

export async function ingestSection(options: { eventsPerSize: number; minBatches: number; rounds: number }): Promise<SectionResult> {
  const postEvents = await loadRoute();
  const data = tempDir("ingest-ch");
  const dlq = tempDir("ingest-dlq");
  say("ingest: starting a ClickHouse of its own ...");
  const clickhouse = await startClickHouseChild({ dataDir: data.dir });
  const server = await serveRoutes({ "/api/ingest/events": postEvents });
  try {
    const route = await migratedDatabase(clickhouse.url, "bench_ingest_route");
    const raw = await migratedDatabase(clickhouse.url, "bench_ingest_raw");
    const token = randomBytes(16).toString("hex");
    await setEnv({
      CLICKHOUSE_URL: clickhouse.url,
      CLICKHOUSE_USER: route.config.username,
      CLICKHOUSE_PASSWORD: route.config.password,
      CLICKHOUSE_DATABASE: "bench_ingest_route",
      MUSE_INGEST_TOKEN: token,
      MUSE_LOG_LEVEL: "warn",
      MUSE_DLQ_DIR: dlq.dir,
      DD_API_KEY: undefined,
    });

    // What one statement costs through the app's client against a bare authenticated HTTP request to the same server.
    const probe = createDb({ ...raw.config });
    const basic = `Basic ${Buffer.from(`${raw.config.username}:${raw.config.password ?? ""}`).toString("base64")}`;
    const withSettings =
      (
        await timed(async () => {
          for (let i = 0; i < 50; i++) await probe.query("SELECT 1 AS x");
        })
      ).ms / 50;
    const bare =
      (
        await timed(async () => {
          for (let i = 0; i < 50; i++) {
            const res = await fetch(`${clickhouse.url}/?query=SELECT%201`, { headers: { authorization: basic } });
            const text = await res.text();
            if (!res.ok || text.trim() !== "1") throw new Error(`bare SELECT 1 answered ${res.status} ${text.slice(0, 100)}`);
          }
        })
      ).ms / 50;
    await probe.close();

    const gen = new Gen(7);
    const now = Date.now();
    const rows: Row[] = [];
    const details: Record<string, unknown> = {
      events_per_size: options.eventsPerSize,
      rounds: options.rounds,
      transport: "HTTP, node:http wrapper around the route handler, 1 client, sequential, keep-alive",
      per_size: [] as unknown[],
    };
    // Rounds over all sizes, each size's ratio reported from its median round: on a shared machine one round can
    // land in another process's burst (single rounds of 10,000 ranged 0.46–0.57 here).
    const measured = new Map<number, { routeMs: number[]; rawMs: number[] }[]>(BATCHES.map((size) => [size, []]));
    const count = async (db: typeof raw.db) => Number((await db.query<{ n: number }>("SELECT count() AS n FROM ui_events FINAL WHERE latency_ms >= 0"))[0].n);
    for (let round = 1; round <= options.rounds; round++) {
      for (const size of BATCHES) {
        // At least minBatches of each size (4 batches of 10,000 left one slow request deciding the ratio).
        const batches = Math.max(options.minBatches, Math.round(options.eventsPerSize / size));
        say(`ingest: round ${round}/${options.rounds}, batches of ${size}: ${batches} × route and ${batches} × raw insert, after one untimed pair ...`);
        const routeMs: number[] = [];
        const rawMs: number[] = [];
        // b = -1: a warm-up pair at this size for both sides (first-use costs: code paths, heap growth), not timed.
        for (let b = -1; b < batches; b++) {
          const events = makeEvents(gen, size, now);
          const body = JSON.stringify({ events });
          const key = `bench-${round}-${size}-${b}-${now}`;
          // The rows the route will write for this request (ids from the same key), for the raw insert.
          const validated = validateEvents(events, new Date());
          if (!validated.ok) throw new Error(`bench events invalid: ${JSON.stringify(validated.problems.slice(0, 2))}`);
          const { rows: prepared } = eventsWrite(validated.events, { idempotencyKey: key, bodySha256: sha256Hex(body), now: new Date() });

          const sent = await timed(async () => {
            const res = await fetch(`${server.url}/api/ingest/events`, {
              method: "POST",
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
              body,
            });
            const answer = (await res.json()) as { accepted?: number; queued?: boolean };
            if (res.status !== 202 || answer.accepted !== size || answer.queued) throw new Error(`route answered ${res.status} ${JSON.stringify(answer)}`);
          });
          const inserted = await timed(() => raw.db.insert("ui_events", prepared));
          if (b < 0) continue;
          routeMs.push(sent.ms);
          rawMs.push(inserted.ms);
        }
        if (server.thrown.length) throw new Error(`the route threw: ${String(server.thrown[0].error)}`);
        measured.get(size)!.push({ routeMs, rawMs });
        const ratio = rawMs.reduce((a, b) => a + b, 0) / routeMs.reduce((a, b) => a + b, 0);
        say(`ingest: round ${round}, batches of ${size}: route = ${ratio.toFixed(2)} × raw`);
        // Every event landed once in each database.
        const [inRoute, inRaw] = [await count(route.db), await count(raw.db)];
        if (inRoute !== inRaw) throw new Error(`route database holds ${inRoute} events, raw ${inRaw}`);
      }
    }
    for (const size of BATCHES) {
      const rounds = measured.get(size)!.map(({ routeMs, rawMs }) => {
        const events = routeMs.length * size;
        const routeRate = events / (routeMs.reduce((a, b) => a + b, 0) / 1000);
        const rawRate = events / (rawMs.reduce((a, b) => a + b, 0) / 1000);
        return { events, routeRate, rawRate, ratio: routeRate / rawRate, routeP50: median(routeMs), rawP50: median(rawMs) };
      });
      const ratios = rounds.map((r) => r.ratio);
      const mid = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
      (details.per_size as unknown[]).push({
        batch: size,
        batches: mid.events / size,
        events: mid.events,
        route_events_per_s: Math.round(mid.routeRate),
        raw_events_per_s: Math.round(mid.rawRate),
        route_request_ms_p50: mid.routeP50,
        raw_insert_ms_p50: mid.rawP50,
        route_share_of_raw: mid.ratio,
        route_share_of_raw_by_round: ratios,
      });
      const spread = rounds.length > 1 ? `median of ${rounds.length} rounds (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); ` : "";
      rows.push({
        section: "ingest",
        measure: `events/s, batches of ${size.toLocaleString("en-US")}`,
        value: `route ${fmt.rate(mid.routeRate)}/s, raw ${fmt.rate(mid.rawRate)}/s`,
        ratio: `route = ${mid.ratio.toFixed(2)} × raw`,
        note: `${spread}median request ${fmt.ms(mid.routeP50)} vs insert ${fmt.ms(mid.rawP50)}`,
      });
    }
    // Where the route's own time goes, in process, for one batch of 10,000: validation, then scrubbing + ids.
    const events = makeEvents(gen, 10_000, now);
    const validation = await timed(async () => validateEvents(events, new Date()));
    if (!validation.value.ok) throw new Error("bench events invalid");
    const valid = validation.value.events;
    const scrub = await timed(async () => eventsWrite(valid, { bodySha256: sha256Hex("x"), now: new Date() }));
    const parse = await timed(async () => JSON.parse(JSON.stringify({ events })));
    details.route_cpu_ms_per_10k = { json_parse: parse.ms, validate: validation.ms, scrub_and_ids: scrub.ms };
    rows.push({
      section: "ingest",
      measure: "route CPU for 10,000 events (in process)",
      value: `validate ${fmt.ms(validation.ms)}, scrub + ids ${fmt.ms(scrub.ms)}`,
      note: `JSON round trip ${fmt.ms(parse.ms)}`,
    });

    // PII scrubbing on adversarial 16 KiB fields (each the fastest of 5, after a warm-up).
    const adversarial = ADVERSARIAL.map((unit) => {
      const text = adversarialText(unit, 16 * 1024);
      scrubText(text);
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        scrubText(text);
        best = Math.min(best, performance.now() - started);
      }
      return { unit, ms: best };
    });
    const slowest = adversarial.reduce((a, b) => (b.ms > a.ms ? b : a));
    details.pii_adversarial_16kib_ms = Object.fromEntries(adversarial.map((a) => [a.unit, Number(a.ms.toFixed(3))]));
    rows.push({
      section: "ingest",
      measure: `PII scrub, ${adversarial.length} adversarial 16 KiB fields`,
      value: `slowest ${fmt.ms(slowest.ms)} (${JSON.stringify(slowest.unit)}…)`,
      ratio: slowest.ms < 5 ? "< 5 ms each" : "NOT < 5 ms",
      note: `median ${fmt.ms(median(adversarial.map((a) => a.ms)))}; was ~330 ms for a_a_a_…`,
    });

    const peak = clickhouse.peakRssBytes();
    details.clickhouse_peak_rss_bytes = peak;
    details.clickhouse_request_ms = { client_select_1: withSettings, bare_http_select_1: bare };
    rows.push({ section: "ingest", measure: "local ClickHouse peak RSS (VmHWM)", value: fmt.mib(peak), note: "spawned for the bench; after all batches" });
    rows.push({
      section: "ingest",
      measure: "local ClickHouse, one SELECT 1",
      value: `${fmt.ms(withSettings)} via the app's client`,
      ratio: `${fmt.x(withSettings / bare)} bare HTTP (${fmt.ms(bare)})`,
      note: "the client's settings and parameters, JSON parsing of the answer",
    });
    await route.db.close();
    await raw.db.close();
    return { rows, details };
  } finally {
    await server.close();
    await setEnv({
      CLICKHOUSE_URL: undefined,
      CLICKHOUSE_USER: undefined,
      CLICKHOUSE_PASSWORD: undefined,
      CLICKHOUSE_DATABASE: undefined,
      MUSE_INGEST_TOKEN: undefined,
      MUSE_DLQ_DIR: undefined,
    });
    await clickhouse.stop();
    data.remove();
    dlq.remove();
  }
}
