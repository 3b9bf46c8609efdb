import { handleRevalidate } from "@/lib/http/revalidate";

export const dynamic = "force-dynamic";
export const maxDuration = 10;

/** Maintainers and the local publisher: `Authorization: Bearer $MUSE_ADMIN_TOKEN`. */
export async function POST(request: Request): Promise<Response> {
  return handleRevalidate(request);
}
