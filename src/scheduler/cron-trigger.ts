// The schedule: a node-cron task in every daemon, and a row per slot in Postgres so that
// exactly one daemon acts on each tick however many run the same schedule.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../core/log.ts';
import { claimCronSlot, type Registry } from '../registry/index.ts';
import { coerceError } from '../core/errors.ts';

/** The scheduled time of a tick, to the second: every process derives the same slot from it. */
export function slotOf(scheduledAt: Date): Date {
  return new Date(Math.floor(scheduledAt.getTime() / 1000) * 1000);
}

export interface CronTriggerOptions {
  db: Registry;
  schedule: string;
  processId: string;
  log: Logger;
  /** Runs in the one process that won the slot. */
  onSlot: (slot: Date) => Promise<void>;
}

/** Starts the schedule; returns a function that stops it. */
export function startCronTrigger({ db, schedule, processId, log, onSlot }: CronTriggerOptions): () => Promise<void> {
  const running = new Set<Promise<void>>();
  const task: ScheduledTask = cron.schedule(
    schedule,
    (context) => {
      const slot = slotOf(context.date);
      const work = (async () => {
        try {
          if (!(await claimCronSlot(db, schedule, slot, processId))) {
            log.debug({ slot }, 'cron slot taken by another process');
            return;
          }
          log.info({ schedule, slot }, 'cron slot claimed');
          await onSlot(slot);
        } catch (error) {
          // The database may be down: this slot is lost, the next one tries again.
          log.warn({ slot, err: coerceError(error).message }, 'cron tick failed');
        }
      })();
      running.add(work);
      void work.finally(() => running.delete(work));
    },
    { name: 'freshet-retrain' },
  );
  return async () => {
    await task.stop();
    await Promise.all(running);
  };
}
