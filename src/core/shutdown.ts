// Turning SIGTERM/SIGINT into an AbortSignal: the first signal starts a graceful shutdown
// bounded by a timeout; a second one exits at once (as graphile-worker and pg-boss do).
import type { Logger } from './log.ts';

export function shutdownOnSignals(log: Logger, timeoutSeconds: number): AbortController {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: forcing exit');
      process.exit(130);
    }
    log.info({ signal, timeoutSeconds }, 'shutting down gracefully (send the signal again to force)');
    setTimeout(() => {
      log.error({ timeoutSeconds }, 'graceful shutdown timed out; forcing exit');
      process.exit(1); // EXIT.failure
    }, timeoutSeconds * 1000).unref();
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return controller;
}
