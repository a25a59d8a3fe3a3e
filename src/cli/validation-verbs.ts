// `freshet schema show | infer | edit` and `freshet partitions accept | reject`: a lineage's
// data schema and an operator's decision on a quarantined partition (README › Validation).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError, ConflictError } from '../core/errors.ts';
import { formatTable } from '../core/table.ts';
import { UsageError } from './usage-error.ts';
import { print, withRegistry } from './verb-support.ts';

/** Who decided: --by, else the login name and the machine (kept on the partition). */
function operator(by: string | undefined): string {
  return by ?? `${os.userInfo().username}@${os.hostname()}`;
}

/** `freshet schema show | infer | edit` (why one function: one commander block per verb, as every verb file here). */
export function addSchemaVerbs(program: Command): void {
  const schema = program.command('schema').description('the lineage\'s data schema: what each column\'s values are expected to look like; a new partition that breaks it is quarantined (validation.mode block)');

  schema
    .command('show')
    .description('print the lineage\'s schema (inferred from the partitions of its first model, or as last edited), with who set it and from which partitions')
    .option('--json', 'the schema alone, as JSON (what `schema edit --file` takes)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { getLineageSchema } = await import('../registry/index.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const stored = await getLineageSchema(registry.db, config.lineage);
        if (!stored) throw new NotFoundError(`lineage ${config.lineage} has no schema yet: it is inferred from the partitions of its first model (or run \`freshet schema infer\` once a model exists)`);
        if (options.json) return print(JSON.stringify(stored.schema, null, 2));
        print(`lineage ${stored.lineage}: set by ${stored.updatedBy} at ${stored.updatedAt.toISOString()}${stored.inferredFrom.length ? `, inferred from partitions ${stored.inferredFrom.join(', ')}` : ''}`);
        print(
          formatTable(
            ['column', 'type', 'values seen', 'std', 'max missing', 'max outside (range ± slack × width, or domain)'],
            inConfigOrder(Object.entries(stored.schema.columns), config).map(([name, e]) =>
              e.type === 'numeric'
                ? [name, 'numeric', `[${e.min}, ${e.max}]`, `${e.std} (×/÷ ≥ ${e.minStdFactor})`, share(e.maxMissingShare), `${share(e.maxOutsideRangeShare)} (slack ${e.rangeSlack})`]
                : e.type === 'categorical'
                  ? [name, 'categorical', `${e.domain.length} values: ${e.domain.slice(0, 5).join(', ')}${e.domain.length > 5 ? ', …' : ''}`, '-', share(e.maxMissingShare), share(e.maxNewValueShare)]
                  : [name, 'label', '- (a moving label is drift, not an anomaly)', '-', share(e.maxMissingShare), '-'],
            ),
          ),
        );
      });
    });

  schema
    .command('infer')
    .description('infer the schema again, from the partitions the champion was trained on (or the first model\'s, before a champion), and store it: after data moved on for good, or an accepted change of units (replaces an edited one)')
    .action(async (_options: unknown, command: Command) => {
      const { inferLineageSchema } = await import('../registry/index.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const stored = await inferLineageSchema(registry.db, config.lineage, { by: `${operator(undefined)} (freshet schema infer)`, onlyIfMissing: false, label: config.columns.label, from: 'champion' });
        if (!stored) throw new NotFoundError(`lineage ${config.lineage} has no model yet (or its partitions have no statistics): a schema is inferred from the partitions of its first model`);
        print(`inferred the schema of ${config.lineage} from partitions ${stored.inferredFrom.join(', ')} (${Object.keys(stored.schema.columns).length} columns); see \`freshet schema show\``);
      });
    });

  schema
    .command('edit')
    .description('change the schema: in $VISUAL/$EDITOR on a copy, or from a JSON file (--file, - for stdin); a schema that does not parse is refused naming the field, and nothing changes')
    .option('--file <path>', 'read the new schema from this JSON file (- for stdin) instead of an editor')
    .option('--by <name>', 'who changed it (default: login@host)')
    .action(async (options: { file?: string; by?: string }, command: Command) => {
      const { getLineageSchema, saveLineageSchema } = await import('../registry/index.ts');
      const { parseSchema } = await import('../data/index.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const current = await getLineageSchema(registry.db, config.lineage);
        let text: string;
        let where: string;
        if (options.file) {
          where = options.file === '-' ? 'stdin' : options.file;
          text = fs.readFileSync(options.file === '-' ? 0 : options.file, 'utf8');
        } else {
          const editor = process.env.VISUAL || process.env.EDITOR;
          if (!editor) throw new UsageError('no editor: set $VISUAL or $EDITOR, or pass --file');
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-schema-'));
          where = path.join(dir, `${config.lineage}.schema.json`);
          fs.writeFileSync(where, `${JSON.stringify(current?.schema ?? { columns: {} }, null, 2)}\n`);
          const edited = spawnSync(editor, [where], { stdio: 'inherit', shell: true });
          text = fs.readFileSync(where, 'utf8');
          fs.rmSync(dir, { recursive: true, force: true }); // our own temporary folder
          if (edited.status !== 0) throw new UsageError(`the editor exited with ${edited.status ?? edited.signal}; the schema is unchanged`);
        }
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw new UsageError(`${where}: not JSON (${(error as Error).message}); the schema is unchanged`);
        }
        let parsed;
        try {
          parsed = parseSchema(json, where);
        } catch (error) {
          throw new UsageError(`${(error as Error).message}; the schema is unchanged`);
        }
        await saveLineageSchema(registry.db, config.lineage, parsed, operator(options.by));
        print(`schema of ${config.lineage} saved (${Object.keys(parsed.columns).length} columns)`);
      });
    });
}

/** `partitions accept | reject ID --reason …`, added to the `partitions` command. */
export function addPartitionDecisionVerbs(partitions: Command): void {
  for (const decision of ['accept', 'reject'] as const) {
    partitions
      .command(`${decision} <id>`)
      .description(
        decision === 'accept'
          ? 'accept a quarantined partition: it registers and trains like any other (who and why are kept)'
          : 'reject a quarantined or registered partition: it is never trained or gated on (who and why are kept)',
      )
      .requiredOption('--reason <text>', 'why (kept on the partition, shown by `freshet partitions`)')
      .option('--by <name>', 'who decided (default: login@host)')
      .action(async (id: string, options: { reason: string; by?: string }, command: Command) => {
        if (!/^\d+$/.test(id)) throw new UsageError(`partition id ${JSON.stringify(id)}: expected a number (the id column of \`freshet partitions\`)`);
        const { CHANNELS, decidePartition, notify, recordEvent } = await import('../registry/index.ts');
        await withRegistry(command, 'current', async (registry) => {
          const by = operator(options.by);
          const decided = await registry.db.transaction().execute(async (trx) => {
            const before = await trx.selectFrom('partitions').selectAll().where('id', '=', id).executeTakeFirst();
            if (!before) throw new NotFoundError(`partition ${id} does not exist`);
            const row = await decidePartition(trx, id, decision, by, options.reason);
            if (!row) throw new ConflictError(`partition ${id} (${before.path}) is ${before.status}: only ${decision === 'accept' ? 'a quarantined' : 'a quarantined or registered'} partition can be ${decision}ed`);
            await recordEvent(trx, { kind: `partition.${decision}ed`, partition_id: id, message: `${decision}ed by ${by}: ${options.reason}`, data: { path: row.path, by, reason: options.reason, was: before.status } });
            // Accepted data is new data: the schedulers of every daemon look (LISTEN).
            if (decision === 'accept') await notify(trx, CHANNELS.partitions, JSON.stringify({ source: row.source, id: row.id }));
            return row;
          });
          print(`partition ${decided.id} (${decided.path}) ${decision}ed by ${by}: ${options.reason}`);
        });
      });
  }
}

const share = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * Per-column entries in the order the configuration names the columns (features, label,
 * categorical), the rest after: JSON from the registry (jsonb) comes back in key order
 * by length, which reads as no order at all.
 */
export function inConfigOrder<T>(entries: Array<[string, T]>, config: Pick<ResolvedConfig, 'columns'>): Array<[string, T]> {
  const order = [...config.columns.features, ...(config.columns.label ? [config.columns.label] : []), ...config.columns.categorical];
  const rank = (name: string): number => (order.includes(name) ? order.indexOf(name) : order.length);
  return [...entries].sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : 1));
}
