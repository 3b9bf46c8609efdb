import { handleClaim } from "@/lib/http/bench-requests";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

/** A runner claims a bisection run, `Authorization: Bearer $MUSE_RUNNER_TOKEN` (docs/api.md; lib/http/bench-requests.ts). */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  return handleClaim(request, (await params).id);
}
