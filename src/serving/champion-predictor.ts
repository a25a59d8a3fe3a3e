// The daemon's predictions come from the champion, whichever daemon promoted it: each
// request asks the registry which version is the champion (one indexed lookup); when it
// changed, the new version's export is loaded once (concurrent requests share the load),
// then swapped in with a single assignment. A request holds the predictor it started with,
// so none sees half a model, and the old one is released once no request uses it.
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { findChampion, type Registry } from '../registry/index.ts';
import { exportVersion } from './export.ts';
import { Predictor } from './predictor.ts';

export class ChampionPredictor {
  readonly #db: Registry;
  readonly #config: ResolvedConfig;
  readonly #log: Logger;
  #current: { versionId: string; predictor: Predictor; users: number; retired: boolean } | undefined;
  #loading: { versionId: string; promise: Promise<void> } | undefined;

  constructor(db: Registry, config: ResolvedConfig, log: Logger) {
    this.#db = db;
    this.#config = config;
    this.#log = log;
  }

  /** Runs `use` with the champion's predictor (undefined when there is no champion yet). */
  async with<T>(use: (predictor: Predictor | undefined) => T | Promise<T>): Promise<T> {
    const champion = await findChampion(this.#db, this.#config.lineage);
    if (!champion) return use(undefined);
    if (this.#current?.versionId !== champion.version.id) await this.#load(champion.version.id, () => exportVersion(this.#db, this.#config, champion.version));
    const served = this.#current!.predictor;
    // Never answer with another lineage's model, whatever happened to the folder since it was checked.
    if (served.lineage !== this.#config.lineage || served.versionId !== champion.version.id) {
      throw new Error(`the loaded export is ${served.lineage ?? '(no lineage)'} v${served.version}, not ${this.#config.lineage} v${champion.version.version}: refusing to predict with it`);
    }
    const held = this.#current!;
    held.users += 1;
    try {
      return await use(held.predictor);
    } finally {
      held.users -= 1;
      if (held.retired && held.users === 0) held.predictor.dispose();
    }
  }

  async #load(versionId: string, exportDir: () => Promise<string>): Promise<void> {
    if (this.#loading?.versionId !== versionId) {
      const promise = (async () => {
        const predictor = await Predictor.load(await exportDir());
        const previous = this.#current;
        this.#current = { versionId, predictor, users: 0, retired: false };
        if (previous) {
          previous.retired = true;
          if (previous.users === 0) previous.predictor.dispose();
        }
        this.#log.info({ version: predictor.version }, 'predictions now come from the champion version');
      })().finally(() => {
        if (this.#loading?.promise === promise) this.#loading = undefined;
      });
      this.#loading = { versionId, promise };
    }
    await this.#loading!.promise;
  }

  close(): void {
    if (this.#current && this.#current.users === 0) this.#current.predictor.dispose();
    this.#current = undefined;
  }
}
