import { handleGitHubWebhook } from "@/lib/triage/github-webhook";

export const dynamic = "force-dynamic";
export const maxDuration = 30;

/** GitHub webhooks (issue comments with `/muse …` triage commands), signed with GITHUB_WEBHOOK_SECRET (X-Hub-Signature-256). */
export async function POST(request: Request): Promise<Response> {
  return handleGitHubWebhook(request);
}
