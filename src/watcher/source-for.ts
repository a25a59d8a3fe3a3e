// The partition source for a data location, chosen by its scheme: a plain path is the
// local directory. A scheme with a door for reading but no source for discovery is refused
// here, at start, naming it.
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { LocalPartitionSource } from './local-source.ts';
import type { PartitionSource } from './partition-source.ts';

export function partitionSourceFor(config: ResolvedConfig, log: Logger): PartitionSource {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(config.dataDir)?.[1];
  if (scheme) throw new ConfigError(`dataDir ${config.dataDir}: no partition source for ${scheme}:// locations (a local folder is supported)`);
  return new LocalPartitionSource({
    root: config.dataDir,
    rules: { mode: config.watcher.mode, marker: config.watcher.marker, stableMs: config.watcher.stableMs },
    polling: config.watcher.polling,
    pollIntervalMs: config.watcher.pollIntervalMs,
    log,
  });
}
