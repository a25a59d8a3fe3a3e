// A weather history for README › Your first hour: hourly readings at five stations, days
// 1–28 of each month given as YYYY-MM, one CSV per month under data/month=YYYY-MM/ (no
// _SUCCESS: you mark them). temp_max depends on temp_min, humidity, the station and the season.
// Usage: node make-weather.mjs 2026-01 2026-02 2026-03
import fs from 'node:fs';
const stations = { oslo: -2, lisbon: 6, cairo: 11, quito: 3, perth: 8 };
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (const month of process.argv.slice(2)) {
  const rows = ['day,station,temp_min,humidity,temp_max'];
  for (let day = 1; day <= 28; day++) {
    for (const [station, offset] of Object.entries(stations)) {
      for (let hour = 0; hour < 24; hour++) {
        const tmin = offset + 10 * Math.sin((Number(month.slice(5, 7)) * 30 + day) / 58) + 4 * rand();
        const humidity = 30 + 60 * rand();
        rows.push(`${day},${station},${tmin.toFixed(2)},${humidity.toFixed(1)},${(tmin + 9 - humidity / 15 + offset / 3 + rand()).toFixed(2)}`);
      }
    }
  }
  fs.mkdirSync(`data/month=${month}`, { recursive: true });
  fs.writeFileSync(`data/month=${month}/weather.csv`, `${rows.join('\n')}\n`);
}
