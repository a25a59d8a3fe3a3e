// The door for partition data (issue #25, item 3): a second kind of location is one FileDoor
// registered for its scheme. Here a door over bytes held in memory (`mem://`, a real
// implementation of the interface, as an object-storage door would be over its client)
// serves the readers, the schema sniff and the watcher's listing and hashing, with the
// same answers as the local files holding the same bytes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { doorFor, readTable, registerFileDoor, tableSchema } from '../src/data/index.ts';
import { memoryDoor } from './support/memory-door.ts';
import { hashPartition } from '../src/watcher/inspect-partition.ts';
import { tempDir } from './support/partitions.ts';

async function rowsOf(file: string, columns: string[]): Promise<number[][]> {
  const out: number[][] = [];
  for await (const chunk of readTable(file, columns)) for (let r = 0; r < chunk.rowCount; r++) out.push(Array.from(chunk.values.subarray(r * columns.length, (r + 1) * columns.length)));
  return out;
}

test('a door registered for mem:// serves the readers, the schema and the watcher\'s hash exactly as the local files with the same bytes', async () => {
  const csv = Buffer.from(`a,b\n${Array.from({ length: 3000 }, (_, i) => `${i},${i / 10}`).join('\n')}\n`);
  const jsonl = Buffer.from('{"a": 1, "b": 2.5}\n{"a": 3, "b": 4.5}\n');
  const parquet = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'a', data: [1, 2, 3], type: 'DOUBLE' }, { name: 'b', data: [0.5, 1.5, 2.5], type: 'DOUBLE' }] }));
  const objects = new Map([
    ['mem://bucket/data/dt=2026-11-01/part-0.csv', csv],
    ['mem://bucket/data/dt=2026-11-01/part-1.jsonl', jsonl],
    ['mem://bucket/data/dt=2026-11-01/part-2.parquet', parquet],
    ['mem://bucket/data/dt=2026-11-01/_SUCCESS', Buffer.alloc(0)],
  ]);
  registerFileDoor('mem://', memoryDoor(objects));
  const local = path.join(tempDir('freshet-door-'), 'dt=2026-11-01');
  fs.mkdirSync(local, { recursive: true });
  for (const [key, bytes] of objects) fs.writeFileSync(path.join(local, path.basename(key)), bytes);

  const remote = 'mem://bucket/data/dt=2026-11-01';
  for (const name of ['part-0.csv', 'part-1.jsonl', 'part-2.parquet']) {
    assert.deepEqual(await rowsOf(`${remote}/${name}`, ['a', 'b']), await rowsOf(path.join(local, name), ['a', 'b']), name);
    assert.deepEqual(await tableSchema(`${remote}/${name}`), await tableSchema(path.join(local, name)), `${name} schema`);
  }
  assert.equal((await rowsOf(`${remote}/part-0.csv`, ['a', 'b'])).length, 3000);
  const [fromMemory, fromDisk] = [await hashPartition(remote), await hashPartition(local)];
  assert.equal(fromMemory.sha256, fromDisk.sha256, 'the same content identity through either door');
  assert.deepEqual(fromMemory.files, fromDisk.files);
  assert.throws(() => doorFor('s3://bucket/key'), /s3:\/\/bucket\/key: no door for s3:\/\/ locations \(this freshet reads local paths and mem:\/\/\)/);
});
