// A one-line status (a progress bar) kept at the bottom of a terminal, with log lines
// printed above it and the status redrawn under them, as cargo and pip do. Without this a
// log line lands on the same line as the bar and the bar is redrawn inside the logs.

/** Erase the current line and return to its start (ANSI: carriage return, erase line). */
const ERASE_LINE = '\r\x1b[2K';

export class StatusLine {
  readonly #stream: NodeJS.WritableStream;
  #text = '';

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
  }

  /** Shows `text` as the status, replacing the previous one. */
  set(text: string): void {
    this.#text = text;
    this.#stream.write(ERASE_LINE + text);
  }

  /** Leaves the current status on screen as a finished line; later logs print below it. */
  finish(): void {
    if (!this.#text) return;
    this.#text = '';
    this.#stream.write('\n');
  }

  /** Writes complete lines (each ending in a newline) above the status, then redraws it. */
  writeAbove(lines: string): void {
    this.#stream.write(this.#text ? ERASE_LINE + lines + this.#text : lines);
  }
}

const lines = new WeakMap<NodeJS.WritableStream, StatusLine>();

/** The one status line of a stream, shared by its logger and its progress bar. */
export function statusLineFor(stream: NodeJS.WritableStream): StatusLine {
  let line = lines.get(stream);
  if (!line) lines.set(stream, (line = new StatusLine(stream)));
  return line;
}
