import type { Db } from "../clickhouse/client";
import type { Env } from "../env";
import type { Logger } from "../log";
import { createGitHubClient, parseRepoRef } from "../upstream/github";
import { markDispatched, undispatchedRequests, type BenchRequestRow, type BenchSelector } from "./requests";
import { messageOf } from "../error-message";

/**
 * A GitHub Actions workflow in Banterhearts runs a bisection request when no
 * self-hosted runner polls the runner API: `workflow_dispatch` with the commit
 * to measure, the benchmark (a JSON selector), the repeats and the request id,
 * which the workflow sends back with its report (X-Muse-Request-Id). The token
 * needs `actions: write` on the Banterhearts repository (docs/configuration.md).
 */

/** Names of the workflow's inputs (its `on.workflow_dispatch.inputs`). */
export interface WorkflowInputNames {
  commit: string;
  benchmark: string;
  repeats: string;
  request_id: string;
}

export const DEFAULT_INPUT_NAMES: WorkflowInputNames = { commit: "commit", benchmark: "benchmark", repeats: "repeats", request_id: "request_id" };

export interface WorkflowDispatcherOptions {
  token: string;
  /** owner/name (a trailing @branch is ignored: `ref` says which copy of the workflow runs). */
  repo: string;
  /** The workflow's file name (muse-bisect.yml) or id. */
  workflow: string;
  /** Branch or tag whose workflow file runs. */
  ref: string;
  inputNames?: Partial<WorkflowInputNames>;
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Retries of a 5xx or network failure (default 3; tests set 0). */
  retries?: number;
  /** Pause between writes (unset: Octokit's shared write queue; tests set 0). */
  writeIntervalMs?: number;
  log?: Logger;
}

export interface WorkflowDispatcher {
  dispatch(request: BenchRequestRow): Promise<void>;
}

/** The selector of a request, as the `benchmark` input: JSON with a fixed key order. */
export function benchmarkInput(request: BenchSelector): string {
  const { benchmark_type, model, quant, variant, dataset, device } = request;
  return JSON.stringify({ benchmark_type, model, quant, variant, dataset, device });
}

export function createWorkflowDispatcher(options: WorkflowDispatcherOptions): WorkflowDispatcher {
  const { owner, repo } = parseRepoRef(options.repo);
  const names = { ...DEFAULT_INPUT_NAMES, ...options.inputNames };
  const octokit = createGitHubClient({
    token: options.token,
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    retries: options.retries,
    writeIntervalMs: options.writeIntervalMs,
    userAgent: "muse-bisect",
    log: options.log,
  });
  return {
    async dispatch(request) {
      await octokit.rest.actions.createWorkflowDispatch({
        owner,
        repo,
        workflow_id: options.workflow,
        ref: options.ref,
        inputs: {
          [names.commit]: request.commit_sha,
          [names.benchmark]: benchmarkInput(request),
          [names.repeats]: String(request.repeats),
          [names.request_id]: request.request_id,
        },
      });
    },
  };
}

/**
 * The dispatcher the environment configures: GITHUB_TOKEN with
 * BANTERHEARTS_REPO, MUSE_BISECT_WORKFLOW and MUSE_BISECT_WORKFLOW_REF;
 * undefined without a token or repository (local mode: runners poll instead).
 */
export function workflowDispatcherFromEnv(env: Env, log?: Logger): WorkflowDispatcher | undefined {
  if (!env.GITHUB_TOKEN || !env.BANTERHEARTS_REPO) return undefined;
  return createWorkflowDispatcher({
    token: env.GITHUB_TOKEN,
    repo: env.BANTERHEARTS_REPO,
    workflow: env.MUSE_BISECT_WORKFLOW,
    ref: env.MUSE_BISECT_WORKFLOW_REF,
    baseUrl: env.GITHUB_API_URL,
    log,
  });
}

export interface DispatchSummary {
  dispatched: string[];
  failed: { request_id: string; error: string }[];
}

/**
 * Dispatches a workflow for each pending request without dispatched_at,
 * oldest first, and records each dispatch as soon as GitHub accepted it, so a
 * retry (or the next call) never dispatches a request twice. A dispatch GitHub
 * refuses is reported and retried next time; the others go on.
 */
export async function dispatchPending(db: Db, dispatcher: WorkflowDispatcher, now: Date, options: { limit?: number } = {}): Promise<DispatchSummary> {
  const summary: DispatchSummary = { dispatched: [], failed: [] };
  for (const request of await undispatchedRequests(db, now, options.limit)) {
    try {
      await dispatcher.dispatch(request);
    } catch (error) {
      summary.failed.push({ request_id: request.request_id, error: messageOf(error) });
      continue;
    }
    await markDispatched(db, [request.request_id], now);
    summary.dispatched.push(request.request_id);
  }
  return summary;
}
