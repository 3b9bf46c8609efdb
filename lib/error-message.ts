/** The message of anything thrown: an Error's own message, anything else as a string. */
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** The first line of an Error's message (a stack or a server's multi-line answer stays out of a log line or a reply); anything else as a string. */
export function firstLineOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message.split("\n")[0] : String(thrown);
}
