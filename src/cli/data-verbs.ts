// `freshet scan` and `freshet partitions`: the partitions the watcher registers.
import { Option, type Command } from 'commander';
import type { PartitionStatus } from '../registry/index.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import { EXIT } from './exit-status.ts';
import { formatTable } from '../core/table.ts';
import { positiveInt, print, withRegistry } from './verb-support.ts';
import { addPartitionDecisionVerbs, inConfigOrder } from './validation-verbs.ts';
import type { ColumnStats } from '../data/index.ts';

export function addDataVerbs(program: Command): void {
  program
    .command('scan')
    .description('register every complete partition under the data dir once (what the daemon does at start), then exit')
    .option('--json', 'print the outcome counts as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { PartitionWatcher } = await import('../watcher/index.ts');
      await withRegistry(command, 'migrate', async (registry, log, config) => {
        const counts: Record<string, number> = { registered: 0, quarantined: 0, rejected: 0, unchanged: 0, vanished: 0, failed: 0, waiting: 0 };
        const watcher = new PartitionWatcher({ db: registry.db, config, log });
        watcher.on('outcome', (outcome) => (counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1));
        watcher.on('failure', () => (counts.failed = (counts.failed ?? 0) + 1));
        const waiting = await watcher.scan();
        counts.waiting = waiting.length;
        if (options.json) print(JSON.stringify(counts));
        else {
          print(formatTable(['outcome', 'partitions'], Object.entries(counts)));
          // A partition without its marker is invisible to training: say which, and since when.
          if (waiting.length > 0) {
            print(`\nwaiting for ${config.watcher.mode === 'marker' ? `their ${config.watcher.marker} marker` : 'their files to stop changing'}:`);
            print(formatTable(['path', 'files', 'bytes', 'waiting'], waiting.map((w) => [w.relativePath, w.files, w.bytes, humanSeconds((Date.now() - w.firstFileAt.getTime()) / 1000)])));
          }
        }
        if (counts.failed) process.exitCode = EXIT.failure;
      });
    });

  const partitions = program
    .command('partitions')
    .description('list partitions: those waiting for their marker first, then registered, quarantined, rejected and superseded ones, newest first, with rows, invalid rows and errors (a quarantined partition\'s error is its anomalies)')
    .addOption(new Option('--status <status>', 'only this status').choices(['waiting', 'registered', 'quarantined', 'rejected', 'superseded']))
    .option('--limit <n>', 'most rows to show (newest first)', (v) => positiveInt('--limit', v), 100)
    .option('--stats', 'with each partition\'s statistics per column: missing share, min, mean, max, median, top values (rows and missing exact; the rest from a sample of about 256 lines a partition)')
    .option('--json', 'machine-readable output')
    .action(async (options: { status?: PartitionStatus | 'waiting'; limit: number; json?: boolean; stats?: boolean }, command: Command) => {
      const { listPartitions, listWaitingPartitions } = await import('../registry/index.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const waiting = !options.status || options.status === 'waiting' ? await listWaitingPartitions(registry.db, options.limit) : [];
        const rows = options.status === 'waiting' ? [] : await listPartitions(registry.db, { ...(options.status ? { status: options.status } : {}), limit: options.limit });
        // One list, as the table shows it: waiting partitions carry status "waiting" and their files, bytes and first file's time.
        if (options.json) return print(JSON.stringify([...waiting.map((w) => ({ ...w, status: 'waiting' })), ...rows.map(({ stats, ...r }) => (options.stats ? { ...r, stats } : r))], null, 2));
        const marker = config.watcher.mode === 'marker' ? `no ${config.watcher.marker} yet` : 'files still changing';
        const since = (at: Date): string => humanSeconds((Date.now() - at.getTime()) / 1000);
        print(
          formatTable(
            ['id', 'path', 'v', 'status', 'rows', 'invalid', 'arrived', 'error'],
            [
              ...waiting.map((w) => ['-', w.path, '-', 'waiting', '-', '-', '-', `${marker}: ${w.files} file${w.files === 1 ? '' : 's'} (${w.bytes} bytes), the first written ${since(w.first_file_at)} ago`]),
              ...rows.map((r) => [r.id, r.path, r.version, r.status, r.row_count, r.invalid_rows, r.arrived_at.toISOString(), r.decided_by ? `${r.error ?? `accepted by ${r.decided_by}: ${r.decision_reason}`}` : r.error]),
            ],
          ),
        );
        if (!options.stats) return;
        for (const r of rows) {
          if (!r.stats) continue;
          print(`\npartition ${r.id} (${r.path}, v${r.version}, ${r.stats.rows} rows):`);
          print(formatTable(['column', 'kind', 'missing', 'min', 'mean', 'max', 'p50', 'top values'], inConfigOrder(Object.entries(r.stats.columns), config).map(([name, c]) => statsRow(name, c, r.stats!.rows, r.stats!.newValueShare?.[config.lineage]?.[name]))));
        }
      });
    });
  addPartitionDecisionVerbs(partitions);
}

/** One column's line: numbers to 6 significant digits; for a categorical column its top values and, once the lineage has a schema, the share never seen before. */
function statsRow(name: string, c: ColumnStats, rows: number, newShare: number | undefined): unknown[] {
  const missing = `${rows > 0 ? ((c.missing / rows) * 100).toFixed(1) : '0.0'}%`;
  const num = (x: number | null): string => (x === null ? '-' : Number(x.toPrecision(6)).toString());
  if (c.kind === 'numeric') return [name, 'numeric', missing, num(c.min), num(c.mean), num(c.max), num(c.quantiles[10] ?? null), '-'];
  const unseen = newShare === undefined ? '' : `; ${(newShare * 100).toFixed(1)}% new`;
  return [name, 'categorical', missing, '-', '-', '-', '-', `${c.distinct} distinct: ${c.top.slice(0, 3).map(([v, n]) => `${v} (${n})`).join(', ')}${unseen}`];
}
