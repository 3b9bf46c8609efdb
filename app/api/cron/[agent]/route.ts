import { handleAgentRequest } from "@/lib/http/agent-route";

export const dynamic = "force-dynamic";
export const maxDuration = 300;

/** Vercel Cron: `Authorization: Bearer $CRON_SECRET`. */
export async function GET(request: Request, { params }: { params: Promise<{ agent: string }> }): Promise<Response> {
  return handleAgentRequest(request, (await params).agent, "cron");
}
