// Delivers the outbox's events to the configured webhooks: every notify.pollSeconds (and
// when woken after a decision), for each webhook, the new events of the kinds it wants
// become deliveries, and the due ones are POSTed, oldest first — retried with capped
// exponential backoff until the receiver answers 2xx, so an event is never lost while a
// receiver is down (nor when the daemon dies before delivering: the outbox is in the
// registry). Each request carries the event's id (the receiver's idempotency key) and,
// with a secret, an HMAC-SHA256 signature (signature.ts).
import type { ResolvedConfig } from '../core/config.ts';
import { coerceError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { deliverDue, fanOutDeliveries, registerWebhook, type OutboxEvent, type Registry } from '../registry/index.ts';
import { signatureHeader } from './signature.ts';

type Webhook = ResolvedConfig['notify']['webhooks'][number];

export class WebhookNotifier {
  readonly #db: Registry;
  readonly #notify: ResolvedConfig['notify'];
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor({ db, config, log }: { db: Registry; config: ResolvedConfig; log: Logger }) {
    this.#db = db;
    this.#notify = config.notify;
    this.#log = log.child({ module: 'notify' });
  }

  async start(): Promise<void> {
    for (const webhook of this.#notify.webhooks) await registerWebhook(this.#db, webhook.url);
    this.#timer = setInterval(() => this.wake(), this.#notify.pollSeconds * 1000);
    this.#timer.unref();
    this.wake();
  }

  /** Delivers what is due now (a pass already running runs once more after it). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((error: unknown) => this.#log.warn({ err: coerceError(error).message }, 'delivering webhooks failed; the next pass retries'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<void> {
    for (const webhook of this.#notify.webhooks) {
      if (this.#stopped) return;
      await fanOutDeliveries(this.#db, webhook.url, webhook.events);
      const { delivered, failed } = await deliverDue(this.#db, webhook.url, 50, (event) => this.#send(webhook, event), (attempts) => this.#retryDelaySeconds(attempts));
      if (delivered || failed) this.#log.info({ url: webhook.url, delivered, failed }, 'webhook deliveries');
    }
  }

  #retryDelaySeconds(attempts: number): number {
    return Math.min(this.#notify.maxBackoffSeconds, this.#notify.backoffSeconds * 2 ** Math.max(0, attempts - 1));
  }

  async #send(webhook: Webhook, event: OutboxEvent): Promise<void> {
    const body = JSON.stringify({ id: event.id, type: event.type, lineage: event.lineage, createdAt: event.createdAt, data: event.data });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'freshet-webhooks/1', 'x-freshet-event': event.type, 'x-freshet-event-id': event.id };
    if (webhook.secret) headers['x-freshet-signature'] = signatureHeader(webhook.secret, body);
    let response: Response;
    try {
      response = await fetch(webhook.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.#notify.timeoutSeconds * 1000) });
    } catch (error) {
      throw new Error(`${webhook.url}: ${coerceError(error).message}`, { cause: error });
    }
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new Error(`${webhook.url}: HTTP ${response.status}`);
  }
}
