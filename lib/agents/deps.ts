import type { Env } from "../env";
import type { Logger } from "../log";
import { serverContext } from "../server-context";
import { createUpstreamRepos } from "../upstream";
import type { AgentDeps } from "./types";

/** Production dependencies: the server context (lib/server-context.ts) and the upstream repositories. */
export function createAgentDeps(env?: Env, log?: Logger): AgentDeps {
  const context = serverContext({ env, log });
  return {
    db: context.db,
    upstream: createUpstreamRepos(context.env),
    clock: context.clock,
    metrics: context.metrics,
    log: context.log,
    env: context.env,
  };
}
