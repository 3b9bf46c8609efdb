import "server-only";
import { ClickHouseError } from "@clickhouse/client-web";
import { createAgentDeps } from "../agents/deps";
import { getAgent } from "../agents/registry";
import { AgentBusyError, OptionsError, runAgent } from "../agents/runner";
import type { AgentDeps } from "../agents/types";
import { afterResponse } from "./after";
import { requireToken } from "./auth";
import { json, jsonError } from "./responses";
import { messageOf } from "../error-message";

/**
 * The thin HTTP face of the runner, shared by `GET /api/cron/{agent}` (Vercel
 * Cron, CRON_SECRET) and `POST /api/agents/{agent}` (maintainers,
 * MUSE_ADMIN_TOKEN, options in the body).
 */
export async function handleAgentRequest(
  request: Request,
  agentName: string,
  trigger: "cron" | "api",
  makeDeps: () => AgentDeps = () => createAgentDeps(),
): Promise<Response> {
  const denied = requireToken(request, trigger === "cron" ? "CRON_SECRET" : "MUSE_ADMIN_TOKEN");
  if (denied) return denied;
  const agent = getAgent(agentName);
  if (!agent) return jsonError(404, `unknown agent "${agentName}"`);

  let options: unknown = {};
  if (trigger === "api") {
    const text = await request.text();
    if (text.trim() !== "") {
      try {
        options = JSON.parse(text);
      } catch {
        return jsonError(400, "request body is not valid JSON (expected an options object)");
      }
    }
  }

  const deps = makeDeps();
  try {
    const record = await runAgent(agent, deps, { trigger, options });
    return json(record, record.status === "error" ? 500 : 200);
  } catch (error) {
    if (error instanceof OptionsError) return jsonError(400, error.message, { problems: error.problems });
    if (error instanceof AgentBusyError) {
      return jsonError(409, error.message, { holder_run_id: error.holderRunId, holder_since: error.holderSince });
    }
    const message = messageOf(error);
    deps.log.error("agent request failed before the run started", { agent: agentName, error: message });
    const unreachable = !(error instanceof ClickHouseError);
    return jsonError(503, unreachable ? "ClickHouse is unreachable; the run was not started" : "ClickHouse refused the run record; the run was not started");
  } finally {
    await afterResponse(() => deps.metrics.flush());
  }
}
