import { MAX_PROBLEMS, type ItemProblem } from "../ingest/problems";

/** JSON responses of docs/api.md: errors are `{"error": "...", ...details}`, nothing else leaks. */

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

export function jsonError(status: number, error: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json({ error, ...details }, status, headers);
}

export { MAX_PROBLEMS, type ItemProblem } from "../ingest/problems";

export function validationError(message: string, problems: ItemProblem[]): Response {
  return jsonError(400, message, { problems: problems.slice(0, MAX_PROBLEMS), problem_count: problems.length });
}
