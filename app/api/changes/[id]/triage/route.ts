import { handleTriageRequest } from "@/lib/triage/api";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

/** A maintainer's triage of an event, `Authorization: Bearer $MUSE_ADMIN_TOKEN` (docs/triage.md). */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  return handleTriageRequest(request, (await params).id);
}
