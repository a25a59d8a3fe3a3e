// The registry module's public surface: other modules import from here only.
export { openRegistry, redactUrl, checkReachable, type Registry } from './connect.ts';
export { openConfiguredRegistry, type RegistryHandle } from './open.ts';
export { startEmbeddedPostgres, FolderNotEnterableError, type EmbeddedServer } from './embedded-postgres.ts';
export { migrateToLatest, assertSchemaCurrent, appliedMigrations, knownMigrations, SchemaAheadError, MIGRATIONS_DIR } from './migrate.ts';
export { registryStatus, type RegistryStatus } from './status.ts';
export * from './schema.ts';
export * from './repositories/lineages.ts';
export * from './repositories/partitions.ts';
export * from './repositories/runs.ts';
export * from './repositories/checkpoints.ts';
export * from './repositories/loss-points.ts';
export * from './repositories/jobs.ts';
export * from './repositories/events.ts';
export * from './repositories/models.ts';
export * from './repositories/artifact-chunks.ts';
export * from './repositories/fresh-partitions.ts';
export { CHANNELS, type Channel } from './channels.ts';
export { isTransientDatabaseError } from './transient-errors.ts';
