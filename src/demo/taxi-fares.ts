// Synthetic taxi trips with a fare to predict, one day per partition, with the kinds of
// change a production model meets: stable days (a retrain cannot beat the champion by
// much), one sudden shift (a new tariff from a given day on), then gradual drift (fares
// creep up 1% a day). Seeded: the same day is the same data.
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../core/rng.ts';

export const TAXI_FEATURES = ['trip_km', 'hour', 'weekday', 'passengers', 'pickup_zone', 'airport'];
export const TAXI_LABEL = 'fare';

export interface TaxiDay {
  /** 0-based day index from the first partition. */
  day: number;
  rows: number;
  /** The day the new tariff starts (the sudden shift). */
  shiftDay: number;
  seed: number;
}

/** One trip per row: features then fare. */
export function taxiTrips({ day, rows, shiftDay, seed }: TaxiDay): number[][] {
  const rng = new Rng(seed * 1000 + day);
  const newTariff = day >= shiftDay;
  // Prices hold until the new tariff; from then on they creep up 1% a day (gradual drift).
  const inflation = newTariff ? 1 + 0.01 * (day - shiftDay) : 1;
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const hour = Math.floor(rng.next() * 24);
    const weekday = (day + Math.floor(rng.next() * 7)) % 7;
    const zone = Math.floor(rng.next() * 10);
    const airport = rng.next() < 0.08 ? 1 : 0;
    const km = airport ? 12 + rng.next() * 25 : 0.5 + -Math.log(1 - rng.next()) * 4;
    const passengers = 1 + Math.floor(rng.next() ** 2 * 4);
    const rush = (hour >= 7 && hour <= 9) || (hour >= 16 && hour <= 19) ? 1 : 0;
    const night = hour >= 22 || hour <= 5 ? 1 : 0;
    const perKm = newTariff ? 2.3 : 1.7;
    let fare = 3 + perKm * km * (1 + 0.2 * rush + 0.1 * night) + 0.4 * (passengers - 1) + 0.35 * zone + (weekday >= 5 ? -0.8 : 0);
    if (airport) fare += newTariff ? 12 : 5;
    fare *= inflation;
    fare += (rng.next() - 0.5) * 2 + (rng.next() - 0.5) * 0.05 * fare; // meter noise and tips
    out.push([Math.round(km * 100) / 100, hour, weekday, passengers, zone, airport, Math.round(fare * 100) / 100]);
  }
  return out;
}

/** The `dt=` date of a day index: day 0 is 2026-11-01. */
export function taxiDate(day: number): string {
  return new Date(Date.UTC(2026, 10, 1 + day)).toISOString().slice(0, 10);
}

/** Writes dt=<date>/part-0.csv, then the _SUCCESS marker, as a producer would. */
export function writeTaxiPartition(dataDir: string, date: string, trips: number[][]): string {
  const dir = path.join(dataDir, `dt=${date}`);
  fs.mkdirSync(dir, { recursive: true });
  const csv = `${[...TAXI_FEATURES, TAXI_LABEL].join(',')}\n${trips.map((t) => t.join(',')).join('\n')}\n`;
  fs.writeFileSync(path.join(dir, 'part-0.csv'), csv);
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
  return dir;
}
