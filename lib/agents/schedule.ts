import type { AgentName } from "./names";

/** Default schedules (docs/operations.md, Schedules); vercel.json declares the same (checked by a test). */
export const AGENT_SCHEDULES: Record<AgentName, string> = {
  ingest: "*/5 * * * *",
  collect: "*/15 * * * *",
  watch: "*/10 * * * *",
  council: "0 * * * *",
  bisect: "*/15 * * * *",
  publish: "0 */2 * * *",
  translate: "0 */4 * * *",
};
