import { handleGitHubWebhook } from "@/lib/triage/github-webhook";

export const dynamic = "force-dynamic";
export const maxDuration = 30;

/**
 * GitHub webhooks, signed with GITHUB_WEBHOOK_SECRET (X-Hub-Signature-256): issue comments with `/muse …` triage
 * commands, and episode reviews (MUSE_PUBLISH_MODE=pull-request): `/muse reject <why>` on an episode's pull request,
 * `pull_request` closed (merged: published).
 */
export async function POST(request: Request): Promise<Response> {
  return handleGitHubWebhook(request);
}
