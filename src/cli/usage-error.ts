// A bad command line: the CLI's own error, thrown only at its edge (argument checks of the
// verbs). Modules below the CLI throw the classes of src/core/errors.ts instead.
export class UsageError extends Error {
  override name = 'UsageError';
}
