/**
 * Request bodies of the ingest routes: the media type they accept (UTF-8
 * only) and the body's bytes read with a cap, so an oversized or broken
 * upload is answered cleanly instead of buffered whole or thrown.
 */

/** The media type of a Content-Type header when it is one of `accepted` and its charset, if any, is UTF-8. */
export function acceptedMediaType<T extends string>(header: string | null, accepted: readonly T[]): T | undefined {
  if (!header) return undefined;
  const [type, ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (!(accepted as readonly string[]).includes(type)) return undefined;
  const charset = params
    .find((p) => p.startsWith("charset="))
    ?.slice("charset=".length)
    .replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") return undefined;
  return type as T;
}

export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; problem: "too_large" | "unreadable" };

/**
 * Reads at most `maxBytes`: Content-Length is checked first, then the bytes
 * actually received (the header may be absent or lie). A body whose upload
 * breaks off is `unreadable`, not an exception.
 */
export async function readBodyCapped(request: Request, maxBytes: number): Promise<BodyRead> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) return { ok: false, problem: "too_large" };
  if (!request.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, problem: "too_large" };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, problem: "unreadable" };
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}

export const UNREADABLE_BODY_MESSAGE = "the request body could not be read (the upload broke off); nothing was written";
