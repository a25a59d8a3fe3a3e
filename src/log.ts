// pino logger: JSON lines by default, human-readable when stderr is a TTY.
// Logs go to stderr so that stdout stays clean for `--json` output and tables.
import pino from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.ts';

export type Logger = pino.Logger;

export function createLogger(options: Config['log'], stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Logger {
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && stream.isTTY === true);
  const destination = usePretty
    ? pretty({ destination: stream, colorize: stream.isTTY === true, sync: true, ignore: 'pid,hostname' })
    : stream === process.stderr
      ? pino.destination({ fd: 2, sync: true }) // sync: the last lines before a crash are not lost
      : stream;
  return pino({ level: options.level, base: { pid: process.pid } }, destination);
}
