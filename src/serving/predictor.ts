// Predictions from an export: the folder a version is exported to (servingDir/<lineage>/<version>/)
// loaded as any consumer would load it — model.json + weights.bin through
// tf.loadLayersModel, vocabularies.json for categorical ids, metadata.json for the column
// order — so `freshet predict`, `POST /v1/predict` and a model server reading the folder
// agree by construction.
import fs from 'node:fs';
import path from 'node:path';
import { categoryText, crossName, crossValue, isNonNumeric, toNumber, VocabularyLookup, type Vocabulary } from '../data/index.ts';
import { predictRows, tf } from '../trainer/index.ts';
import { coerceError } from '../core/errors.ts';

/** A bad value in a raw row: which row (0-based index into the request's rows, or the file's line), which field, what is wrong. */
export interface RowError {
  row: number;
  field: string;
  message: string;
}

interface ExportMetadata {
  lineage?: string;
  version: number;
  /** The registry id of the model version (exports written before 2026-12-06 lack it). */
  versionId?: string;
  task: string;
  features: string[];
  categorical?: string[];
  /** Crossed columns: the categorical columns each joins (values joined by ×); ids after the categorical ones. */
  crosses?: string[][];
  standardised?: boolean;
}

export class Predictor {
  readonly lineage: string | undefined;
  readonly version: number;
  readonly versionId: string | undefined;
  readonly task: string;
  readonly features: readonly string[];
  readonly categorical: readonly string[];
  readonly crosses: ReadonlyArray<readonly string[]>;
  readonly #model: tf.LayersModel;
  readonly #lookups: VocabularyLookup[];
  /** Set when the export takes standardised features (a user model): applied here. */
  readonly #standardise: { mean: number[]; std: number[] } | undefined;

  private constructor(model: tf.LayersModel, metadata: ExportMetadata, vocabularies: Vocabulary[], standardise: { mean: number[]; std: number[] } | undefined) {
    this.#model = model;
    this.lineage = metadata.lineage;
    this.version = metadata.version;
    this.versionId = metadata.versionId;
    this.task = metadata.task;
    this.features = metadata.features;
    this.categorical = metadata.categorical ?? [];
    this.crosses = metadata.crosses ?? [];
    this.#lookups = vocabularies.map((v) => new VocabularyLookup(v));
    this.#standardise = standardise;
  }

  /** Loads an export folder; errors name the folder and the file. */
  static async load(dir: string): Promise<Predictor> {
    const read = (name: string): Buffer => {
      try {
        return fs.readFileSync(path.join(dir, name));
      } catch (error) {
        throw new Error(`${path.join(dir, name)}: cannot read the export (${coerceError(error).message})`, { cause: error });
      }
    };
    const modelJson = JSON.parse(read('model.json').toString('utf8')) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
    const weights = read('weights.bin');
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
      }),
    );
    const metadata = JSON.parse(read('metadata.json').toString('utf8')) as ExportMetadata;
    const vocabularies = metadata.categorical?.length ? (JSON.parse(read('vocabularies.json').toString('utf8')) as Vocabulary[]) : [];
    const standardise = metadata.standardised ? (JSON.parse(read('normalization.json').toString('utf8')) as { mean: number[]; std: number[] }) : undefined;
    return new Predictor(model, metadata, vocabularies, standardise);
  }

  /** Values per row: the numeric features, then one id per categorical column, then one per crossed column. */
  get width(): number {
    return this.features.length + this.categorical.length + this.crosses.length;
  }

  /** The id of a value of the k-th categorical column (k counts the crossed columns after the categorical ones). */
  categoryId(k: number, text: string): number {
    return this.#lookups[k]!.id(text);
  }

  /** Whether the k-th categorical column's id is an out-of-vocabulary bucket (a value never seen in training). */
  isUnseen(k: number, id: number): boolean {
    return this.#lookups[k]!.isOutOfVocabulary(id);
  }

  /** The names of the categorical columns and then the crossed ones (a×b), in id order. */
  get categoryColumns(): string[] {
    return [...this.categorical, ...this.crosses.map((sources) => crossName(sources))];
  }

  /**
   * JSON rows ({ feature: value, … }) into the model's input matrix: numbers for the
   * features, strings or integers for categorical columns. Every bad value is reported;
   * `unseen` counts, per categorical (and crossed) column, the values the model never saw
   * in training (read through an out-of-vocabulary bucket).
   */
  encodeRows(rows: readonly unknown[]): { x: Float32Array; errors: RowError[]; unseen: Record<string, number> } {
    const width = this.width;
    const x = new Float32Array(rows.length * width);
    const errors: RowError[] = [];
    const unseen: Record<string, number> = {};
    const names = this.categoryColumns;
    const encode = (k: number, text: string): number => {
      const id = this.categoryId(k, text);
      if (this.isUnseen(k, id)) unseen[names[k]!] = (unseen[names[k]!] ?? 0) + 1;
      return id;
    };
    rows.forEach((row, r) => {
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        errors.push({ row: r, field: '', message: 'a row must be a JSON object of feature values' });
        return;
      }
      const record = row as Record<string, unknown>;
      this.features.forEach((field, c) => {
        const value = toNumber(record[field]);
        if (Number.isFinite(value)) x[r * width + c] = value;
        else errors.push({ row: r, field, message: field in record && isNonNumeric(record[field], value) ? `not a number: ${JSON.stringify(record[field]).slice(0, 40)}` : 'missing, NaN or infinite' });
      });
      this.categorical.forEach((field, k) => {
        const text = categoryText(record[field]);
        if (typeof text === 'string') x[r * width + this.features.length + k] = encode(k, text);
        else errors.push({ row: r, field, message: text === undefined ? 'missing' : `not a category value (a string or an integer): ${JSON.stringify(record[field]).slice(0, 40)}` });
      });
      // A crossed value from its columns' values (a bad one is reported above, once).
      this.crosses.forEach((sources, j) => {
        const parts = sources.map((source) => categoryText(record[source]));
        if (parts.every((part) => typeof part === 'string')) x[r * width + this.features.length + this.categorical.length + j] = encode(this.categorical.length + j, crossValue(parts as string[]));
      });
    });
    return { x, errors, unseen };
  }

  /** Predictions for `rows` rows of the input matrix (raw numeric features, then ids). */
  predictMatrix(x: Float32Array, rows: number): Float32Array {
    if (rows === 0) return new Float32Array(0);
    const width = this.width;
    let input = x.subarray(0, rows * width);
    const scale = this.#standardise;
    if (scale) {
      input = input.slice();
      for (let r = 0; r < rows; r++) for (let c = 0; c < scale.mean.length; c++) input[r * width + c] = (input[r * width + c]! - scale.mean[c]!) / scale.std[c]!;
    }
    const matrix = tf.tensor2d(input, [rows, width]);
    try {
      return predictRows(this.#model, matrix);
    } finally {
      matrix.dispose();
    }
  }

  dispose(): void {
    this.#model.dispose();
  }
}
