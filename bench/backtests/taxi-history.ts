// Writes the demo's taxi-fare drift stream as a partition history plus a freshet.config.yaml beside it:
//   node bench/backtests/taxi-history.ts <dir>/history <days> <rows per day> <seed>
import { TAXI_FEATURES, TAXI_LABEL, taxiDate, taxiTrips, writeTaxiPartition } from '../../src/demo/taxi-fares.ts';
import fs from 'node:fs';
const [dir, days, rows, seed] = process.argv.slice(2);
fs.rmSync(dir!, { recursive: true, force: true });
for (let d = 0; d < Number(days); d++) writeTaxiPartition(dir!, taxiDate(d), taxiTrips({ day: d, rows: Number(rows), shiftDay: 6, seed: Number(seed ?? 7) }));
fs.writeFileSync(`${dir}/../freshet.config.yaml`, `columns:\n  features: ${JSON.stringify(TAXI_FEATURES)}\n  label: ${TAXI_LABEL}\ntraining:\n  batchSize: 128\n  learningRate: 0.003\n  numCheckpoints: 12\n  stopPoint: 8\n  earlyStopping:\n    patience: 2\nretrain:\n  virtualEpochs: 4\n  schedule: ""\n`);
