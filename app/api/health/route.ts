import { serverContext } from "@/lib/server-context";
import { checkHealth } from "@/lib/health";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

export async function GET(): Promise<Response> {
  const health = await checkHealth(serverContext().readerDb);
  return Response.json(health, {
    status: health.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
