/** The agents of the pipeline, in pipeline order. */
export const AGENT_NAMES = ["ingest", "collect", "watch", "council", "bisect", "translate", "publish"] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export function isAgentName(name: string): name is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(name);
}
