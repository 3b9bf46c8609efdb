import { vi } from "vitest";
import { runCli } from "../../lib/cli";

/** Runs `npm run muse -- <args>` in-process: its exit code and what it wrote to stdout and stderr, interleaved. */
export async function runCliCaptured(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (lines.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (lines.push(String(chunk)), true));
  const code = await runCli(args);
  vi.restoreAllMocks();
  return { code, output: lines.join("") };
}
