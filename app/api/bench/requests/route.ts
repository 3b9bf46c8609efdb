import { handlePendingRequests } from "@/lib/http/bench-requests";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

/** Pending bisection runs, `Authorization: Bearer $MUSE_RUNNER_TOKEN` (docs/api.md; lib/http/bench-requests.ts). */
export async function GET(request: Request): Promise<Response> {
  return handlePendingRequests(request);
}
