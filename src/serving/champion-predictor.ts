// Predictions from one lineage's champion for a caller without a LISTEN connection (tests,
// benchmarks, a process that only serves): the registry is asked which version is the
// champion on each request (one indexed lookup), and the new version's export is loaded
// once when it changed. The daemon uses a ModelServer with the champion cached instead.
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../registry/index.ts';
import { ModelServer, type ModelSource } from './model-server.ts';
import type { Predictor } from './predictor.ts';

export class ChampionPredictor implements ModelSource {
  readonly #server: ModelServer;
  readonly #lineage: string;

  constructor(db: Registry, config: ResolvedConfig, log: Logger) {
    // Two loaded: the old champion stays until its last request ends, the new one serves.
    this.#server = new ModelServer({ db, lineages: [config], log, maxLoadedModels: 2, championLookup: 'every-request' });
    this.#lineage = config.lineage;
  }

  /** Runs `use` with the champion's predictor (undefined when there is no champion yet). */
  with<T>(use: (predictor: Predictor | undefined) => T | Promise<T>): Promise<T> {
    return this.#server.championSource(this.#lineage).with(use);
  }

  close(): void {
    this.#server.close();
  }
}
