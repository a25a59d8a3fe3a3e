// A loss curve in one terminal line, with marks under it for the points that matter.

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One block character per value, scaled between the series' min and max; on a log scale
 * when every value is positive (loss curves span decades, and the plateau is in the tail).
 */
export function sparkline(values: readonly number[]): string {
  if (values.length && values.every((v) => v > 0)) values = values.map(Math.log);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  return values.map((v) => BARS[Math.min(BARS.length - 1, Math.floor(((v - min) / span) * BARS.length))]).join('');
}

/** A line of spaces with `mark` characters at the given positions (later marks win). */
export function markerLine(length: number, marks: ReadonlyArray<[index: number | null, mark: string]>): string {
  const line = Array.from({ length }, () => ' ');
  for (const [index, mark] of marks) if (index !== null && index >= 0 && index < length) line[index] = mark;
  return line.join('').trimEnd();
}
