// The 2001 US flight records of the vega-datasets package (flights-3m.parquet), as CSV
// lines per day, JANUARY TO MARCH ONLY: the later months are kept back for an independent
// check of the project, so nothing here reads past 2001-03-31. Used by the flights
// backtest's data writer (flights-history.ts) and by the validation tests.
// Features: departure minute of day, weekday, distance, origin and destination latitude
// and longitude (airports.csv), and the origin and destination airport codes and the
// departure hour (for columns.categorical); label: arrival delay in minutes. Last,
// origin_hour: the origin and the departure hour as one value (ATL@17), a crossed column
// (Lakshmanan et al., Feature Cross) made in the data, for columns.categorical.
import fs from 'node:fs';
import path from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { splitCsvLine } from '../src/data/csv.ts';

export const FLIGHTS_HEADER = 'dep_minute,weekday,distance,origin_lat,origin_lon,dest_lat,dest_lon,origin,destination,dep_hour,arr_delay,origin_hour';

/** The package's data folder (a devDependency). */
export const VEGA_DATA_DIR = path.join(import.meta.dirname, '..', 'node_modules', 'vega-datasets', 'data');

/** Lines per day (YYYY-MM-DD → CSV lines without the header), January to March 2001; flights whose airports have no coordinates are skipped (counted). */
export async function flightDays(dataDir = VEGA_DATA_DIR): Promise<{ days: Map<string, string[]>; kept: number; skipped: number }> {
  const parquet = path.join(dataDir, 'flights-3m.parquet');
  if (!fs.existsSync(parquet)) throw new Error(`${parquet} is missing: npm install (vega-datasets is a devDependency), or pass its data folder`);
  const airports = new Map<string, [number, number]>();
  for (const line of fs.readFileSync(path.join(dataDir, 'airports.csv'), 'utf8').split('\n').slice(1)) {
    // Quoted fields hold commas ("Baton Rouge Metropolitan, Ryan"): a plain split shifted BTR's coordinates.
    const cells = splitCsvLine(line);
    if (cells.length >= 7) airports.set(cells[0]!, [Number(cells[5]), Number(cells[6])]);
  }
  const buf = fs.readFileSync(parquet);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = (await parquetReadObjects({ file, compressors, columns: ['date', 'delay', 'distance', 'origin', 'destination'] })) as Array<{ date: bigint | number; delay: bigint | number; distance: bigint | number; origin: string; destination: string }>;
  const END = Date.UTC(2001, 3, 1); // 2001-04-01: never read past March
  const days = new Map<string, string[]>();
  let kept = 0;
  let skipped = 0;
  for (const r of rows) {
    const ms = Number(r.date);
    if (!(ms < END)) continue;
    const o = airports.get(r.origin);
    const d = airports.get(r.destination);
    if (!o || !d) {
      skipped += 1;
      continue;
    }
    const at = new Date(ms);
    const day = at.toISOString().slice(0, 10);
    const line = [at.getUTCHours() * 60 + at.getUTCMinutes(), at.getUTCDay(), Number(r.distance), o[0], o[1], d[0], d[1], r.origin, r.destination, at.getUTCHours(), Number(r.delay), `${r.origin}@${at.getUTCHours()}`].join(',');
    (days.get(day) ?? days.set(day, []).get(day)!).push(line);
    kept += 1;
  }
  return { days: new Map([...days].sort()), kept, skipped };
}
