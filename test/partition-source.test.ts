// The discovery side of the door (issue #25, item 3): a partition source other than the
// local directory is one implementation of PartitionSource. Here objects held in memory
// (`mem://`, listed by prefix, complete when their `_SUCCESS` object exists, hints sent as
// a poller would) drive the real watcher into a real PostgreSQL, with the same content
// identity as the local files holding the same bytes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { registerFileDoor } from '../src/data/index.ts';
import { listPartitions, listWaitingPartitions } from '../src/registry/index.ts';
import { PartitionWatcher, type PartitionListing, type PartitionSource, type SourceHints } from '../src/watcher/index.ts';
import { hashPartition } from '../src/watcher/inspect-partition.ts';
import { createTestDatabase } from './support/database.ts';
import { memoryDoor } from './support/memory-door.ts';
import { FEATURES, LABEL, syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { waitFor } from './support/wait.ts';

const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent', format: 'json' });
const MARKER = '_SUCCESS';

/** Partitions as object keys under `root`: complete when `<partition>/_SUCCESS` exists. */
class MemorySource implements PartitionSource {
  readonly root: string;
  readonly describe = { source: 'memory' };
  readonly #objects: Map<string, Buffer>;
  hints: SourceHints | undefined;
  closed = false;

  constructor(root: string, objects: Map<string, Buffer>) {
    this.root = root;
    this.#objects = objects;
  }

  async prepare(): Promise<void> {}

  #partitions(): Map<string, string[]> {
    const byPartition = new Map<string, string[]>();
    for (const key of this.#objects.keys()) {
      const relative = key.slice(this.root.length + 1);
      const slash = relative.lastIndexOf('/');
      byPartition.set(relative.slice(0, slash), [...(byPartition.get(relative.slice(0, slash)) ?? []), relative.slice(slash + 1)]);
    }
    return byPartition;
  }

  async list(): Promise<PartitionListing> {
    const listing: PartitionListing = { complete: [], waiting: [] };
    for (const [relativePath, names] of this.#partitions()) {
      if (names.includes(MARKER)) listing.complete.push({ relativePath, arrivedAt: new Date(1_700_000_000_000) });
      else listing.waiting.push((await this.waitingContent(relativePath))!);
    }
    return listing;
  }

  async completion(relativePath: string): Promise<Date | null> {
    return this.#objects.has(`${this.root}/${relativePath}/${MARKER}`) ? new Date(1_700_000_000_000) : null;
  }

  async waitingContent(relativePath: string) {
    const names = (this.#partitions().get(relativePath) ?? []).filter((n) => n !== MARKER);
    if (names.length === 0) return null;
    const bytes = names.reduce((sum, n) => sum + this.#objects.get(`${this.root}/${relativePath}/${n}`)!.length, 0);
    return { relativePath, files: names.length, bytes, firstFileAt: new Date(1_700_000_000_000) };
  }

  async watch(hints: SourceHints): Promise<void> {
    this.hints = hints;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function csvBytes(rows: number[][]): Buffer {
  const file = path.join(tempDir('freshet-source-csv-'), 'part.csv');
  writeCsv(file, rows);
  return fs.readFileSync(file);
}

test('a partition source over objects in memory: listed at start, hinted later, waiting without its marker, registered with the local files\' content identity', async () => {
  const database = await createTestDatabase();
  const root = 'mem://bucket/landing';
  const day1 = csvBytes(syntheticRows(40, 1));
  const day2 = csvBytes(syntheticRows(30, 2));
  const objects = new Map<string, Buffer>([
    [`${root}/dt=2026-11-01/part-0.csv`, day1],
    [`${root}/dt=2026-11-01/${MARKER}`, Buffer.alloc(0)],
  ]);
  registerFileDoor('mem://', memoryDoor(objects));
  const dir = tempDir('freshet-source-');
  const config = loadConfig({ env: { FRESHET_DATA_DIR: root, FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES), FRESHET_COLUMNS__LABEL: LABEL, FRESHET_WATCHER__RESCAN_INTERVAL_SECONDS: '0' }, cwd: dir });
  assert.equal(config.dataDir, root, 'a location with a scheme is kept as written, not resolved as a path');
  assert.throws(() => new PartitionWatcher({ db: database.db, config, log }), /dataDir mem:\/\/bucket\/landing: no partition source for mem:\/\/ locations/);

  const source = new MemorySource(root, objects);
  const watcher = new PartitionWatcher({ db: database.db, config, log, source });
  await watcher.start();
  after(() => watcher.stop());
  let registered = await listPartitions(database.db, { status: 'registered' });
  assert.deepEqual(registered.map((p) => [p.path, Number(p.row_count)]), [['dt=2026-11-01', 40]], 'the listing at start registers the complete partition');

  // Day 2 lands without its marker: the source's hint records it as waiting.
  objects.set(`${root}/dt=2026-11-02/part-0.csv`, day2);
  source.hints!.dataChanged('dt=2026-11-02');
  await waitFor('the waiting partition', async () => (await listWaitingPartitions(database.db, 10)).find((w) => w.path === 'dt=2026-11-02'));
  // Its marker lands: registered, and the wait is over.
  objects.set(`${root}/dt=2026-11-02/${MARKER}`, Buffer.alloc(0));
  source.hints!.complete('dt=2026-11-02');
  await waitFor('day 2 registered', async () => (await listPartitions(database.db, { status: 'registered' })).length === 2);
  await watcher.scan();
  assert.deepEqual(await listWaitingPartitions(database.db, 10), []);

  // The same bytes on a local disk have the same content identity.
  registered = await listPartitions(database.db, { status: 'registered' });
  const local = path.join(tempDir('freshet-source-local-'), 'dt=2026-11-02');
  fs.mkdirSync(local, { recursive: true });
  fs.writeFileSync(path.join(local, 'part-0.csv'), day2);
  fs.writeFileSync(path.join(local, MARKER), '');
  assert.equal(registered.find((p) => p.path === 'dt=2026-11-02')!.sha256, (await hashPartition(local)).sha256);

  await watcher.stop();
  assert.equal(source.closed, true, 'stopping the watcher closes its source');
});
