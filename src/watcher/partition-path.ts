// Hive-style partition paths: `dt=2026-11-26/hour=13` → { dt: '2026-11-26', hour: 13 }.
import path from 'node:path';

export type PartitionKeys = Record<string, string | number>;

const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/;

/** Parses a path relative to the data root; null when any segment is not `key=value`. */
export function parsePartitionPath(relative: string): PartitionKeys | null {
  if (!relative || relative === '.') return null;
  const keys: PartitionKeys = {};
  for (const segment of relative.split(path.sep)) {
    const match = SEGMENT.exec(segment);
    if (!match) return null;
    const [, key, raw] = match as unknown as [string, string, string];
    let value: string;
    try {
      value = decodeURIComponent(raw); // Hive escapes special characters as %XX
    } catch {
      value = raw;
    }
    // Integers become numbers (hour=13); dates and everything else stay strings.
    keys[key] = /^-?(0|[1-9]\d{0,14})$/.test(value) ? Number(value) : value;
  }
  return keys;
}
