// The models the daemon predicts with, for every lineage it serves. A model is loaded from
// its export on the first request that needs it and kept while it is among the
// `maxLoadedModels` most recently used; the least recently used one is evicted (disposed
// once no request holds it). Which version is a lineage's champion is cached: it changes
// only when a decision moves the alias, which the registry notifies (`championChanged`,
// from the LISTEN connection; all of them after a reconnect, when a notification may have
// been missed), so a request costs no registry lookup. `championLookup: 'every-request'`
// asks the registry on each request instead (for a caller without a LISTEN connection).
//
// A request holds the predictor it started with, so none sees half a model; a loaded
// export whose lineage or version id is not the one asked for is refused, never served.
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { findChampion, findLineageByName, findModelVersion, type ModelVersion, type Registry } from '../registry/index.ts';
import { exportVersion } from './export.ts';
import { Predictor } from './predictor.ts';

/** Something a prediction request runs against: a predictor, or undefined when there is no model (no champion yet). */
export interface ModelSource {
  with<T>(use: (predictor: Predictor | undefined) => T | Promise<T>): Promise<T>;
}

export interface ModelServerOptions {
  db: Registry;
  /** The lineages served, each with its configuration (servingDir, columns). */
  lineages: readonly ResolvedConfig[];
  log: Logger;
  /** Most models kept loaded at once (at least 1). */
  maxLoadedModels: number;
  /** 'notified' (the daemon): the champion is cached until championChanged; 'every-request': looked up each time. */
  championLookup?: 'notified' | 'every-request';
}

interface Loaded {
  key: string;
  predictor: Predictor;
  users: number;
  evicted: boolean;
}

export class ModelServer {
  readonly #db: Registry;
  readonly #configs: ReadonlyMap<string, ResolvedConfig>;
  readonly #log: Logger;
  readonly #max: number;
  readonly #lookup: 'notified' | 'every-request';
  /** Lineage → its champion version (null: none yet), while no decision was notified. */
  readonly #champions = new Map<string, Promise<ModelVersion | null>>();
  /** Loaded models by version id, least recently used first (a Map keeps insertion order). */
  readonly #loaded = new Map<string, Loaded>();
  readonly #loading = new Map<string, Promise<Loaded>>();

  constructor(options: ModelServerOptions) {
    this.#db = options.db;
    this.#configs = new Map(options.lineages.map((c) => [c.lineage, c]));
    this.#log = options.log;
    this.#max = Math.max(1, options.maxLoadedModels);
    this.#lookup = options.championLookup ?? 'notified';
  }

  /** The lineages served, in configuration order. */
  get lineages(): string[] {
    return [...this.#configs.keys()];
  }

  /** How many models are loaded now. */
  get loadedModels(): number {
    return this.#loaded.size;
  }

  /** A served lineage's configuration; NotFoundError naming the served ones otherwise. */
  config(lineage: string): ResolvedConfig {
    const config = this.#configs.get(lineage);
    if (!config) throw new NotFoundError(`unknown lineage ${JSON.stringify(lineage)}: this daemon serves ${this.lineages.join(', ')}`);
    return config;
  }

  /** A decision moved a lineage's champion (or, without a name, any may have: after a reconnect). */
  championChanged(lineage?: string): void {
    if (lineage === undefined) this.#champions.clear();
    else this.#champions.delete(lineage);
  }

  /** The lineage's champion version, from the cache when it holds one. */
  champion(lineage: string): Promise<ModelVersion | null> {
    this.config(lineage);
    let found = this.#lookup === 'notified' ? this.#champions.get(lineage) : undefined;
    if (!found) {
      found = findChampion(this.#db, lineage).then((c) => c?.version ?? null);
      found.catch(() => this.#champions.delete(lineage)); // a failed lookup is not cached
      if (this.#lookup === 'notified') this.#champions.set(lineage, found);
    }
    return found;
  }

  /** Predictions from the lineage's champion. */
  championSource(lineage: string): ModelSource {
    return { with: async (use) => this.#with(lineage, await this.champion(lineage), use) };
  }

  /** Predictions from version `version` of the lineage (NotFoundError when it has no such version). */
  versionSource(lineage: string, version: number): ModelSource {
    return {
      with: async (use) => {
        this.config(lineage);
        const row = await findLineageByName(this.#db, lineage);
        const found = row ? await findModelVersion(this.#db, row.id, version) : undefined;
        if (!found) throw new NotFoundError(`lineage ${lineage} has no version ${version}`);
        return this.#with(lineage, found, use);
      },
    };
  }

  async #with<T>(lineage: string, version: ModelVersion | null, use: (predictor: Predictor | undefined) => T | Promise<T>): Promise<T> {
    if (!version) return use(undefined);
    const held = await this.#load(lineage, version);
    // Never answer with another lineage's model, whatever happened to the folder since it was checked.
    if (held.predictor.lineage !== lineage || held.predictor.versionId !== version.id) {
      throw new Error(`the loaded export is ${held.predictor.lineage ?? '(no lineage)'} v${held.predictor.version}, not ${lineage} v${version.version}: refusing to predict with it`);
    }
    held.users += 1;
    try {
      return await use(held.predictor);
    } finally {
      held.users -= 1;
      if (held.evicted && held.users === 0) held.predictor.dispose();
    }
  }

  /** The version's predictor, loaded once however many requests ask at the same time; marks it most recently used. */
  async #load(lineage: string, version: ModelVersion): Promise<Loaded> {
    const key = version.id;
    const ready = this.#loaded.get(key);
    if (ready) {
      this.#loaded.delete(key);
      this.#loaded.set(key, ready);
      return ready;
    }
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = (async () => {
        const predictor = await Predictor.load(await exportVersion(this.#db, this.config(lineage), version));
        const loaded: Loaded = { key, predictor, users: 0, evicted: false };
        this.#loaded.set(key, loaded);
        this.#evict();
        this.#log.info({ lineage, version: version.version, loaded: this.#loaded.size }, 'model loaded for predictions');
        return loaded;
      })().finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  /** Evicts the least recently used models beyond the limit (disposed now, or when their last request ends). */
  #evict(): void {
    for (const [key, loaded] of this.#loaded) {
      if (this.#loaded.size <= this.#max) break;
      this.#loaded.delete(key);
      loaded.evicted = true;
      if (loaded.users === 0) loaded.predictor.dispose();
    }
  }

  close(): void {
    for (const loaded of this.#loaded.values()) {
      loaded.evicted = true;
      if (loaded.users === 0) loaded.predictor.dispose();
    }
    this.#loaded.clear();
    this.#champions.clear();
  }
}
