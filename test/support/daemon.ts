// Partitions as producers write them, and a daemon configuration whose runs last long
// enough to interrupt.
import fs from 'node:fs';
import path from 'node:path';
import { cleanEnv } from './cli.ts';
import { syntheticRows, writeCsv } from './partitions.ts';
import { trainEnv } from './train-config.ts';

/** A partition as a producer writes it: data first, then the marker. */
export function dropPartition(dataDir: string, day: string, rows: number): void {
  const dir = path.join(dataDir, `dt=${day}`);
  writeCsv(path.join(dir, 'part-0.csv'), syntheticRows(rows, Number(day.replaceAll('-', ''))));
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}

/** Long enough runs to interrupt: 40 passes in 20 virtual epochs (≈ 10 s here). */
export function slowTrainingEnv(dir: string, url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    ...trainEnv(dir, url),
    FRESHET_TRAINING__NUM_CHECKPOINTS: '20',
    FRESHET_TRAINING__STOP_POINT: '40',
    FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
    FRESHET_RETRAIN__SCHEDULE: '',
    FRESHET_LOG__LEVEL: 'info',
    ...extra,
  });
}

