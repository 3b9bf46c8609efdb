/** Runs once when the Next.js server starts: a bad environment fails here, naming the variable. */
export async function register(): Promise<void> {
  const { loadEnv } = await import("./lib/env");
  loadEnv();
}
