import { expect } from "vitest";
import type { Db } from "../../../lib/clickhouse/client";

/**
 * "Every accepted event exactly once", checked on content: the load and
 * fault suites give each event a unique `metadata.uid`, so the check does not
 * rely on the route's own id scheme. ui_events is read FINAL (what every
 * reader of the table sees).
 */
export async function expectEventsExactlyOnce(db: Db, accepted: ReadonlySet<string>): Promise<void> {
  const rows = await db.query<{ uid: string; n: number }>("SELECT JSONExtractString(metadata, 'uid') AS uid, count() AS n FROM ui_events FINAL GROUP BY uid");
  const stored = new Map(rows.map((r) => [r.uid, Number(r.n)]));
  expect({
    missing: [...accepted].filter((uid) => !stored.has(uid)).slice(0, 10),
    doubled: rows
      .filter((r) => Number(r.n) !== 1)
      .map((r) => r.uid)
      .slice(0, 10),
    unexpected: [...stored.keys()].filter((uid) => !accepted.has(uid)).slice(0, 10),
  }).toEqual({ missing: [], doubled: [], unexpected: [] });
  const [{ n }] = await db.query<{ n: number }>("SELECT count() AS n FROM ui_events FINAL");
  expect(Number(n)).toBe(accepted.size);
}
