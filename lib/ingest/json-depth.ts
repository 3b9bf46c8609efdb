/**
 * Whether a parsed JSON value nests deeper than `limit` levels. Iterative on
 * purpose: JSON.parse accepts nesting thousands of levels deep, but anything
 * recursive run on it afterwards (JSON.stringify, a recursive walk) overflows
 * the stack. Check with this before such code sees untrusted input.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === "object") pending.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
