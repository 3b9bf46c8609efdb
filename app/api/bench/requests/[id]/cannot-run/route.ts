import { handleCannotRun } from "@/lib/http/bench-requests";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

/** A runner cannot make a bisection run (like `git bisect skip`), `Authorization: Bearer $MUSE_RUNNER_TOKEN` (docs/api.md). */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  return handleCannotRun(request, (await params).id);
}
