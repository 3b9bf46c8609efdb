import { SHA_PREFIX, TRIAGE_ACTIONS, type TriageAction } from "./store";

/**
 * `/muse <command> …` lines of an issue comment (docs/triage.md). One command a line; a line that does not start
 * with `/muse` is prose. Unknown commands and malformed arguments are notes, not errors.
 */

export interface ParsedCommand {
  action: TriageAction;
  /** blame: the sha; mute/unmute: the series ('' = the event's lead series). */
  argument: string;
  reason: string;
  /** 0-based position among the comment's commands (the action id's index). */
  index: number;
}

export interface ParsedComment {
  commands: ParsedCommand[];
  notes: string[];
}

const LINE = /^\s*\/muse(?:\s+(\S+))?(?:\s+(.*))?$/i;

/**
 * The `/muse <name> <rest>` lines of a comment, in order: the name lower-cased ('' for a bare `/muse`), the rest
 * trimmed. Quoted lines ("> /muse invalid") and code blocks are someone else's words, not commands. Issue triage
 * (parseCommands) and episode reviews (lib/review) read their commands through it.
 */
export function museCommandLines(body: string): { name: string; rest: string }[] {
  const lines: { name: string; rest: string }[] = [];
  let inFence = false;
  for (const raw of body.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(raw)) inFence = !inFence;
    if (inFence || /^\s*>/.test(raw)) continue;
    const m = LINE.exec(raw);
    if (m) lines.push({ name: (m[1] ?? "").toLowerCase(), rest: (m[2] ?? "").trim() });
  }
  return lines;
}

export function parseCommands(body: string): ParsedComment {
  const commands: ParsedCommand[] = [];
  const notes: string[] = [];
  for (const { name, rest } of museCommandLines(body)) {
    if (!(TRIAGE_ACTIONS as readonly string[]).includes(name)) {
      notes.push(name ? `unknown command "/muse ${name}" ignored (known: ${TRIAGE_ACTIONS.join(", ")})` : `"/muse" without a command ignored`);
      continue;
    }
    const action = name as TriageAction;
    if (action === "blame") {
      const [sha = "", ...why] = rest.split(/\s+/);
      if (!SHA_PREFIX.test(sha)) {
        notes.push(`"/muse blame" needs a commit sha (7–40 hex characters); ignored`);
        continue;
      }
      commands.push({ action, argument: sha.toLowerCase(), reason: why.join(" "), index: commands.length });
    } else if (action === "mute" || action === "unmute") {
      const [series = "", ...why] = rest.split(/\s+/);
      commands.push({ action, argument: series, reason: why.join(" "), index: commands.length });
    } else {
      commands.push({ action, argument: "", reason: rest, index: commands.length });
    }
  }
  return { commands, notes };
}

/** The event id of a Muse issue: the hidden marker the issue body carries (lib/reach). */
export function eventIdFromIssueBody(body: string | null | undefined): string | undefined {
  const m = /<!--\s*muse-event:([A-Za-z0-9_-]{1,100})\s*-->/.exec(body ?? "");
  return m?.[1];
}
