import { handleVercelWebhook } from "@/lib/http/vercel-webhook";

export const dynamic = "force-dynamic";
export const maxDuration = 30;

/** Vercel deployment webhooks, signed with VERCEL_WEBHOOK_SECRET (x-vercel-signature). */
export async function POST(request: Request): Promise<Response> {
  return handleVercelWebhook(request);
}
