// Events are for observers (metrics, logs, tests): a listener that throws must not change
// what its emitter does — a registration that committed is not "failed" because a metrics
// listener threw, and a worker keeps claiming jobs. So every module emits through this.
import { coerceError } from './errors.ts';
import type { Logger } from './log.ts';

/** Calls `emit` (which runs the listeners synchronously); a listener's throw is logged with the event's name, never rethrown. */
export function safeEmit(log: Logger, event: string, emit: () => unknown): void {
  try {
    emit();
  } catch (thrown) {
    log.error({ err: coerceError(thrown), event }, `a listener of "${event}" threw; ignored (the emitter carries on)`);
  }
}
