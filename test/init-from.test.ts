// `freshet init --from <partition>`: a configuration whose columns are typed from a sample
// partition, with every column left out named with its reason; only the label is asked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { columnRoles } from '../src/data/column-roles.ts';
import type { ColumnProfile } from '../src/data/column-profile.ts';
import { profilePartition } from '../src/data/column-profile.ts';
import { partitionRoot } from '../src/cli/init-from.ts';
import { Rng } from '../src/core/rng.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { tempDir } from './support/partitions.ts';

/** A partition a user might have: a row id, a timestamp, a city, a number, an hour, a constant, free text, a mostly empty column, the label. */
function writeSample(dir: string, rows = 3000): string {
  const partition = path.join(dir, 'landing', 'dt=2026-01-01');
  fs.mkdirSync(partition, { recursive: true });
  const rng = new Rng(3);
  const lines = ['id,ts,city,x,hour,source,note,sparse,y'];
  for (let i = 0; i < rows; i++) {
    const city = Math.floor(rng.next() * 3);
    const hour = Math.floor(rng.next() * 24);
    lines.push([1000 + i, `2026-01-01T${String(hour).padStart(2, '0')}:15:00`, ['oslo', 'lima', 'pune'][city], (rng.next() * 10).toFixed(3), hour, 'api', `note ${i}`, i % 3 === 0 ? rng.next().toFixed(2) : '', (10 * city + rng.next()).toFixed(2)].join(','));
  }
  fs.writeFileSync(path.join(partition, 'part-0.csv'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(partition, '_SUCCESS'), '');
  return partition;
}

test('freshet init --from types every column, says why each left-out one is left out, and the file loads', async () => {
  const dir = tempDir('freshet-init-from-');
  writeSample(dir);
  const project = path.join(dir, 'project');
  const result = await runFreshet(['init', project, '--from', path.join(dir, 'landing', 'dt=2026-01-01'), '--label', 'y'], { env: cleanEnv() });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^column\s+role\s+why/m);
  const config = loadConfig({ file: path.join(project, 'freshet.config.yaml'), env: {} });
  assert.deepEqual(config.columns.features, ['x']);
  assert.deepEqual(config.columns.categorical, ['city', 'hour']);
  assert.equal(config.columns.label, 'y');
  assert.equal(config.model.task, 'regression');
  assert.equal(config.dataDir, path.join(dir, 'landing'), 'the folder the partitions live in, outside the project: absolute');
  assert.equal(fs.existsSync(path.join(project, 'data')), false, 'no empty data folder beside a dataDir elsewhere');
  const text = fs.readFileSync(path.join(project, 'freshet.config.yaml'), 'utf8');
  for (const [column, why] of [
    ['id', /rises row by row \("1000", "1001", "1002", …\): a row number or a timestamp/],
    ['ts', /a date or time \("2026-01-01T\d\d:15:00"/],
    ['source', /constant in this partition: "api"/],
    ['note', /an identifier: 3,000 distinct values in 3,000 rows/],
    ['sparse', /mostly missing: 67% of 3,000 rows/],
  ] as const) {
    const line = text.split('\n').find((l) => l.startsWith(`  #   ${column}: left out — `));
    assert.ok(line && why.test(line), `${column}: ${line}`);
  }
  assert.match(text, /#   hour: categorical — whole numbers with 24 distinct values/);
  // The text code is offered as the entity of a persistence baseline, in a comment under eval.entityColumn: nothing is set.
  assert.match(text, /\n  # entityColumn:\n  # freshet init --from: if city names what each row measures[^\n]*\n[^\n]*persistence[^\n]*\n  #   naive: \[median, mean, last\]\n  #   entityColumn: city\n/);
  assert.equal(config.eval.entityColumn, undefined);
  assert.deepEqual(config.eval.naive, ['median', 'mean']);
  // A second run refuses to overwrite without --force.
  const again = await runFreshet(['init', project, '--from', path.join(dir, 'landing', 'dt=2026-01-01'), '--label', 'y'], { env: cleanEnv() });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists; pass --force/);
});

test('freshet init --from: a 0/1 label makes a binary task; JSON Lines read the same way; the data folder inside the project is relative', async () => {
  const dir = tempDir('freshet-init-from-jsonl-');
  const partition = path.join(dir, 'data', 'dt=2026-02-01');
  fs.mkdirSync(partition, { recursive: true });
  const rng = new Rng(5);
  fs.writeFileSync(path.join(partition, 'events.jsonl'), Array.from({ length: 500 }, (_, i) => JSON.stringify({ user: `u${i}`, plan: ['free', 'pro'][i % 2], spend: Math.round(rng.next() * 1e4) / 100, churned: rng.next() < 0.3 ? 1 : 0 })).join('\n') + '\n');
  const result = await runFreshet(['init', dir, '--from', partition, '--label', 'churned'], { env: cleanEnv() });
  assert.equal(result.code, 0, result.stderr);
  const config = loadConfig({ file: path.join(dir, 'freshet.config.yaml'), env: {}, cwd: dir });
  assert.equal(config.model.task, 'binary');
  assert.deepEqual([config.columns.features, config.columns.categorical, config.columns.label], [['spend'], ['plan'], 'churned']);
  assert.match(fs.readFileSync(path.join(dir, 'freshet.config.yaml'), 'utf8'), /\ndataDir: data\n/);
  assert.match(result.stdout, /user\s+left out\s+an identifier: 500 distinct values in 500 rows/);
});

test('freshet init --from: no label off a terminal, a text label, an unknown column or a folder without data: exit 2 naming what is wrong, nothing written', async () => {
  const dir = tempDir('freshet-init-from-errors-');
  const partition = writeSample(dir, 200);
  const project = path.join(dir, 'p');
  const cases: Array<[string[], RegExp]> = [
    [['--from', partition], /needs the label: pass --label COLUMN, one of id, ts, city, x, hour, source, note, sparse, y/],
    [['--from', partition, '--label', 'city'], /--label city: the column holds text \("oslo"|--label city: the column holds text/],
    [['--from', partition, '--label', 'price'], /--label price: no such column \(the columns are id, ts, city/],
    [['--from', path.join(dir, 'landing')], /--from .*landing: no data file in it/],
    [['--from', path.join(dir, 'nowhere'), '--label', 'y'], /--from .*nowhere: not a folder/],
    [['--label', 'y'], /--label goes with --from <partition>/],
  ];
  for (const [args, message] of cases) {
    const result = await runFreshet(['init', project, ...args], { env: cleanEnv() });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  assert.equal(fs.existsSync(project), false, 'nothing written');
});

test('column roles: codes, identifiers and numbers by type and cardinality; partitionRoot above the key=value folders', async () => {
  const profile = (over: Partial<ColumnProfile>): ColumnProfile => ({ name: 'c', rows: 1000, numbers: 1000, texts: 0, missing: 0, distinct: 500, integers: false, increasing: false, dateLike: 0, examples: ['1'], ...over });
  const roles = columnRoles(
    [
      profile({ name: 'weekday', integers: true, distinct: 7 }),
      profile({ name: 'zip', integers: true, distinct: 900 }),
      profile({ name: 'ratio' }),
      profile({ name: 'sku', numbers: 0, texts: 1000, distinct: 40 }),
      profile({ name: 'email', numbers: 0, texts: 1000, distinct: 990 }),
      profile({ name: 'y', examples: ['1.5'] }),
    ],
    { label: 'y', maxTokens: 10_000 },
  );
  assert.deepEqual(roles.map((r) => r.role), ['categorical', 'numeric', 'numeric', 'categorical', 'left out', 'label']);
  assert.equal(partitionRoot('/srv/landing/dt=2026-01-01/hour=13'), '/srv/landing');
  assert.equal(partitionRoot('/srv/landing/day1'), '/srv/landing');
  // The profile of a real file: numbers, text and missing counted per column.
  const dir = tempDir('freshet-profile-');
  const partition = writeSample(dir, 100);
  const profiles = await profilePartition(partition, ['part-0.csv']);
  const sparse = profiles.find((p) => p.name === 'sparse')!;
  assert.deepEqual([sparse.rows, sparse.numbers, sparse.missing], [100, 34, 66]);
  const city = profiles.find((p) => p.name === 'city')!;
  assert.deepEqual([city.texts, city.distinct, city.numbers], [100, 3, 0]);
});
