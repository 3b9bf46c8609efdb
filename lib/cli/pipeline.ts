import { createAgentDeps } from "../agents/deps";
import { AGENT_NAMES } from "../agents/names";
import { getAgent } from "../agents/registry";
import { runAgent, type RunRecord } from "../agents/runner";
import type { AgentDeps } from "../agents/types";

/**
 * `npm run muse -- pipeline`: ingest → collect → watch → council → translate
 * → publish, once, through the same runner as cron (trigger "cli"), printing
 * progress. A blocked or skipped step does not stop the ones after it (the
 * publisher still publishes earlier drafts); an error does.
 */
export async function runPipeline(
  options: { deps?: AgentDeps; say?: (line: string) => void; agentOptions?: Record<string, unknown> } = {},
): Promise<RunRecord[]> {
  const deps = options.deps ?? createAgentDeps();
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const records: RunRecord[] = [];
  try {
    for (const [i, name] of AGENT_NAMES.entries()) {
      const agent = getAgent(name);
      const step = `[${i + 1}/${AGENT_NAMES.length}] ${name}`;
      if (!agent) {
        say(`${step}: not available in this build, skipped`);
        continue;
      }
      say(`${step} ...`);
      const record = await runAgent(agent, deps, {
        trigger: "cli",
        options: (options.agentOptions?.[name] as object | undefined) ?? {},
        onProgress: (message) => say(`    ${message}`),
      });
      records.push(record);
      say(`${step}: ${record.status} in ${record.duration_ms} ms${record.reason ? ` (${record.reason})` : ""}${record.error ? ` — ${record.error}` : ""}`);
      if (record.status === "error") break;
    }
  } finally {
    await deps.metrics.flush();
  }
  return records;
}
