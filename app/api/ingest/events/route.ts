import { eventsIngest } from "@/lib/http/ingest-events";
import { handleIngest } from "@/lib/http/ingest-route";

export const dynamic = "force-dynamic";
export const maxDuration = 60;

/** Overlay events, JSON or NDJSON, `Authorization: Bearer $MUSE_INGEST_TOKEN` (docs/api.md; lib/http/ingest-events.ts). */
export async function POST(request: Request): Promise<Response> {
  return handleIngest(request, eventsIngest);
}
