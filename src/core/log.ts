// pino logger: JSON lines by default, one readable line per event when stderr is a
// terminal. Logs go to stderr so that stdout stays clean for `--json` output and tables.
// On a terminal, lines are printed above a progress bar (statusLineFor), never into it.
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Config } from './config.ts';
import { statusLineFor } from './status-line.ts';

export type Logger = pino.Logger;

export function createLogger(options: Config['log'], stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Logger {
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && stream.isTTY === true);
  let destination: pino.DestinationStream;
  if (usePretty) {
    // One line per event (Keras prints one per epoch), written synchronously through the
    // stream's status line so a progress bar stays below the logs.
    const pretty = prettyFactory({ colorize: stream.isTTY === true, ignore: 'pid,hostname', singleLine: true });
    const line = statusLineFor(stream);
    destination = { write: (chunk: string) => line.writeAbove(pretty(chunk)) };
  } else {
    destination = stream === process.stderr ? pino.destination({ fd: 2, sync: true }) : stream; // sync: the last lines before a crash are not lost
  }
  return pino({ level: options.level, base: { pid: process.pid } }, destination);
}

const SEVERITY = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The less talkative of two levels (warn and info → warn; error and warn → error). */
export function quieterLevel(a: Config['log']['level'], b: Config['log']['level']): Config['log']['level'] {
  return SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b;
}
