// `freshet scan` and `freshet partitions`: the partitions the watcher registers.
import { Option, type Command } from 'commander';
import { listPartitions, type PartitionStatus } from '../registry/index.ts';
import { PartitionWatcher } from '../watcher/index.ts';
import { EXIT } from './exit-codes.ts';
import { formatTable } from '../core/table.ts';
import { positiveInt, print, withRegistry } from './verb-support.ts';

export function addDataVerbs(program: Command): void {
  program
    .command('scan')
    .description('register every complete partition under the data dir once (what the daemon does at start), then exit')
    .option('--json', 'print the outcome counts as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withRegistry(command, 'migrate', async (registry, log, config) => {
        const counts: Record<string, number> = { registered: 0, rejected: 0, duplicate: 0, vanished: 0, failed: 0 };
        const watcher = new PartitionWatcher({ db: registry.db, config, log });
        watcher.on('outcome', (outcome) => (counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1));
        watcher.on('failure', () => (counts.failed = (counts.failed ?? 0) + 1));
        await watcher.scan();
        print(options.json ? JSON.stringify(counts) : formatTable(['outcome', 'partitions'], Object.entries(counts)));
        if (counts.failed) process.exitCode = EXIT.failure;
      });
    });

  program
    .command('partitions')
    .description('list registered, rejected and superseded partitions with rows and errors')
    .addOption(new Option('--status <status>', 'only this status').choices(['registered', 'rejected', 'superseded']))
    .option('--limit <n>', 'most rows to show (newest first)', (v) => positiveInt('--limit', v), 100)
    .option('--json', 'machine-readable output')
    .action(async (options: { status?: PartitionStatus; limit: number; json?: boolean }, command: Command) => {
      await withRegistry(command, 'current', async (registry) => {
        const rows = await listPartitions(registry.db, { status: options.status, limit: options.limit });
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(formatTable(['id', 'path', 'v', 'status', 'rows', 'arrived', 'error'], rows.map((r) => [r.id, r.path, r.version, r.status, r.row_count, r.arrived_at.toISOString(), r.error])));
      });
    });
}
