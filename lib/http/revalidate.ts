import "server-only";
import { revalidatePath } from "next/cache";
import { requireToken } from "./auth";
import { json, jsonError } from "./responses";
import { firstLineOf } from "../error-message";

/**
 * POST /api/revalidate (MUSE_ADMIN_TOKEN): refreshes the site's cached pages —
 * the root layout and everything under it (`/`, `/[lang]`, episode pages) —
 * so newly committed episodes show without a redeploy. The local publisher
 * calls it after a commit (with a token, no deployment follows a local commit).
 */
export async function handleRevalidate(request: Request, revalidate: () => void = () => revalidatePath("/", "layout")): Promise<Response> {
  const denied = requireToken(request, "MUSE_ADMIN_TOKEN");
  if (denied) return denied;
  try {
    revalidate();
  } catch (error) {
    return jsonError(500, `revalidation failed: ${firstLineOf(error)}`);
  }
  return json({ revalidated: true, now: Date.now() });
}
