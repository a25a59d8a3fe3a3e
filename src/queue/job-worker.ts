// A worker: claims jobs, holds their lease by heartbeat while a handler runs them, and
// settles them. Idle, it sleeps until a NOTIFY hint or the next poll, whichever is first.
// It never crashes on a database error: it logs, backs off, and tries again.
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { coerceError, PermanentError } from '../core/errors.ts';
import { safeEmit } from '../core/safe-emit.ts';
import type { Logger } from '../core/log.ts';
import { isTransientDatabaseError, type Job, type Registry } from '../registry/index.ts';
import { retryTransient } from '../core/retry.ts';
import { claimJob, completeJob, failExhaustedJobs, failJob, heartbeatJob, recordJobProgress, releaseJob, type BackoffPolicy } from './job-queue.ts';

export interface JobContext {
  /** Aborted on shutdown or when the lease was lost; the handler should stop at a safe point. */
  signal: AbortSignal;
  /** True once another worker may own the job: write nothing more. */
  leaseLost(): boolean;
  /**
   * The job's work advanced (its run recorded a checkpoint): if this attempt then dies,
   * it does not use up one of the job's attempts. Fire and forget; never throws.
   */
  progressed(): void;
  log: Logger;
}

/** `interrupted`: stopped early at a safe point (shutdown); the job goes back to the queue. */
export type JobOutcome = 'done' | 'interrupted';
export type JobHandler = (job: Job, context: JobContext) => Promise<JobOutcome>;

export interface JobWorkerOptions {
  db: Registry;
  workerId: string;
  /** Only claim jobs of these lineages (undefined: any lineage's). */
  lineages?: readonly string[];
  /** The jobs this process's other workers are running now, which this one never takes over (claimJob's skipJobIds). */
  runningElsewhere?: () => readonly string[];
  handlers: Partial<Record<Job['kind'], JobHandler>>;
  log: Logger;
  leaseSeconds: number;
  heartbeatSeconds: number;
  pollIntervalSeconds: number;
  maxBackoffSeconds: number;
  backoff: BackoffPolicy;
}

/** How an attempt ended, as the queue recorded it. */
export type SettledOutcome = 'succeeded' | 'retrying' | 'failed' | 'released' | 'lost';

interface WorkerEvents {
  settled: [job: Job, outcome: SettledOutcome, seconds: number];
}

export class JobWorker extends EventEmitter<WorkerEvents> {
  readonly #options: JobWorkerOptions;
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #current: string | undefined;

  constructor(options: JobWorkerOptions) {
    super();
    this.#options = options;
  }

  get running(): boolean {
    return this.#loop !== undefined && !this.#stop.signal.aborted;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** A hint that a job may be waiting (NOTIFY, or an enqueue in this process). */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Claims one job, if one is claimable, and runs it exactly as the loop does (lease,
   * heartbeats, the handler, settling, the `settled` event); resolves with the job and how
   * it ended, or undefined when there was nothing to claim. For the backtest and tests,
   * which step the queue one job at a time: they go through the same code as a daemon.
   */
  async runOnce(): Promise<{ job: Job; outcome: SettledOutcome } | undefined> {
    const { db, workerId, leaseSeconds } = this.#options;
    const job = await claimJob(db, { workerId, leaseSeconds, lineages: this.#options.lineages, skipJobIds: this.#options.runningElsewhere?.() });
    if (!job) return undefined;
    return { job, outcome: await this.#execute(job) };
  }

  /** Stops claiming, lets the current job reach a safe point, settles it. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { db, log, workerId, leaseSeconds } = this.#options;
    let lastSweep = 0;
    const claimNext = async (): Promise<Job | undefined> => {
      // Once per poll interval, not on every wake-up: it only tidies jobs nobody can claim.
      if (performance.now() - lastSweep >= this.#options.pollIntervalSeconds * 1000) {
        lastSweep = performance.now();
        const exhausted = await failExhaustedJobs(db);
        if (exhausted.length) log.error({ jobs: exhausted }, 'jobs failed for good: their lease expired on the last attempt');
      }
      return claimJob(db, { workerId, leaseSeconds, lineages: this.#options.lineages, skipJobIds: this.#options.runningElsewhere?.() });
    };
    while (!this.#stop.signal.aborted) {
      let job: Job | undefined;
      try {
        job = await retryTransient(claimNext, { signal: this.#stop.signal, log, what: 'claiming a job', maxBackoffSeconds: this.#options.maxBackoffSeconds, isTransient: isTransientDatabaseError });
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        throw error;
      }
      if (!job) {
        await this.#sleep(this.#options.pollIntervalSeconds);
        continue;
      }
      try {
        await this.#execute(job);
      } catch (error) {
        // Settling hit an error that is not an outage; the lease will expire and the
        // job be re-claimed. The worker itself goes on.
        log.error({ job: job.id, err: error }, 'job could not be settled; it will be re-claimed after its lease');
      }
    }
  }

  /** Sleeps until woken, stopped, or the time passes. */
  async #sleep(seconds: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    const timer = delay(seconds * 1000, undefined, { signal: this.#stop.signal }).catch(() => {});
    await Promise.race([woken, timer]);
    this.#wake = undefined;
  }

  /** The job this worker is running now (claimed and not yet settled), if any. */
  get currentJobId(): string | undefined {
    return this.#current;
  }

  async #execute(job: Job): Promise<SettledOutcome> {
    this.#current = job.id;
    try {
      return await this.#executeHeld(job);
    } finally {
      this.#current = undefined;
    }
  }

  async #executeHeld(job: Job): Promise<SettledOutcome> {
    const { db, workerId, leaseSeconds, handlers } = this.#options;
    const log = this.#options.log.child({ job: job.id, kind: job.kind, lineage: job.lineage_id ?? undefined });
    const started = performance.now();
    log.info({ attempt: job.attempts, maxAttempts: job.max_attempts }, 'job claimed');

    const abort = new AbortController();
    let lost = false;
    const onStop = (): void => abort.abort(new Error('shutting down'));
    this.#stop.signal.addEventListener('abort', onStop);
    const heartbeat = setInterval(() => {
      heartbeatJob(db, job.id, { workerId, leaseSeconds })
        .then((held) => {
          if (held || lost) return;
          lost = true;
          log.error('lease lost (it expired and another worker took the job); stopping without writing more');
          abort.abort(new Error('lease lost'));
        })
        .catch((error: Error) => {
          // The registry is down: keep training; if the outage outlasts the lease, another
          // worker may take over, and the next heartbeat tells us.
          log.warn({ err: error.message }, 'heartbeat failed; retrying at the next beat');
        });
    }, this.#options.heartbeatSeconds * 1000);

    let outcome: SettledOutcome;
    try {
      const handler = handlers[job.kind];
      if (!handler) throw new PermanentError(`this worker has no handler for jobs of kind ${job.kind}`);
      const progressed = (): void => {
        recordJobProgress(db, job.id, workerId).catch((error: Error) => log.warn({ err: error.message }, 'could not record the job\'s progress; a crash now would count this attempt'));
      };
      const result = await handler(job, { signal: abort.signal, leaseLost: () => lost, progressed, log });
      clearInterval(heartbeat);
      if (lost) outcome = 'lost';
      else if (result === 'interrupted') outcome = (await this.#settle(() => releaseJob(db, job.id, workerId), log)) === true ? 'released' : 'lost';
      else outcome = (await this.#settle(() => completeJob(db, job.id, workerId), log)) === true ? 'succeeded' : 'lost';
    } catch (error) {
      clearInterval(heartbeat);
      const message = coerceError(error).message || String(error);
      if (lost) outcome = 'lost';
      else {
        const permanent = error instanceof PermanentError; // by class: rewording a message cannot turn it into retries
        outcome = await this.#settle(() => failJob(db, job, workerId, message, { ...this.#options.backoff, permanent }), log);
        log.error({ err: message, outcome }, outcome === 'retrying' ? 'job failed; it will be retried' : 'job failed');
      }
    } finally {
      clearInterval(heartbeat);
      this.#stop.signal.removeEventListener('abort', onStop);
    }
    const seconds = (performance.now() - started) / 1000;
    if (outcome === 'lost') log.warn('the job was taken over by another worker; this worker recorded nothing');
    else log.info({ outcome, seconds: Math.round(seconds * 10) / 10 }, 'job settled');
    safeEmit(log, 'settled', () => this.emit('settled', job, outcome, seconds));
    return outcome;
  }

  /**
   * Settling must reach the registry: retry through an outage until the lease would have
   * expired anyway (then the job is re-claimed and its handler finds the work done).
   */
  async #settle<T>(statement: () => Promise<T>, log: Logger): Promise<T | 'lost'> {
    const deadline = AbortSignal.timeout(this.#options.leaseSeconds * 1000);
    try {
      return await retryTransient(statement, { signal: deadline, log, what: 'settling the job', maxBackoffSeconds: 5, isTransient: isTransientDatabaseError });
    } catch (error) {
      if (!isTransientDatabaseError(error) && !deadline.aborted) throw error;
      log.error({ err: coerceError(error).message }, 'could not settle the job before its lease ran out; another worker will re-run it');
      return 'lost';
    }
  }
}
