// Events out (issue #28, notifications): an outbox of the events people are told about —
// decisions (promoted, rejected, fallback, manual, rollback) and jobs that failed for good —
// written in the same transaction (or statement) as what they report, so none is lost; and
// the webhooks' deliveries of them, retried with backoff until the receiver answers 2xx.
// Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE outbox (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- The receiver's idempotency key: the same event delivered twice carries the same one.
      event_id      uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
      kind          text NOT NULL CHECK (kind IN ('promoted', 'rejected', 'fallback', 'manual', 'rollback', 'job_failed', 'quarantined', 'drift')),
      lineage       text,
      payload       jsonb NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now()
    );

    -- A webhook URL as the daemons know it: events after since_id are its to receive (a
    -- webhook added later does not get the history).
    CREATE TABLE webhooks (
      url           text PRIMARY KEY,
      since_id      bigint NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE webhook_deliveries (
      outbox_id       bigint NOT NULL REFERENCES outbox(id),
      url             text NOT NULL REFERENCES webhooks(url),
      attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      delivered_at    timestamptz,
      last_error      text,
      PRIMARY KEY (outbox_id, url)
    );
    CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (url, next_attempt_at) WHERE delivered_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE webhook_deliveries, webhooks, outbox`.execute(db);
}
