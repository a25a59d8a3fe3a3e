// `freshet init [dir]`: a commented starter config (generated from the schema, so it
// always shows the real defaults) and the data-dir layout.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describeConfigKeys } from '../core/config.ts';
import { UsageError } from './usage-error.ts';

/** The starter config: every key at its default, each with its description as a comment. */
export function starterConfig(): string {
  const lines = [
    '# freshet configuration. Every key is shown at its default; delete what you do not change.',
    '# Environment overrides: DATABASE_URL, and FRESHET_<SECTION>__<KEY> (e.g. FRESHET_LOG__LEVEL=debug).',
    '',
  ];
  let section = '';
  for (const key of describeConfigKeys()) {
    const parts = key.path.split('.');
    const parents = parts.slice(0, -1);
    const parentPath = parents.join('.');
    if (parentPath !== section) {
      // Open every parent level that is new compared with the previous key.
      const previous = section ? section.split('.') : [];
      parents.forEach((name, depth) => {
        if (previous[depth] !== name || depth >= previous.length) {
          if (depth === 0) lines.push('');
          lines.push(`${'  '.repeat(depth)}${name}:`);
        }
      });
      section = parentPath;
    }
    const indent = '  '.repeat(parents.length);
    lines.push(`${indent}# ${key.description}`);
    const leaf = parts.at(-1)!;
    if (key.default === undefined) lines.push(`${indent}# ${leaf}:`);
    // JSON is YAML's flow style: arrays stay on the key's line.
    else lines.push(`${indent}${leaf}: ${typeof key.default === 'string' ? YAML.stringify(key.default).trim() : JSON.stringify(key.default)}`);
  }
  return `${lines.join('\n')}\n`;
}

const DATA_README = `Partitions land here, one directory per partition, Hive style:

  dt=2026-11-26/part-0000.csv         (CSV with a header row, *.jsonl or *.parquet)
  dt=2026-11-26/_SUCCESS              (written last: the partition is complete)
  dt=2026-11-26/hour=13/...           (nested keys are allowed)

freshet never moves, modifies or deletes anything in this directory.
`;

export interface InitResult {
  configFile: string;
  created: string[];
}

/**
 * Writes the starter config (or `config`, from `init --from`) and directories into `dir`;
 * refuses to overwrite a config unless `force`. The data folder is made only when the
 * configuration reads the default one.
 */
export function initProject(dir: string, { force = false, config, dataDir = 'data' }: { force?: boolean; config?: string; dataDir?: string } = {}): InitResult {
  const root = path.resolve(dir);
  const configFile = path.join(root, 'freshet.config.yaml');
  if (fs.existsSync(configFile) && !force) {
    throw new UsageError(`${configFile} already exists; pass --force to overwrite it`);
  }
  const created: string[] = [];
  for (const sub of [...(dataDir === 'data' ? ['data'] : []), '.freshet/artifacts']) {
    const full = path.join(root, sub);
    if (!fs.existsSync(full)) {
      fs.mkdirSync(full, { recursive: true });
      created.push(full);
    }
  }
  const readme = path.join(root, 'data', 'README.txt');
  if (dataDir === 'data' && !fs.existsSync(readme)) {
    fs.writeFileSync(readme, DATA_README);
    created.push(readme);
  }
  fs.writeFileSync(configFile, config ?? starterConfig());
  created.push(configFile);
  return { configFile, created };
}

/**
 * Adds lineage `name` to the configuration in `dir` (`freshet init --lineage NAME`): an
 * entry under `lineages:` reading its own folder, data/<name>, created with its README.
 * The file is edited as a YAML document, so its comments and layout stay. A file that had
 * one lineage (no `lineages:`) gets that one listed too, unchanged, so it keeps running.
 * A config that does not exist yet is the starter config with `lineage: NAME`.
 */
export function addLineage(dir: string, name: string, { lineageName }: { lineageName: (file: string) => string }): InitResult {
  const root = path.resolve(dir);
  const configFile = path.join(root, 'freshet.config.yaml');
  if (!fs.existsSync(configFile)) {
    const result = initProject(dir);
    const document = YAML.parseDocument(fs.readFileSync(configFile, 'utf8'));
    document.set('lineage', name);
    fs.writeFileSync(configFile, document.toString());
    return result;
  }
  const document = YAML.parseDocument(fs.readFileSync(configFile, 'utf8'));
  if (document.errors.length > 0) throw new UsageError(`${configFile}: not valid YAML (${document.errors[0]!.message}); fix it before adding a lineage`);
  const lineages = document.get('lineages') as YAML.YAMLMap | undefined;
  if (lineages?.has(name)) throw new UsageError(`${configFile} already has lineage ${name}`);
  if (!lineages || lineages.items.length === 0) document.setIn(['lineages', lineageName(configFile)], document.createNode({}));
  const folder = path.join('data', name);
  document.setIn(['lineages', name], document.createNode({ dataDir: folder }));
  (document.get('lineages') as YAML.YAMLMap).flow = false; // one line per lineage (the starter config's `lineages: {}` is a flow map)
  const created: string[] = [];
  const full = path.join(root, folder);
  if (!fs.existsSync(full)) {
    fs.mkdirSync(full, { recursive: true });
    fs.writeFileSync(path.join(full, 'README.txt'), DATA_README);
    created.push(full);
  }
  fs.writeFileSync(configFile, document.toString());
  created.push(configFile);
  return { configFile, created };
}
