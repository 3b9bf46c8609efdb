import { z } from "zod";
import { createAgentDeps } from "../agents/deps";
import { getAgent, registeredAgents } from "../agents/registry";
import { AgentBusyError, OptionsError, runAgent, type RunRecord } from "../agents/runner";
import type { Command } from "./index";

/**
 * `npm run muse -- <agent> [--option value] [--flag]`: runs an agent through
 * the same runner as the cron and API routes (trigger "cli"), printing progress.
 * Flags are kebab-case forms of the agent's options (`--dry-run` → dryRun).
 */

export function parseFlags(args: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new OptionsError([{ path: arg, message: "unexpected argument (options are --name value)" }]);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const name = rawName.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    let value: string | undefined = inline;
    if (value === undefined && i + 1 < args.length && !args[i + 1].startsWith("--")) value = args[++i];
    out[name] = value === undefined ? true : coerce(value);
  }
  return out;
}

function coerce(value: string): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

function optionHelp(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, { description?: string; default?: unknown; type?: string }>;
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const dflt = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : "";
    return `  ${flag.padEnd(22)} ${p.description ?? p.type ?? ""}${dflt}`;
  });
}

function printRecord(record: RunRecord): void {
  const line = `${record.agent} ${record.status} in ${record.duration_ms} ms (run ${record.run_id}${record.attempts > 1 ? `, ${record.attempts} attempts` : ""})`;
  process.stdout.write(`${line}\n`);
  if (record.reason) process.stdout.write(`reason: ${record.reason}\n`);
  if (record.error) process.stderr.write(`error: ${record.error}\n`);
  process.stdout.write(`${JSON.stringify(record.summary, null, 2)}\n`);
}

export function agentCommand(name: string): Command {
  const agent = getAgent(name)!;
  return {
    summary: `run the ${name} agent: ${agent.description}`,
    usage: `muse ${name} [options]\n\nOptions:\n${optionHelp(agent.options).join("\n")}`,
    needsClickHouse: true,
    async run(args) {
      const deps = createAgentDeps();
      try {
        const record = await runAgent(agent, deps, {
          trigger: "cli",
          options: parseFlags(args),
          onProgress: (message) => process.stderr.write(`  … ${message}\n`),
        });
        printRecord(record);
        return record.status === "error" ? 1 : 0;
      } catch (error) {
        if (error instanceof AgentBusyError) {
          process.stderr.write(`${error.message}\n`);
          return 1;
        }
        if (error instanceof OptionsError) {
          process.stderr.write(`${error.message}\n\nUsage: npm run muse -- ${name} [options]\n${optionHelp(agent.options).join("\n")}\n`);
          return 2;
        }
        throw error;
      } finally {
        await deps.metrics.flush();
      }
    },
  };
}

export function agentCommands(): Record<string, Command> {
  return Object.fromEntries(registeredAgents().map((name) => [name, agentCommand(name)]));
}
