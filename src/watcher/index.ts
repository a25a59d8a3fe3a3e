// The watcher module's public surface.
export { PartitionWatcher, type WatcherEvents } from './partition-watcher.ts';
export { registerPartition, type RegistrationOutcome } from './register-partition.ts';
export { findCompletePartitions } from './find-complete-partitions.ts';
export { parsePartitionPath, type PartitionKeys } from './partition-path.ts';
export { hashPartition, validatePartition } from './inspect-partition.ts';
