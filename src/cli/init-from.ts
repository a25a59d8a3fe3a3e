// `freshet init --from <partition>`: the starter configuration with the columns typed from
// a sample partition — numeric, categorical, the label — and every column left out named
// with its reason in a comment above them, so a user states only the label.
import fs from 'node:fs';
import path from 'node:path';
import { columnRoles, isBinaryLabel, isDataFile, profilePartition, type ColumnRole } from '../data/index.ts';
import { initProject, starterConfig, type InitResult } from './init-command.ts';
import { UsageError } from './usage-error.ts';

/** The folder partitions live in: above the first key=value segment (data/dt=…/hour=…), else the partition's parent. */
export function partitionRoot(partitionDir: string): string {
  const parts = path.resolve(partitionDir).split(path.sep);
  const first = parts.findIndex((segment) => /^[^=]+=[^=]*$/.test(segment));
  return first > 0 ? parts.slice(0, first).join(path.sep) || path.sep : path.dirname(path.resolve(partitionDir));
}

/** Replaces one `  key: value` line of the columns (or model) section of the starter config. */
function setLine(text: string, section: string, key: string, value: string): string {
  const start = text.indexOf(`\n${section}:\n`);
  const at = text.indexOf(`\n  ${key}: `, start);
  if (start < 0 || at < 0) throw new Error(`the starter configuration has no ${section}.${key}`);
  const end = text.indexOf('\n', at + 1);
  return `${text.slice(0, at)}\n  ${key}: ${value}${text.slice(end)}`;
}

const flowList = (names: string[]): string => `[${names.map((n) => (/^[A-Za-z_][\w.-]*$/.test(n) ? n : JSON.stringify(n))).join(', ')}]`;

/**
 * Under eval.entityColumn, how to hold the models to persistence by one of the text codes
 * (a commented suggestion, not a setting: whether a column names the entity a row measures
 * is the user's to say, and adding `last` changes what decisions are held to).
 */
function withEntityHint(text: string, candidates: string[]): string {
  if (candidates.length === 0) return text;
  const at = text.indexOf('\n  # entityColumn:\n');
  if (at < 0) throw new Error('the starter configuration has no eval.entityColumn');
  const end = at + '\n  # entityColumn:'.length;
  const hint = [
    `  # freshet init --from: if ${candidates.length === 1 ? `${candidates[0]} names` : `one of ${candidates.join(', ')} names`} what each row measures (a store, a sensor, an airport),`,
    '  # each one\'s latest label (persistence) is a baseline worth beating; to hold the models to it:',
    '  #   naive: [median, mean, last]',
    `  #   entityColumn: ${candidates[0]}`,
  ];
  return `${text.slice(0, end)}\n${hint.join('\n')}${text.slice(end)}`;
}

/** The configuration text for these roles. */
export function configFromRoles(roles: readonly ColumnRole[], { source, rows, dataDir, binary }: { source: string; rows: number; dataDir: string; binary: boolean }): string {
  let text = starterConfig();
  const of = (role: ColumnRole['role']) => roles.filter((r) => r.role === role).map((r) => r.name);
  text = setLine(text, 'columns', 'features', flowList(of('numeric')));
  text = setLine(text, 'columns', 'label', JSON.stringify(of('label')[0]));
  text = setLine(text, 'columns', 'categorical', flowList(of('categorical')));
  if (binary) text = setLine(text, 'model', 'task', 'binary');
  if (dataDir !== 'data') text = text.replace(/\ndataDir: data\n/, `\ndataDir: ${JSON.stringify(dataDir)}\n`);
  text = withEntityHint(text, roles.filter((r) => r.entityLike).map((r) => r.name));
  const why = roles.map((r) => `  #   ${r.name}: ${r.role} — ${r.reason}`);
  const header = [`  # Typed by freshet init --from ${source} (its first ${rows.toLocaleString('en-US')} rows):`, ...why, '  # Edit freely: a lineage fixes its columns when it first trains.'];
  return text.replace('\ncolumns:\n', `\ncolumns:\n${header.join('\n')}\n`);
}

export interface InitFromOptions {
  force: boolean;
  label: string | undefined;
  /** Asks for the label when none was given (on a terminal); undefined: nobody to ask. */
  ask?: ((columns: string[]) => Promise<string | undefined>) | undefined;
}

export async function initFromPartition(dir: string, partition: string, options: InitFromOptions): Promise<InitResult & { roles: ColumnRole[] }> {
  const partitionDir = path.resolve(partition);
  if (!fs.existsSync(partitionDir) || !fs.statSync(partitionDir).isDirectory()) throw new UsageError(`--from ${partition}: not a folder (give a partition folder, such as data/dt=2026-11-26)`);
  const files = fs.readdirSync(partitionDir).filter(isDataFile).sort();
  if (files.length === 0) throw new UsageError(`--from ${partition}: no data file in it (.csv, .jsonl or .parquet)`);
  const profiles = await profilePartition(partitionDir, files);
  if (profiles.length === 0) throw new UsageError(`--from ${partition}: ${files[0]} names no column`);
  const label = options.label ?? (await options.ask?.(profiles.map((p) => p.name)));
  if (!label) throw new UsageError(`freshet init --from needs the label: pass --label COLUMN, one of ${profiles.map((p) => p.name).join(', ')}`);
  let roles: ColumnRole[];
  try {
    roles = columnRoles(profiles, { label, maxTokens: 10_000 });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!roles.some((r) => r.role === 'numeric' || r.role === 'categorical')) throw new UsageError(`--from ${partition}: no column can be a feature:\n  ${roles.map((r) => `${r.name}: ${r.reason}`).join('\n  ')}`);
  const root = path.resolve(dir);
  const dataRoot = partitionRoot(partitionDir);
  const relative = path.relative(root, dataRoot);
  const dataDir = relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? dataRoot : relative;
  const config = configFromRoles(roles, { source: path.relative(root, partitionDir) || partitionDir, rows: profiles[0]!.rows, dataDir, binary: isBinaryLabel(profiles.find((p) => p.name === label)!) });
  return { ...initProject(dir, { force: options.force, config, dataDir }), roles };
}
