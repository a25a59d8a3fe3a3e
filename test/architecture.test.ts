// The import rules of docs/architecture.md, checked on the source: the tree shows the data
// flow only while the arrows point the way it says.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function sourceFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Every specifier a file imports (static, dynamic and worker URLs), relative ones resolved to absolute paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  // `from '…'`, `import('…')`, worker URLs, and bare `import '…'` (a side-effect import is an import too).
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|new URL\(\s*|^import\s+)'([^']+)'/gm)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? path.resolve(path.dirname(file), s) : s));
}

/** The module a file belongs to: its first folder under src/ ('' for the composition root). */
const moduleOf = (file: string): string => path.relative(SRC, file).split(path.sep).slice(0, -1)[0] ?? '';

/** The specifiers a file loads at run time: `import type` and `export type` are erased by type stripping. */
function runtimeImportsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/^(?:import|export) type [^;]*;$/gm, '');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|new URL\(\s*|^import\s+)'([^']+)'/gm)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? path.resolve(path.dirname(file), s) : s));
}

/** Every file and package loaded at run time from `entry` (relative imports followed). */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (file.startsWith(SRC)) for (const spec of runtimeImportsOf(file)) visit(spec);
  };
  visit(entry);
  return seen;
}

/** What loading `entry` loads before any of its code runs: static imports only (dynamic import() runs later, if ever). */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith(SRC)) return;
    const text = fs.readFileSync(file, 'utf8');
    // `import type` is erased; `import { type X }` is not (it keeps the import) and counts.
    const specs = [...text.matchAll(/^import (?!type )(?:[^'";]*? from )?'([^']+)';/gm)].map((m) => m[1]!);
    for (const spec of specs) visit(spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec);
  };
  visit(entry);
  return seen;
}


test('`freshet --help` loads commander and the verbs\' definitions only: no TensorFlow.js, database driver, logger or config schema (issue #24, item 13)', () => {
  const loaded = [...staticClosure(path.join(SRC, 'cli', 'main.ts'))];
  const heavy = loaded.filter((s) => /^(@tensorflow|kysely|pg|pino|pino-pretty|zod|yaml|prom-client|chokidar|node-cron|hyparquet)/.test(s) || ['trainer', 'registry', 'observability', 'serving', 'selection', 'promotion', 'retrain', 'watcher', 'scheduler', 'queue', 'demo', 'backtest', 'data', ''].includes(s.startsWith(SRC) ? moduleOf(s) : 'package'));
  assert.deepEqual(heavy, []);
});

const files = sourceFiles();

/**
 * The rank of each module in the data flow (docs/architecture.md › The tree is the data
 * flow): a module may import only modules of a lower rank, so the arrows point one way,
 * from the composition root and the CLI down to data and core. '' is the composition root
 * (src/daemon.ts).
 */
const RANK: Record<string, number> = {
  core: 0,
  data: 1,
  registry: 2,
  queue: 3,
  watcher: 3,
  trainer: 3,
  scheduler: 3,
  selection: 4,
  promotion: 4,
  serving: 4,
  retrain: 5,
  observability: 5,
  notify: 5,
  '': 6,
  backtest: 6,
  tune: 6,
  demo: 7,
  cli: 8,
};

test('every module imports only modules of a lower rank: no upward or sideways import, bare imports included (issue #25, item 7)', () => {
  const unranked = [...new Set(files.map(moduleOf))].filter((m) => !(m in RANK));
  assert.deepEqual(unranked, [], 'every module has a rank');
  const offending = files.flatMap((f) =>
    importsOf(f)
      .filter((s) => s.startsWith(SRC) && moduleOf(s) !== moduleOf(f) && RANK[moduleOf(s)]! >= RANK[moduleOf(f)]!)
      .map((s) => `${path.relative(SRC, f)} (${moduleOf(f) || 'root'}, rank ${RANK[moduleOf(f)]}) → ${path.relative(SRC, s)} (rank ${RANK[moduleOf(s)]})`),
  );
  assert.deepEqual(offending, []);
});

test('partition data is read only through the door: node:fs only where the door, the local walk, exports and scratch files are (issue #25, item 3)', () => {
  // Each allowed file and why: the door's local side; the S3 door's local cache of objects (s3-door, object-cache); the local partition source (its walk with symlink rules, creating the data root);
  // the serving export (freshet's own files); the row cache and its folder (freshet's scratch copies under artifactsDir).
  const allowed = new Set(['data/local-door.ts', 'data/s3-door.ts', 'data/object-cache.ts', 'watcher/find-complete-partitions.ts', 'watcher/local-source.ts', 'serving/export.ts', 'serving/predictor.ts', 'trainer/stream/row-cache.ts', 'trainer/stream/prefetch.ts']);
  const readersOfData = files.filter((f) => ['data', 'watcher', 'serving'].includes(moduleOf(f)) || f.includes(`${path.sep}trainer${path.sep}stream${path.sep}`));
  const offending = readersOfData.filter((f) => importsOf(f).some((s) => s === 'node:fs' || s === 'fs' || s === 'node:fs/promises')).map((f) => path.relative(SRC, f)).filter((f) => !allowed.has(f.split(path.sep).join('/')));
  assert.deepEqual(offending, []);
});

test('core/ imports no module of freshet', () => {
  const offending = files.filter((f) => moduleOf(f) === 'core').flatMap((f) => importsOf(f).filter((s) => s.startsWith(SRC) && moduleOf(s) !== 'core').map((s) => `${path.relative(SRC, f)} → ${path.relative(SRC, s)}`));
  assert.deepEqual(offending, []);
});

test("a module reaches another only through that module's index.ts (core/ files excepted)", () => {
  const offending = files.flatMap((f) =>
    importsOf(f)
      .filter((s) => s.startsWith(SRC) && moduleOf(s) !== moduleOf(f) && moduleOf(s) !== 'core' && moduleOf(s) !== '' && path.basename(s) !== 'index.ts')
      .map((s) => `${path.relative(SRC, f)} → ${path.relative(SRC, s)}`),
  );
  assert.deepEqual(offending, []);
});

test('the data readers, the watcher, the gate, the plateau and the status report load no TensorFlow.js (the watcher\'s validation threads import the readers; the gate is arithmetic on scores)', () => {
  // selection and observability too: `freshet status` and the status page read the plateau and the decisions without loading tfjs.
  for (const entry of ['data/index.ts', 'watcher/index.ts', 'watcher/file-validation-worker.ts', 'promotion/index.ts', 'selection/index.ts', 'observability/index.ts']) {
    const reached = [...closure(path.join(SRC, entry))];
    assert.deepEqual(reached.filter((s) => s.startsWith('@tensorflow') || s.includes(`${path.sep}trainer${path.sep}`)), [], entry);
  }
});

test('the queue knows no ML, and only observability imports prom-client', () => {
  const queue = [...closure(path.join(SRC, 'queue/index.ts'))];
  assert.deepEqual(queue.filter((s) => s.startsWith('@tensorflow') || ['trainer', 'selection', 'promotion', 'retrain', 'serving'].includes(moduleOf(s))), []);
  const promClient = files.filter((f) => importsOf(f).includes('prom-client')).map((f) => path.relative(SRC, f));
  assert.deepEqual(promClient, [path.join('observability', 'metrics.ts')]);
});

test('every file an npm script or the bin runs exists (a move must take them along)', () => {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  const scripted = Object.values(pkg.scripts).flatMap((script) => [...script.matchAll(/\bnode (\S+\.(?:ts|mjs|js))/g)].map((m) => m[1]!));
  const bin = fs.readFileSync(path.join(root, Object.values(pkg.bin)[0]!), 'utf8');
  const binTargets = [...bin.matchAll(/import\('([^']+)'\)/g)].map((m) => path.join('bin', m[1]!));
  assert.ok(scripted.length >= 5, `scripts found: ${scripted.join(', ')}`);
  assert.deepEqual([...scripted, ...binTargets].filter((file) => !fs.existsSync(path.join(root, file))), []);
});
