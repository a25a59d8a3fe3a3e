// Resources released in the reverse order they were acquired, both on shutdown and when a
// later step of startup fails (graphile-worker's withReleasers): a process either starts
// whole or leaves nothing behind. Each release is registered right after its start.
import type { Logger } from './log.ts';

export interface ReleaseOptions {
  /**
   * How long this release may take before the others go on without it (logged as an
   * error naming it). For what holds nothing a user could lose — a thread, a socket, a
   * pool whose statements have all returned — so that one that never lets go cannot hold
   * the whole shutdown until its timeout: a daemon's CI run once timed out its graceful
   * shutdown with every job settled and nothing in its log to say what it waited for
   * (2026-12-07). Unset: no bound (the running job's checkpoint is worth waiting for).
   */
  timeoutMs?: number;
}

/** A release slower than this is named in the log while it is awaited. */
export const SLOW_RELEASE_MS = 5_000;

export class Releasers {
  readonly #releasers: Array<{ name: string; release: () => Promise<void> | void; timeoutMs: number | undefined }> = [];

  /** Registers the release of something just started. */
  add(name: string, release: () => Promise<void> | void, options: ReleaseOptions = {}): void {
    this.#releasers.push({ name, release, timeoutMs: options.timeoutMs });
  }

  /**
   * Releases everything, newest first; one that throws is logged and the rest still run.
   * One that takes longer than SLOW_RELEASE_MS is named in the log while it is awaited,
   * so a shutdown that runs into its timeout says what it was waiting for; one past its
   * own timeoutMs is left behind, named.
   */
  async releaseAll(log: Logger, slowMs = SLOW_RELEASE_MS): Promise<void> {
    for (const { name, release, timeoutMs } of this.#releasers.splice(0).reverse()) {
      const started = performance.now();
      const slow = setTimeout(() => log.warn({ module: name, seconds: slowMs / 1000 }, `still waiting for ${name} to stop`), slowMs);
      slow.unref();
      let bound: NodeJS.Timeout | undefined;
      const gaveUp = Symbol('gave up');
      try {
        const released = Promise.resolve().then(release);
        const outcome = timeoutMs === undefined ? await released : await Promise.race([released, new Promise<typeof gaveUp>((resolve) => (bound = setTimeout(() => resolve(gaveUp), timeoutMs)))]);
        if (outcome === gaveUp) {
          released.catch(() => {}); // it may still fail after we stopped waiting: not an unhandled rejection
          log.error({ module: name, seconds: timeoutMs! / 1000 }, `${name} did not stop within ${timeoutMs! / 1000} s; shutting down without waiting for it`);
        } else log.debug({ module: name, ms: Math.round(performance.now() - started) }, 'stopped');
      } catch (error) {
        log.error({ err: error as Error, module: name }, 'error while stopping');
      } finally {
        clearTimeout(slow);
        clearTimeout(bound);
      }
    }
  }
}
