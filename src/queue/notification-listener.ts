// LISTEN on the registry's channels over one dedicated connection, reconnecting with a
// capped backoff when the server goes away. Notifications are wake-up hints only: a
// listener that was down misses them, and the pollers it wakes find the work anyway.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../core/log.ts';
import { retryTransient } from '../core/retry.ts';
import type { Channel } from '../registry/index.ts';

interface ListenerEvents {
  notification: [channel: Channel, payload: string];
  /** Each (re)connection: listeners should poll once, since they may have missed hints. */
  connected: [];
}

export interface NotificationListenerOptions {
  url: string;
  channels: readonly Channel[];
  log: Logger;
  maxBackoffSeconds: number;
  connectTimeoutSeconds: number;
  /** Seconds a statement (LISTEN, the ping) waits for its reply before the connection counts as lost. */
  queryTimeoutSeconds?: number;
  /** Seconds between pings on the idle connection; default 30. */
  pingSeconds?: number;
}

export class NotificationListener extends EventEmitter<ListenerEvents> {
  readonly #options: NotificationListenerOptions;
  readonly #stop = new AbortController();
  #client: pg.Client | undefined;
  #loop: Promise<void> | undefined;
  #connected = false;

  constructor(options: NotificationListenerOptions) {
    super();
    this.#options = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#client) await closeConnection(this.#client);
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { log, maxBackoffSeconds } = this.#options;
    for (let reconnect = false; !this.#stop.signal.aborted; reconnect = true) {
      let session: { lost: Promise<Error>; client: pg.Client };
      try {
        session = await retryTransient(() => this.#listen(), { signal: this.#stop.signal, log, what: 'LISTEN', maxBackoffSeconds, isTransient: () => true });
      } catch {
        return; // stopped while waiting to reconnect
      }
      log[reconnect ? 'info' : 'debug']({ channels: this.#options.channels }, reconnect ? 'listening for notifications again' : 'listening for notifications');
      this.#connected = true;
      this.emit('connected');
      // A connection idle in LISTEN on a network that silently drops packets looks alive
      // for as long as TCP keepalive takes (minutes); a ping that times out ends it sooner.
      let pinging = false;
      const ping = setInterval(() => {
        if (pinging) return;
        pinging = true;
        session.client
          .query('SELECT 1')
          .then(() => (pinging = false))
          .catch((error: Error) => session.client.emit('error', error));
      }, (this.#options.pingSeconds ?? 30) * 1000);
      const error = await session.lost;
      clearInterval(ping);
      this.#connected = false;
      await closeConnection(session.client);
      if (this.#stop.signal.aborted) return;
      log.warn({ err: error.message }, 'notification connection lost; reconnecting (polling continues meanwhile)');
    }
  }

  /** Connects and LISTENs; `lost` resolves with the error that ends the connection. */
  async #listen(): Promise<{ lost: Promise<Error>; client: pg.Client }> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'freshet-listener',
      connectionTimeoutMillis: this.#options.connectTimeoutSeconds * 1000,
      query_timeout: (this.#options.queryTimeoutSeconds ?? 120) * 1000,
      // Notice a silently dead server (a pulled cable) instead of waiting forever.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    const lost = new Promise<Error>((resolve) => {
      client.on('error', resolve);
      client.on('end', () => resolve(new Error('connection ended')));
    });
    this.#client = client;
    try {
      // Abandoned at stop(): pg never settles connect() on a client ended mid-connect, and a
      // statement on a silent network waits for its timeout.
      await unlessStopped(client.connect(), this.#stop.signal);
      for (const channel of this.#options.channels) await unlessStopped(client.query(`LISTEN ${channel}`), this.#stop.signal);
    } catch (error) {
      await closeConnection(client);
      throw error;
    }
    client.on('notification', (message) => this.emit('notification', message.channel as Channel, message.payload ?? ''));
    return { lost, client };
  }
}

/**
 * `work`, or a rejection as soon as `signal` aborts. pg's Client does not settle connect()
 * once end() is called while it connects (its 'end' handler skips the connect callback for
 * a client that is ending), so the listener's stop() would wait forever for an attempt
 * on a network that gives no answer (test/network.test.ts, which hung so; the likely cause
 * of a daemon's graceful shutdown timing out in CI's outage test, 2026-12-07).
 */
function unlessStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => {}); // its late failure is expected, not an unhandled rejection
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error as Error)),
    );
  });
}

/** How long a connection being given up may take to close politely before its socket is destroyed. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Ends a connection that is being given up, and does not wait for it forever: pg's end()
 * sends Terminate and waits for the server to close the socket, and on a network that
 * swallows packets (the case the ping exists for) neither the Terminate nor the FIN may
 * arrive, so the listener would neither reconnect nor stop. After CLOSE_TIMEOUT_MS the
 * socket is destroyed, which ends the client as well. (test/network.test.ts's proxy passes
 * a close through even when it swallows data, so no test shows the difference; a run of
 * that file hung once under load in its LISTEN test, cause not found, 2026-12-06.)
 */
async function closeConnection(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    client.end().then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (!ended) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
