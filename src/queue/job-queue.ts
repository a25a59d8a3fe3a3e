// The claim protocol of the Postgres job queue: claim with a lease, renew it by
// heartbeat, and settle the job (succeed, fail with capped backoff, release on shutdown).
//
// A job whose lease expired is simply claimable again: the claim statement takes it like
// a queued one, so recovery needs no reaper process and a dead worker's job is picked up
// at most `leaseSeconds` after its last heartbeat. Attempts count failures, not restarts:
// an expired attempt whose run advanced (recordJobProgress since its claim) is not
// counted; one that made no progress is, so a crash loop still ends at max_attempts.
// Every settling statement names the worker that holds the lease: a worker that lost its
// lease (paused, partitioned) can no longer touch the job another worker now owns.
import { sql } from 'kysely';
import type { UpdateObject } from 'kysely';
import type { Database, Job, Registry } from '../registry/index.ts';

export interface LeaseOptions {
  workerId: string;
  leaseSeconds: number;
}

export interface ClaimOptions extends LeaseOptions {
  /** Only jobs of these lineages (a daemon claims the lineages its configuration has); undefined: any. */
  lineages?: readonly string[] | undefined;
  /**
   * Jobs never to take over, even with an expired lease: those another worker of this
   * process is running right now. That worker is alive — its lease expired because the
   * registry was out of reach, and its heartbeat renews it once it is back — and taking it
   * over would have two workers of one process train the same run.
   */
  skipJobIds?: readonly string[] | undefined;
}

/**
 * Claims the next runnable job in one statement: queued and due, or running with an
 * expired lease (attempts left, or the expired attempt made progress); never one whose
 * concurrency key another live job holds. Returns undefined when there is nothing to do.
 * FOR UPDATE SKIP LOCKED lets many workers claim at once without waiting on each other;
 * the row lock also makes the progress comparison and the attempt count one decision.
 */
export async function claimJob(db: Registry, options: ClaimOptions): Promise<Job | undefined> {
  // Two claims that race for jobs with the same concurrency key: the unique index keeps
  // one out, and the loser's error arrives once the winner committed, so claiming again
  // skips that key and may find other work (a job of another key must not be left idle).
  for (let attempt = 0; attempt < 5; attempt++) {
    const claimed = await claimOnce(db, options);
    if (claimed !== 'raced') return claimed;
  }
  return undefined;
}

async function claimOnce(db: Registry, { workerId, leaseSeconds, lineages, skipJobIds }: ClaimOptions): Promise<Job | undefined | 'raced'> {
  try {
    const result = await sql<Job>`
      WITH next AS (
        SELECT j.id FROM jobs j
        WHERE ((j.state = 'queued' AND j.run_at <= now())
               OR (j.state = 'running' AND j.lease_expires_at < now()
                   AND (j.attempts < j.max_attempts OR j.progress > j.progress_at_claim)))
          AND (${lineages ? [...lineages] : null}::text[] IS NULL OR j.payload->>'lineage' = ANY (${lineages ? [...lineages] : null}::text[]))
          AND NOT (j.id = ANY (${[...(skipJobIds ?? [])]}::bigint[]))
          AND (j.concurrency_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM jobs other
                WHERE other.concurrency_key = j.concurrency_key AND other.state = 'running'
                  AND other.id <> j.id AND other.lease_expires_at >= now()))
        ORDER BY j.priority DESC, j.run_at, j.id
        FOR UPDATE SKIP LOCKED
        LIMIT 1
      )
      UPDATE jobs SET
        state = 'running',
        -- An expired attempt that advanced its run gives its count to this one.
        attempts = CASE WHEN jobs.state = 'running' AND jobs.progress > jobs.progress_at_claim
                        THEN jobs.attempts ELSE jobs.attempts + 1 END,
        progress_at_claim = jobs.progress,
        locked_by = ${workerId},
        locked_at = now(),
        heartbeat_at = now(),
        lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
      FROM next WHERE jobs.id = next.id
      RETURNING jobs.*
    `.execute(db);
    return result.rows[0];
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return 'raced';
    throw error;
  }
}

/**
 * The outbox events (job_failed) of the jobs a `failed` CTE just failed for good: the same
 * statement writes both, so a job never fails without its event (README › Notifications).
 */
const jobFailedEvents = sql`events AS (
  INSERT INTO outbox (kind, lineage, payload)
  SELECT 'job_failed', payload->>'lineage', jsonb_build_object('job', id::text, 'kind', kind, 'attempts', attempts, 'error', last_error) FROM failed
)`;

/**
 * Jobs whose lease expired on their last allowed attempt, with no progress made by that
 * attempt, fail for good, keeping the reason. Returns their ids. Cheap; every worker runs
 * it before claiming.
 */
export async function failExhaustedJobs(db: Registry): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    WITH failed AS (
      UPDATE jobs SET
        state = 'failed', locked_by = NULL, lease_expires_at = NULL, finished_at = now(),
        last_error = coalesce(last_error || '; ', '') || 'lease expired on attempt ' || attempts || ' of ' || max_attempts || ' (worker ' || coalesce(locked_by, '?') || ' stopped heartbeating)'
      WHERE state = 'running' AND lease_expires_at < now() AND attempts >= max_attempts AND progress <= progress_at_claim
      RETURNING id, kind, payload, attempts, last_error
    ), ${jobFailedEvents}
    SELECT id FROM failed`.execute(db);
  return rows.rows.map((row) => String(row.id));
}

/**
 * Changes a job only while `workerId` holds its lease: the guard every settling statement
 * shares. False when the worker no longer holds it (the lease expired and another took it).
 */
async function updateHeldJob(db: Registry, jobId: string, workerId: string, changes: UpdateObject<Database, 'jobs'>): Promise<boolean> {
  const row = await db
    .updateTable('jobs')
    .set(changes)
    .where('id', '=', jobId)
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Renews the lease. False when the worker no longer holds it. */
export function heartbeatJob(db: Registry, jobId: string, { workerId, leaseSeconds }: LeaseOptions): Promise<boolean> {
  return updateHeldJob(db, jobId, workerId, { heartbeat_at: sql`now()`, lease_expires_at: sql`now() + make_interval(secs => ${leaseSeconds})` });
}

/**
 * Records that the held job's run advanced (it recorded a checkpoint): if this attempt's
 * lease then expires, the next claim does not count it. False when the lease was lost.
 */
export function recordJobProgress(db: Registry, jobId: string, workerId: string): Promise<boolean> {
  return updateHeldJob(db, jobId, workerId, { progress: sql`progress + 1` });
}

/** Marks the job succeeded. False when the worker had lost the lease. */
export function completeJob(db: Registry, jobId: string, workerId: string): Promise<boolean> {
  return updateHeldJob(db, jobId, workerId, { state: 'succeeded', locked_by: null, lease_expires_at: null, finished_at: sql`now()` });
}

export interface BackoffPolicy {
  backoffSeconds: number;
  maxBackoffSeconds: number;
}

/** Seconds before attempt `attempts + 1`: base · 2^(attempts − 1), capped. */
export function retryDelaySeconds(attempts: number, { backoffSeconds, maxBackoffSeconds }: BackoffPolicy): number {
  return Math.min(maxBackoffSeconds, backoffSeconds * 2 ** Math.max(0, attempts - 1));
}

/**
 * Records a failed attempt: back to the queue after a capped exponential backoff, or
 * failed for good on the last attempt (or when `permanent`). The error text is kept.
 */
export async function failJob(
  db: Registry,
  job: Pick<Job, 'id' | 'attempts' | 'max_attempts'>,
  workerId: string,
  error: string,
  policy: BackoffPolicy & { permanent?: boolean },
): Promise<'retrying' | 'failed' | 'lost'> {
  const final = policy.permanent || job.attempts >= job.max_attempts;
  if (final) {
    // Failed for good: the job and its outbox event (job_failed, for webhooks) in one statement.
    const rows = await sql<{ id: string }>`
      WITH failed AS (
        UPDATE jobs SET state = 'failed', locked_by = NULL, lease_expires_at = NULL, last_error = ${error}, finished_at = now()
        WHERE id = ${job.id} AND state = 'running' AND locked_by = ${workerId}
        RETURNING id, kind, payload, attempts, last_error
      ), ${jobFailedEvents}
      SELECT id FROM failed`.execute(db);
    return rows.rows.length > 0 ? 'failed' : 'lost';
  }
  const delay = retryDelaySeconds(job.attempts, policy);
  const held = await updateHeldJob(db, job.id, workerId, {
    state: 'queued',
    locked_by: null,
    lease_expires_at: null,
    last_error: error,
    run_at: sql`now() + make_interval(secs => ${delay})`,
    finished_at: null,
  });
  return held ? 'retrying' : 'lost';
}

/**
 * Gives the job back without counting the attempt: the worker is shutting down and its
 * job stopped at a checkpoint. Another worker (or this one after a restart) resumes it.
 */
export function releaseJob(db: Registry, jobId: string, workerId: string): Promise<boolean> {
  // A queued job's next claim always counts an attempt: the decrement keeps a shutdown free.
  return updateHeldJob(db, jobId, workerId, { state: 'queued', locked_by: null, lease_expires_at: null, attempts: sql`greatest(attempts - 1, 0)`, run_at: sql`now()` });
}

/** Jobs per state, every state present (zeros included), for metrics and status. */
export async function countJobsByState(db: Registry): Promise<Record<Job['state'], number>> {
  const rows = await db.selectFrom('jobs').select(['state', db.fn.countAll<string>().as('n')]).groupBy('state').execute();
  const counts: Record<Job['state'], number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const row of rows) counts[row.state] = Number(row.n);
  return counts;
}

/**
 * Jobs per lineage (the payload's) and state, every state present for each lineage asked
 * about (0 when none), for the `freshet_jobs{lineage,state}` gauge.
 */
export async function countJobsByLineageAndState(db: Registry, lineages: readonly string[]): Promise<Array<{ lineage: string; state: Job['state']; count: number }>> {
  const rows = await sql<{ lineage: string; state: Job['state']; n: string }>`
    SELECT payload->>'lineage' AS lineage, state, count(*) AS n FROM jobs
    WHERE payload->>'lineage' = ANY (${[...lineages]}::text[])
    GROUP BY 1, 2`.execute(db);
  const states: Array<Job['state']> = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
  return lineages.flatMap((lineage) => states.map((state) => ({ lineage, state, count: Number(rows.rows.find((r) => r.lineage === lineage && r.state === state)?.n ?? 0) })));
}
