import "server-only";
import { ClickHouseError } from "@clickhouse/client-web";
import { z } from "zod";
import { requireToken } from "../http/auth";
import { acceptedMediaType, readBodyCapped } from "../http/body";
import { json, jsonError } from "../http/responses";
import { serverContext, type ServerContext } from "../server-context";
import { applyTriage, MAX_ACTOR, MAX_REASON, SHA_PREFIX, TRIAGE_ACTIONS } from "./store";
import { firstLineOf } from "../error-message";

/**
 * POST /api/changes/{id}/triage, `Authorization: Bearer $MUSE_ADMIN_TOKEN`
 * (docs/api.md, docs/triage.md): `{action, reason?, sha?, series?, actor}`.
 * 200 with the recorded action and the event's triage; 400 naming the field;
 * 404 for an unknown event. An `Idempotency-Key` header makes a retry record
 * nothing new.
 */

const MAX_BODY_BYTES = 16 * 1024;
const EVENT_ID = /^[A-Za-z0-9_-]{1,100}$/;

export const triageBody = z
  .strictObject({
    action: z.enum(TRIAGE_ACTIONS, { error: `expected one of ${TRIAGE_ACTIONS.join(", ")}` }),
    reason: z.string({ error: "expected a string" }).max(MAX_REASON, `at most ${MAX_REASON} characters`).optional(),
    sha: z.string({ error: "expected a string" }).regex(SHA_PREFIX, "expected a commit sha (7–40 hex characters)").optional(),
    series: z.string({ error: "expected a string" }).min(1).max(500).optional(),
    actor: z.string({ error: "expected a string naming who triages" }).trim().min(1, "must not be empty").max(MAX_ACTOR, `at most ${MAX_ACTOR} characters`),
  })
  .superRefine((b, ctx) => {
    if (b.action === "blame" && !b.sha) ctx.addIssue({ code: "custom", path: ["sha"], message: "blame needs the commit sha" });
    if (b.sha && b.action !== "blame") ctx.addIssue({ code: "custom", path: ["sha"], message: "only blame takes a sha" });
    if (b.series && b.action !== "mute" && b.action !== "unmute")
      ctx.addIssue({ code: "custom", path: ["series"], message: "only mute and unmute take a series" });
  });

export async function handleTriageRequest(
  request: Request,
  id: string,
  makeContext: () => ServerContext = () => serverContext({ fields: { route: "/api/changes/{id}/triage" } }),
): Promise<Response> {
  const context = makeContext();
  const denied = requireToken(request, "MUSE_ADMIN_TOKEN", context.env);
  if (denied) return denied;
  if (!EVENT_ID.test(id)) return jsonError(400, "invalid event id in the path", { parameter: "id" });
  const type = request.headers.get("content-type");
  if (type !== null && !acceptedMediaType(type, ["application/json"])) return jsonError(415, "Content-Type must be application/json (UTF-8)");
  const read = await readBodyCapped(request, MAX_BODY_BYTES);
  if (!read.ok)
    return read.problem === "too_large" ? jsonError(413, `body is larger than ${MAX_BODY_BYTES} bytes`) : jsonError(400, "the body could not be read");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(read.bytes));
  } catch {
    return jsonError(400, "body is not valid JSON (expected an object with action and actor)");
  }
  const parsed = triageBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === "unrecognized_keys") return jsonError(400, `unknown body field ${issue.keys.join(", ")}`, { field: issue.keys[0] });
    const field = issue.path.map(String).join(".") || "(body)";
    return jsonError(400, `invalid body field ${field}: ${issue.message}`, { field });
  }
  const key = request.headers.get("idempotency-key")?.trim();
  if (key !== undefined && !/^[\w.:-]{1,200}$/.test(key)) return jsonError(400, "invalid Idempotency-Key header", { field: "Idempotency-Key" });
  const body = parsed.data;
  try {
    const outcome = await applyTriage(
      context.db,
      {
        event_id: id,
        action: body.action,
        argument: body.sha ?? body.series ?? "",
        reason: body.reason,
        actor: body.actor,
        source: "api",
        ...(key ? { delivery_id: key } : {}),
      },
      { now: context.clock.now() },
    );
    if (!outcome.ok) {
      return outcome.reason === "unknown_event"
        ? jsonError(404, `no event ${JSON.stringify(id)}`)
        : jsonError(400, `invalid body field ${outcome.field}: ${outcome.detail}`, { field: outcome.field });
    }
    const e = outcome.event;
    return json({
      duplicate: outcome.duplicate,
      action: outcome.action,
      event: {
        event_id: e.event_id,
        kind: e.kind,
        state: e.state,
        triage: e.triage,
        triage_reason: e.triage_reason,
        triage_actor: e.triage_actor,
        blamed_sha: e.blamed_sha,
        blame_sha: e.blame_sha,
        bisection_status: e.bisection_status,
      },
    });
  } catch (error) {
    context.log.error("triage failed", { error: firstLineOf(error) });
    return jsonError(
      503,
      error instanceof ClickHouseError ? "ClickHouse refused the query; retry later" : "ClickHouse is unreachable; retry later",
      {},
      { "Retry-After": "30" },
    );
  }
}
