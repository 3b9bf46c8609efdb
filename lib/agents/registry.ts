import type { z } from "zod";
import { bisectAgent } from "./bisect";
import { collectAgent } from "./collect";
import { councilAgent } from "./council";
import { ingestAgent } from "./ingest";
import { publishAgent } from "./publish";
import { translateAgent } from "./translate";
import { watchAgent } from "./watch";
import type { AgentName } from "./names";
import type { AgentDefinition } from "./types";

/**
 * The agents this deployment can run. Only implemented agents are listed: an
 * agent name that is not here answers 404, never a stub.
 */
const AGENTS: Partial<Record<AgentName, AgentDefinition<z.ZodType, Record<string, unknown>>>> = {
  ingest: ingestAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
  collect: collectAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
  watch: watchAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
  council: councilAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
  bisect: bisectAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
  translate: translateAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
  publish: publishAgent as AgentDefinition<z.ZodType, Record<string, unknown>>,
};

export function getAgent(name: string): AgentDefinition<z.ZodType, Record<string, unknown>> | undefined {
  return Object.hasOwn(AGENTS, name) ? AGENTS[name as AgentName] : undefined;
}

export function registeredAgents(): AgentName[] {
  return Object.keys(AGENTS) as AgentName[];
}
