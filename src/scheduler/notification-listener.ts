// LISTEN on the registry's channels over one dedicated connection, reconnecting with a
// capped backoff when the server goes away. Notifications are wake-up hints only: a
// listener that was down misses them, and the pollers it wakes find the work anyway.
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../log.ts';
import { PARTITIONS_CHANNEL } from '../watcher/index.ts';

/** Channels freshet notifies on. */
export const CHANNELS = {
  /** A job became claimable (payload: its id); sent by a trigger on `jobs`. */
  jobs: 'freshet_jobs',
  /** A partition was registered (payload: its id); sent by the watcher in the registering transaction. */
  partitions: PARTITIONS_CHANNEL,
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

interface ListenerEvents {
  notification: [channel: Channel, payload: string];
  /** Each (re)connection: listeners should poll once, since they may have missed hints. */
  connected: [];
  disconnected: [error: Error];
}

export interface NotificationListenerOptions {
  url: string;
  channels: readonly Channel[];
  log: Logger;
  maxBackoffSeconds: number;
  connectTimeoutSeconds: number;
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
    await this.#client?.end().catch(() => {});
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { log, maxBackoffSeconds } = this.#options;
    for (let failures = 0; !this.#stop.signal.aborted; ) {
      try {
        const lost = await this.#listenUntilLost();
        failures = 0;
        if (this.#stop.signal.aborted) return;
        log.warn({ err: lost.message }, 'notification connection lost; reconnecting (polling continues meanwhile)');
        this.emit('disconnected', lost);
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        failures += 1;
        const seconds = Math.min(maxBackoffSeconds, 0.5 * 2 ** (failures - 1));
        log.warn({ attempt: failures, retryInSeconds: seconds, err: (error as Error).message }, 'cannot LISTEN; retrying');
        await delay(seconds * 1000, undefined, { signal: this.#stop.signal }).catch(() => {});
      }
    }
  }

  /** Connects, LISTENs, and resolves with the error that ended the connection. */
  async #listenUntilLost(): Promise<Error> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'freshet-listener',
      connectionTimeoutMillis: this.#options.connectTimeoutSeconds * 1000,
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
      await client.connect();
      for (const channel of this.#options.channels) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    client.on('notification', (message) => this.emit('notification', message.channel as Channel, message.payload ?? ''));
    this.#connected = true;
    this.#options.log.debug({ channels: this.#options.channels }, 'listening for notifications');
    this.emit('connected');
    const error = await lost;
    this.#connected = false;
    await client.end().catch(() => {});
    return error;
  }
}
