// Retrying work that fails for transient reasons, with capped exponential backoff.
import type { Logger } from './log.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { coerceError } from './errors.ts';

export interface RetryOptions {
  signal: AbortSignal;
  log: Logger;
  /** What is being retried, for the log lines. */
  what: string;
  /** Longest pause between attempts, in seconds. */
  maxBackoffSeconds: number;
  /** Errors for which this returns false are thrown at once. */
  isTransient: (error: unknown) => boolean;
  /** Told of each failed attempt before the pause (the daemon's /readyz says why it waits). */
  onRetry?: (failure: { attempt: number; retryInSeconds: number; error: Error }) => void;
}

/** Runs `work` until it succeeds, a non-transient error is thrown, or the signal aborts. */
export async function retryTransient<T>(work: () => Promise<T>, { signal, log, what, maxBackoffSeconds, isTransient, onRetry }: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || signal.aborted) throw error;
      const delaySeconds = Math.min(maxBackoffSeconds, 0.5 * 2 ** (attempt - 1));
      log.warn({ attempt, retryInSeconds: delaySeconds, err: coerceError(error).message }, `${what} failed; retrying`);
      onRetry?.({ attempt, retryInSeconds: delaySeconds, error: error as Error });
      await delay(delaySeconds * 1000, undefined, { signal });
    }
  }
}
