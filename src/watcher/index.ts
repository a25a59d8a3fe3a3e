// The watcher module's public surface.
export { PartitionWatcher, type WatcherEvents } from './partition-watcher.ts';
export type { PartitionSource, PartitionListing, SourceHints } from './partition-source.ts';
export { LocalPartitionSource } from './local-source.ts';
export { registerPartition, type RegistrationOutcome } from './register-partition.ts';
export { findCompletePartitions } from './find-complete-partitions.ts';
export { parsePartitionPath, type PartitionKeys } from './partition-path.ts';
export { hashPartition, validatePartition } from './inspect-partition.ts';
