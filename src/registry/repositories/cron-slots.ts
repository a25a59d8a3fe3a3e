// Cron slots: one row per (schedule, slot) tick, so that one daemon acts on each tick.
import { sql } from 'kysely';
import type { Registry } from '../connect.ts';

/**
 * Claims a slot of a schedule. True for exactly one caller per (schedule, slot): the
 * primary key decides, so clocks only need to agree to within the schedule's resolution.
 */
export async function claimCronSlot(db: Registry, schedule: string, slot: Date, claimedBy: string): Promise<boolean> {
  const result = await sql`
    INSERT INTO cron_slots (schedule, slot, claimed_by) VALUES (${schedule}, ${slot}, ${claimedBy})
    ON CONFLICT DO NOTHING
  `.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}
