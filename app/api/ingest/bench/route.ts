import { benchIngest } from "@/lib/http/ingest-bench";
import { handleIngest } from "@/lib/http/ingest-route";

export const dynamic = "force-dynamic";
export const maxDuration = 60;

/** Banterhearts reports, `Authorization: Bearer $MUSE_INGEST_TOKEN` (docs/api.md; lib/http/ingest-bench.ts). */
export async function POST(request: Request): Promise<Response> {
  return handleIngest(request, benchIngest);
}
