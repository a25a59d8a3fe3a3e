// A file or object that is not there when it is read: a partition's object deleted from
// the bucket after it was registered, say. Retrying cannot bring it back, so a job that
// meets one fails at once (a PermanentError); it keeps the code ENOENT so that the
// watcher, which decides by code, treats a partition that vanished while it was being
// registered as vanished, as it does a local folder.
import { PermanentError } from '../core/errors.ts';

export class MissingObjectError extends PermanentError {
  override name = 'MissingObjectError';
  readonly code = 'ENOENT';
  readonly location: string;

  constructor(location: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.location = location;
  }
}
