import { createPrivateKey, createSign } from "node:crypto";
import { z } from "zod";
import { createGitHubClient } from "../upstream/github";

/**
 * Muse as a GitHub App (only Apps may create check runs): the App's JWT, signed RS256 with node:crypto (no
 * @octokit/auth-app), exchanged for an installation access token (POST /app/installations/{id}/access_tokens,
 * https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app). The token lasts an hour;
 * it is kept until five minutes before it ends.
 */

export interface GitHubAppCredentials {
  appId: string;
  /** PEM (PKCS#1 or PKCS#8); literal `\n` sequences, as environment variables often carry them, are read as newlines. */
  privateKey: string;
  installationId: string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** The App's JWT: iat 60 s in the past (clock drift), exp 9 minutes ahead (GitHub allows at most 10), iss the App id. */
export function appJwt(credentials: Pick<GitHubAppCredentials, "appId" | "privateKey">, now = new Date()): string {
  const key = createPrivateKey(credentials.privateKey.includes("\\n") ? credentials.privateKey.replace(/\\n/g, "\n") : credentials.privateKey);
  const seconds = Math.floor(now.getTime() / 1000);
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat: seconds - 60, exp: seconds + 540, iss: credentials.appId }));
  const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
}

const accessToken = z.object({ token: z.string().min(1), expires_at: z.string() });

/** A source of installation tokens, each fetched once and reused until shortly before it expires. */
export function installationTokens(
  credentials: GitHubAppCredentials,
  options: { baseUrl?: string; fetch?: typeof globalThis.fetch; retries?: number; clock?: () => Date } = {},
): () => Promise<string> {
  let cached: { token: string; until: number } | undefined;
  const clock = options.clock ?? (() => new Date());
  return async () => {
    const now = clock();
    if (cached && cached.until > now.getTime()) return cached.token;
    const octokit = createGitHubClient({
      token: appJwt(credentials, now),
      baseUrl: options.baseUrl,
      fetch: options.fetch,
      retries: options.retries,
      writeIntervalMs: 0,
      userAgent: "muse-pr-check",
    });
    const res = await octokit.request("POST /app/installations/{installation_id}/access_tokens", { installation_id: Number(credentials.installationId) });
    const data = accessToken.parse(res.data);
    cached = { token: data.token, until: Date.parse(data.expires_at) - 5 * 60_000 };
    return data.token;
  };
}
