import { z } from "zod";
import { serverContext } from "@/lib/server-context";
import { AGENT_NAMES } from "@/lib/agents/names";
import { listRuns } from "@/lib/agents/runner";
import { requireToken } from "@/lib/http/auth";
import { json, jsonError } from "@/lib/http/responses";
import { limitApi } from "@/lib/http/rate-limit";
import { loadEnv } from "@/lib/env";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

const query = z.object({
  agent: z.enum(AGENT_NAMES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** Recent agent runs, newest first: `?agent=&limit=` (admin token). */
export async function GET(request: Request): Promise<Response> {
  const denied = requireToken(request, "MUSE_ADMIN_TOKEN");
  if (denied) return denied;
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = query.safeParse(params);
  if (!parsed.success) {
    const limitedResponse = await limitApi(request, loadEnv());
    if (limitedResponse) return limitedResponse;
    const issue = parsed.error.issues[0];
    return jsonError(400, `invalid query parameter ${String(issue.path[0])}: ${issue.message}`);
  }
  try {
    return json({ runs: await listRuns(serverContext().readerDb, parsed.data) });
  } catch {
    return jsonError(503, "ClickHouse is unreachable");
  }
}
