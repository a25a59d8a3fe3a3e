// The partition source for a data location, chosen by its scheme: a plain path is the
// local directory. A scheme with a door for reading but no source for discovery is refused
// here, at start, naming it. An s3:// location is an S3 prefix, polled.
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { LocalPartitionSource } from './local-source.ts';
import { S3PartitionSource } from './s3-source.ts';
import type { PartitionSource } from './partition-source.ts';

export function partitionSourceFor(config: ResolvedConfig, log: Logger): PartitionSource {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(config.dataDir)?.[1];
  const rules = { mode: config.watcher.mode, marker: config.watcher.marker, stableMs: config.watcher.stableMs };
  if (scheme?.toLowerCase() === 's3') return new S3PartitionSource({ root: config.dataDir, rules, options: config.s3, log });
  if (scheme) throw new ConfigError(`dataDir ${config.dataDir}: no partition source for ${scheme}:// locations (a local folder, or s3://bucket/prefix)`);
  return new LocalPartitionSource({
    root: config.dataDir,
    rules,
    polling: config.watcher.polling,
    pollIntervalMs: config.watcher.pollIntervalMs,
    log,
  });
}
