// Polling until something the test waits for is true (a row, a file, a state).

/**
 * Resolves with the first value `probe` returns that is not undefined, null or false; throws
 * after `ms`. (null counts as "not yet": a column read before it is set is null, and the S3
 * outage test once went on at once on a job's still-null last_error, so its outage missed the job.)
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
