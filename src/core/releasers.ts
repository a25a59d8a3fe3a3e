// Resources released in the reverse order they were acquired, both on shutdown and when a
// later step of startup fails (graphile-worker's withReleasers): a process either starts
// whole or leaves nothing behind. Each release is registered right after its start.
import type { Logger } from './log.ts';

export class Releasers {
  readonly #releasers: Array<{ name: string; release: () => Promise<void> | void }> = [];

  /** Registers the release of something just started. */
  add(name: string, release: () => Promise<void> | void): void {
    this.#releasers.push({ name, release });
  }

  /** Releases everything, newest first; one that throws is logged and the rest still run. */
  async releaseAll(log: Logger): Promise<void> {
    for (const { name, release } of this.#releasers.splice(0).reverse()) {
      try {
        await release();
        log.debug({ module: name }, 'stopped');
      } catch (error) {
        log.error({ err: error as Error, module: name }, 'error while stopping');
      }
    }
  }
}
