// Job rows. Claiming, leases and retries belong to the scheduler; here: enqueue and read.
import type { Registry } from '../connect.ts';
import type { Job, JobState, NewJob } from '../schema.ts';

/**
 * Enqueues a job. With a singleton key, at most one queued-or-running job holds that key
 * (a partial unique index): a second enqueue returns the live job instead of a new one.
 */
export async function enqueueJob(db: Registry, job: NewJob): Promise<{ job: Job; created: boolean }> {
  const inserted = await db
    .insertInto('jobs')
    .values(job)
    .onConflict((oc) =>
      oc.column('singleton_key').where('singleton_key', 'is not', null).where('state', 'in', ['queued', 'running']).doNothing(),
    )
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { job: inserted, created: true };
  const live = await db
    .selectFrom('jobs')
    .selectAll()
    .where('singleton_key', '=', job.singleton_key ?? null)
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirst();
  if (!live) return enqueueJob(db, job); // the live one finished between the two statements
  return { job: live, created: false };
}

export async function listJobs(db: Registry, filter: { state?: JobState; limit?: number } = {}): Promise<Job[]> {
  let query = db.selectFrom('jobs').selectAll().orderBy('id', 'desc');
  if (filter.state) query = query.where('state', '=', filter.state);
  return query.limit(filter.limit ?? 100).execute();
}

/** One job by id (undefined when there is none). */
export async function getJob(db: Registry, id: string): Promise<Job | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Jobs queued or running, oldest first (at most `limit`). */
export async function listLiveJobs(db: Registry, limit = 20): Promise<Job[]> {
  return db.selectFrom('jobs').selectAll().where('state', 'in', ['queued', 'running']).orderBy('id').limit(limit).execute();
}
