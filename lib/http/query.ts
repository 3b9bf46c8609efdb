import type { z } from "zod";
import { jsonError } from "./responses";

/**
 * A GET route's query string against a strict schema: every parameter at most
 * once, none unknown. A refusal is a 400 naming the parameter (`parameter`).
 */
export function readQuery<T extends z.ZodType>(request: Request, schema: T): { ok: true; data: z.infer<T> } | { ok: false; response: Response } {
  const searchParams = new URL(request.url).searchParams;
  const seen = new Set<string>();
  for (const key of searchParams.keys()) {
    if (seen.has(key)) return { ok: false, response: jsonError(400, `query parameter ${key} is given more than once`, { parameter: key }) };
    seen.add(key);
  }
  const parsed = schema.safeParse(Object.fromEntries(searchParams));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : String(issue.path[0]);
    const message = issue.code === "unrecognized_keys" ? "unknown query parameter" : issue.message;
    return { ok: false, response: jsonError(400, `invalid query parameter ${name}: ${message}`, { parameter: name }) };
  }
  return { ok: true, data: parsed.data };
}
