// The data module's public surface: the door every read of partition data goes through
// (file-door.ts), reading partition files (CSV, JSON Lines, Parquet) as numeric chunks,
// and their schemas. No TensorFlow.js here: the watcher's validation
// threads load this module and nothing heavier.
export { readTable, isDataFile, DATA_FILE_EXTENSIONS, type ReadOptions } from './read-table.ts';
export { DataFileError } from './data-file-error.ts';
export { tableSchema } from './table-schema.ts';
export { splitCsvLine } from './csv.ts';
export type { RowChunk } from './row-chunk.ts';
export type { CategoryEncoding } from './row-chunk.ts';
export {
  buildVocabulary,
  embeddingDimFor,
  fnv1a32,
  growVocabulary,
  vocabularySize,
  VocabularyLookup,
  type ValueCounts,
  type Vocabulary,
  type VocabularyRules,
} from './vocabulary.ts';
export { categoryText, isNonNumeric, presenceEncoding, toNumber } from './row-chunk.ts';
export { CROSS_SEPARATOR, crossedLayout, crossName, crossValue, readCrossed, type CrossedLayout } from './crossed-columns.ts';
export { validateRows, validateRowsByReader } from './validate-rows.ts';
export { configureDoors, configureDoorsFor, doorFor, doorSetup, registerFileDoor, type DoorEntry, type DoorSetup, type FileDoor } from './file-door.ts';
export { parseS3Location, s3FileDoor, type S3DoorOptions } from './s3-door.ts';
export { deleteObjects, getObject, putObject } from './object-store.ts';
export { s3Client } from './s3-client.ts';
export { MissingObjectError } from './missing-object-error.ts';
export { listLocal, statLocal } from './local-door.ts';
export { ValueSampler, SAMPLE_CAPACITY, SAMPLE_LINES, type SampledValues } from './value-sample.ts';
export { QUANTILE_LEVELS, sketchCdf, summarizePartition, TOP_VALUES, type CategoricalColumnStats, type ColumnStats, type NumericColumnStats, type PartitionStats } from './partition-stats.ts';
export { describeAnomaly, findAnomalies, inferSchema, newValueShares, parseSchema, SCHEMA_DEFAULTS, type Anomaly, type ColumnExpectation, type DataSchema } from './data-schema.ts';
export { columnDrift, driftReference, type ColumnDrift, type DriftMethod, type DriftReference } from './drift.ts';
export { profilePartition, PROFILE_ROWS, type ColumnProfile } from './column-profile.ts';
export { columnRoles, isBinaryLabel, type ColumnRole } from './column-roles.ts';
