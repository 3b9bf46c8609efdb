import { handleAgentRequest } from "@/lib/http/agent-route";

export const dynamic = "force-dynamic";
export const maxDuration = 300;

/** Maintainers: `Authorization: Bearer $MUSE_ADMIN_TOKEN`, options as a JSON body. */
export async function POST(request: Request, { params }: { params: Promise<{ agent: string }> }): Promise<Response> {
  return handleAgentRequest(request, (await params).agent, "api");
}
