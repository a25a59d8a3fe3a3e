// The outbox: events people are told about, written in the transaction that makes them
// true, and their webhook deliveries (retried until a 2xx). Several daemons deliver from
// one outbox: a delivery is claimed with FOR UPDATE SKIP LOCKED, so each is sent by one
// daemon at a time; a receiver drops the rare duplicate (a crash after its 2xx, before
// the delivery was marked) by the event's id.
import { sql } from 'kysely';
import type { Registry } from '../connect.ts';
import type { OutboxKind } from '../schema.ts';

/** One event as a webhook receives it (the JSON body; README › Notifications). */
export interface OutboxEvent {
  id: string;
  outboxId: string;
  type: OutboxKind;
  lineage: string | null;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * The outbox event of a decision: called by recordPromotion in the deciding transaction.
 * One statement builds the payload from the promotions row, the lineage and both versions.
 */
export async function recordDecisionEvent(trx: Registry, promotionId: string): Promise<void> {
  await sql`
    INSERT INTO outbox (kind, lineage, payload)
    SELECT p.decision, l.name, jsonb_build_object(
             'decision', p.decision, 'version', cv.version, 'previousChampion', chv.version,
             'constant', cv.constant, 'metricName', p.metric_name, 'candidateMetric', p.candidate_metric,
             'championMetric', p.champion_metric, 'naiveMetric', p.naive_metric, 'naiveName', p.naive_name,
             'gateRows', p.holdout, 'reason', p.reason, 'actor', p.actor, 'run', p.run_id::text, 'promotion', p.id::text)
    FROM promotions p
    JOIN lineages l ON l.id = p.lineage_id
    LEFT JOIN model_versions cv ON cv.id = p.candidate_version_id
    LEFT JOIN model_versions chv ON chv.id = p.champion_version_id
    WHERE p.id = ${promotionId}
  `.execute(trx);
}

/** An event that is not a decision (quarantined, drift): written in the caller's transaction. */
export async function recordOutboxEvent(trx: Registry, kind: Extract<OutboxKind, 'quarantined' | 'drift'>, lineage: string, payload: Record<string, unknown>): Promise<void> {
  await trx.insertInto('outbox').values({ kind, lineage, payload: JSON.stringify(payload) }).execute();
}

/** Registers a webhook URL: the events after the newest one now are its to receive. Idempotent. */
export async function registerWebhook(db: Registry, url: string): Promise<void> {
  await sql`INSERT INTO webhooks (url, since_id) SELECT ${url}, coalesce(max(id), 0) FROM outbox ON CONFLICT (url) DO NOTHING`.execute(db);
}

/** Creates the deliveries of the events a webhook has not been given yet (of the kinds it wants). */
export async function fanOutDeliveries(db: Registry, url: string, kinds: readonly OutboxKind[]): Promise<number> {
  const result = await sql`
    INSERT INTO webhook_deliveries (outbox_id, url)
    SELECT o.id, w.url FROM outbox o JOIN webhooks w ON w.url = ${url} AND o.id > w.since_id
    WHERE o.kind = ANY (${[...kinds]}::text[])
    ON CONFLICT DO NOTHING`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Runs `send` for the due deliveries of one webhook, oldest event first, each claimed
 * (FOR UPDATE SKIP LOCKED) for the time of its send, then marked delivered or scheduled
 * again after `retryDelaySeconds(attempts)`. Returns how many were delivered.
 */
export async function deliverDue(
  db: Registry,
  url: string,
  limit: number,
  send: (event: OutboxEvent) => Promise<void>,
  retryDelaySeconds: (attempts: number) => number,
): Promise<{ delivered: number; failed: number }> {
  let delivered = 0;
  let failed = 0;
  for (let i = 0; i < limit; i++) {
    const done = await db.transaction().execute(async (trx) => {
      const due = await sql<{ outbox_id: string; attempts: number; event_id: string; kind: OutboxKind; lineage: string | null; payload: Record<string, unknown>; created_at: Date }>`
        SELECT d.outbox_id, d.attempts, o.event_id, o.kind, o.lineage, o.payload, o.created_at
        FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
        WHERE d.url = ${url} AND d.delivered_at IS NULL AND d.next_attempt_at <= now()
        ORDER BY d.outbox_id
        FOR UPDATE OF d SKIP LOCKED
        LIMIT 1`.execute(trx);
      const row = due.rows[0];
      if (!row) return 'none' as const;
      const event: OutboxEvent = { id: row.event_id, outboxId: String(row.outbox_id), type: row.kind, lineage: row.lineage, createdAt: row.created_at.toISOString(), data: row.payload };
      try {
        await send(event);
        await sql`UPDATE webhook_deliveries SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE outbox_id = ${row.outbox_id} AND url = ${url}`.execute(trx);
        return 'delivered' as const;
      } catch (error) {
        const message = (error as Error).message.slice(0, 1000);
        await sql`UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ${message}, next_attempt_at = now() + make_interval(secs => ${retryDelaySeconds(row.attempts + 1)}) WHERE outbox_id = ${row.outbox_id} AND url = ${url}`.execute(trx);
        return 'failed' as const;
      }
    });
    if (done === 'none') break;
    if (done === 'delivered') delivered += 1;
    else failed += 1;
  }
  return { delivered, failed };
}

/** Deliveries not yet made (per webhook): what the status and the tests ask. */
export async function pendingDeliveries(db: Registry, url?: string): Promise<number> {
  let query = db.selectFrom('webhook_deliveries').select(db.fn.countAll<string>().as('n')).where('delivered_at', 'is', null);
  if (url !== undefined) query = query.where('url', '=', url);
  return Number((await query.executeTakeFirstOrThrow()).n);
}
