// An error in a data file that names the file, and the line and column when known.

export class DataFileError extends Error {
  override name = 'DataFileError';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: string | undefined;
  /** The message without the file, line and column prefix. */
  readonly detail: string;

  constructor(file: string, message: string, where: { line?: number; column?: string } = {}, options?: ErrorOptions) {
    const place = [file, where.line !== undefined ? `line ${where.line}` : '', where.column !== undefined ? `column ${where.column}` : '']
      .filter(Boolean)
      .join(', ');
    super(`${place}: ${message}`, options);
    this.file = file;
    this.line = where.line;
    this.column = where.column;
    this.detail = message;
  }
}
