// Decides when the lineage retrains: on each cron slot this process wins, on data arrival
// (its own watcher's registrations and, by LISTEN, every other daemon's), and after each
// finished job (data that arrived during a run). Checks never overlap in one process; one
// asked for during a check runs once more after it, so a burst of arrivals costs two
// checks and yields at most one queued job (the enqueue is idempotent as well).
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../registry/index.ts';
import { startCronTrigger } from './cron-trigger.ts';
import { enqueueRetrain, evaluateRetrainPolicy } from './retrain-policy.ts';
import { coerceError } from '../core/errors.ts';
import { updateDrift } from './drift-monitor.ts';

export type TriggerKind = 'cron' | 'arrival' | 'drift';

export interface RetrainSchedulerOptions {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  processId: string;
  /** Called after a job was enqueued here (to wake this process's worker at once). */
  onEnqueued?: () => void;
}

export class RetrainScheduler {
  readonly #options: RetrainSchedulerOptions;
  readonly #log: Logger;
  #stopCron: (() => Promise<void>) | undefined;
  #checking: Promise<void> | undefined;
  #again: { trigger: TriggerKind; slot?: Date } | undefined;
  #stopped = false;

  constructor(options: RetrainSchedulerOptions) {
    this.#options = options;
    this.#log = options.log.child({ module: 'scheduler', lineage: options.config.lineage });
  }

  start(): void {
    const { db, config, processId } = this.#options;
    if (config.retrain.schedule) {
      this.#stopCron = startCronTrigger({ db, schedule: config.retrain.schedule, processId, log: this.#log, onSlot: (slot) => this.check('cron', slot) });
      this.#log.info({ schedule: config.retrain.schedule }, 'retrain schedule started');
    }
  }

  /** Data arrived (a hint; the policy reads the registry). Drift is recomputed whatever retrain.onArrival says. */
  dataArrived(): void {
    void this.check('arrival');
  }

  /** Checks the policy and enqueues when it says so. Never throws (logs instead). */
  check(trigger: TriggerKind, slot?: Date): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#checking) {
      // A cron slot is never folded into an arrival check: keep the slot's trigger.
      if (!this.#again || trigger === 'cron') this.#again = { trigger, ...(slot ? { slot } : {}) };
      return this.#checking;
    }
    this.#checking = this.#check(trigger, slot).finally(() => {
      this.#checking = undefined;
      const again = this.#again;
      this.#again = undefined;
      if (again) void this.check(again.trigger, again.slot);
    });
    return this.#checking;
  }

  async #check(trigger: TriggerKind, slot: Date | undefined): Promise<void> {
    const { db, config } = this.#options;
    try {
      const drift = await updateDrift(db, config);
      if (drift.crossed.length > 0) {
        const described = drift.crossed.map((d) => `${d.column} ${d.method === 'psi' ? 'PSI' : 'JS distance'} ${d.value.toFixed(3)} in ${d.path}`).join(', ');
        this.#log.warn({ columns: drift.crossed }, `drift: ${described}`);
        if (config.retrain.onDrift) {
          await this.#enqueue({ trigger: 'drift', reason: `drift: ${described} (retrain.onDrift)` });
          return;
        }
      }
      if (trigger === 'arrival' && !config.retrain.onArrival) return;
      const verdict = await evaluateRetrainPolicy(db, config, config.retrain);
      if (!verdict.due) {
        this.#log.debug({ trigger, reason: verdict.reason }, 'no retrain due');
        return;
      }
      await this.#enqueue({ trigger, reason: verdict.reason, watermark: verdict.watermark, lineageId: verdict.lineageId, ...(slot ? { slot } : {}) });
    } catch (error) {
      this.#log.warn({ trigger, err: coerceError(error).message }, 'retrain policy check failed; the next trigger tries again');
    }
  }

  async #enqueue(request: { trigger: TriggerKind; reason: string; watermark?: string | null; lineageId?: string | null; slot?: Date }): Promise<void> {
    const { db, config } = this.#options;
    const { job, created } = await enqueueRetrain(db, { lineage: config.lineage, maxAttempts: config.queue.maxAttempts, ...request });
    if (created) {
      this.#log.info({ job: job.id, trigger: request.trigger, reason: request.reason }, 'retrain enqueued');
      this.#options.onEnqueued?.();
    } else this.#log.debug({ job: job.id, state: job.state }, 'a retrain is already queued or running; coalesced');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#stopCron?.();
    await this.#checking;
  }
}
