import { after } from "next/server";

/**
 * Runs `task` after the response is sent (Next's `after()`, which Vercel keeps
 * alive with waitUntil). Outside a request scope — the CLI, tests calling a
 * handler directly — it runs now and is awaited, so nothing is lost.
 *
 * Not `waitUntil` from @vercel/functions: every handler of Muse runs inside a
 * Next request scope, where `after()` is the framework's own form of it (on
 * Vercel it is backed by the same waitUntil); @vercel/functions would only be
 * needed for work outside such a scope, and Muse has none.
 */
export async function afterResponse(task: () => Promise<void>): Promise<void> {
  try {
    after(task);
  } catch {
    await task();
  }
}

/**
 * As afterResponse, but outside a request scope the task is started and not
 * awaited: the answer never waits on it (the ingest routes' metrics flush,
 * which must not hold up an ingest answer while Datadog is slow).
 */
export function afterResponseInBackground(task: () => Promise<void>): void {
  try {
    after(task);
  } catch {
    void task();
  }
}
