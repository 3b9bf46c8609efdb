import pRetry, { AbortError } from "p-retry";

/**
 * Retrying, in one place: every retry loop of Muse with a backoff goes through
 * `retry` (p-retry underneath). Loops that re-read state between tries
 * (compare-and-swap on content, the webhook's fold) are not retries of the
 * same call and keep their own loop, with `sleep` from here.
 */

export interface RetryOptions {
  /** Tries after the first (default 2). */
  retries?: number;
  /** Wait before the first retry, in ms (p-retry's default 1000). */
  minTimeoutMs?: number;
  /** Longest wait between tries, in ms. */
  maxTimeoutMs?: number;
  /** Growth of the wait per retry (p-retry's default 2). */
  factor?: number;
  /** Whether an error is worth another try (default: every error); any other error is thrown at once, as it is. */
  isRetryable?: (error: unknown) => boolean;
  /** Called after each failed try that was worth retrying. */
  onFailedAttempt?: (attempt: { error: Error; attemptNumber: number; retriesLeft: number }) => void;
}

export async function retry<T>(run: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { isRetryable } = options;
  return pRetry(
    async () => {
      try {
        return await run();
      } catch (error) {
        if (isRetryable && !isRetryable(error)) throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
    },
    {
      retries: options.retries ?? 2,
      minTimeout: options.minTimeoutMs,
      maxTimeout: options.maxTimeoutMs,
      factor: options.factor,
      onFailedAttempt: options.onFailedAttempt,
    },
  );
}

/**
 * A write with a few quick retries for failures worth retrying (no answer from
 * the server), before the caller gives up on it and spools it (lib/dlq.ts).
 */
export async function retryWrite<T>(
  write: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  options: { retries?: number; minTimeoutMs?: number } = {},
): Promise<T> {
  return retry(write, { isRetryable, retries: options.retries ?? 2, minTimeoutMs: options.minTimeoutMs ?? 100, maxTimeoutMs: 1_000, factor: 3 });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
