// Writes the January–March 2001 flights (flights-data.ts) as daily partitions:
//   node bench/flights-history.ts <out-dir> [path to vega-datasets/data]
// <out-dir> must not exist yet, or be a folder this script wrote (it holds only dt=… partitions).
import fs from 'node:fs';
import path from 'node:path';
import { FLIGHTS_HEADER, flightDays, VEGA_DATA_DIR } from './flights-data.ts';

const [out, dataDir = VEGA_DATA_DIR] = process.argv.slice(2);
if (!out) throw new Error('usage: node bench/flights-history.ts <out-dir> [vega-datasets data dir]');
if (fs.existsSync(out) && fs.readdirSync(out).some((name) => !name.startsWith('dt='))) throw new Error(`${out} holds files this script did not write; pass a new folder`);
const { days, kept, skipped } = await flightDays(dataDir);
for (const [day, lines] of days) {
  const dir = path.join(out, `dt=${day}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'part-0.csv'), `${FLIGHTS_HEADER}\n${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}
console.log(`${kept} flights in ${days.size} daily partitions (${[...days.keys()][0]} … ${[...days.keys()].at(-1)}), ${skipped} without airport coordinates, into ${out}`);
