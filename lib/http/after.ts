import { after } from "next/server";

/**
 * Runs `task` after the response is sent (Next's `after()`, which Vercel keeps
 * alive with waitUntil). Outside a request scope — the CLI, tests calling a
 * handler directly — it runs now and is awaited, so nothing is lost.
 */
export async function afterResponse(task: () => Promise<void>): Promise<void> {
  try {
    after(task);
  } catch {
    await task();
  }
}
