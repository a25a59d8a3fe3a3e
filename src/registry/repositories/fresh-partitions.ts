// What is fresh: the one definition that the retrain policy, the retrain planner, the
// status report and page, the demo and the tests all use (docs/architecture.md › Fresh data).
import { sql } from 'kysely';
import type { Registry } from '../connect.ts';
import { chainCteSql, headRunSql } from './run-chain.ts';

export interface FreshPartition {
  id: string;
  path: string;
  rows: number | null;
  arrivedAt: Date;
  /**
   * A finished run of the lineage already trained on it (a candidate the gate rejected)
   * or was gated on it (the forward holdout of eval.holdout newest). Still fresh, since the
   * serving model has not learned from it, so the next retrain trains on it; but it no
   * longer counts towards triggering one.
   */
  tried: boolean;
}

/**
 * The lineage's fresh partitions: registered partitions that the weights of its head
 * model have not learned from, i.e. no run in the head's chain trained or replayed them.
 * Only the partitions of the lineage's source (its data location). The head and the chain are run-chain.ts's (the champion's run, else the newest
 * succeeded run, else none: then everything registered is fresh). A lineage that does not
 * exist yet (`lineageId` null) has everything fresh and nothing tried.
 *
 * One statement, so a decision committed meanwhile is either wholly seen or not at all.
 */
export async function freshPartitions(db: Registry, lineage: { id: string | null; source: string }): Promise<FreshPartition[]> {
  const lineageId = lineage.id;
  const rows = await sql<{ id: string; path: string; row_count: string | null; arrived_at: Date; tried: boolean }>`
    WITH RECURSIVE ${chainCteSql(headRunSql(lineageId))},
    learned AS (
      SELECT rp.partition_id FROM chain JOIN run_partitions rp ON rp.run_id = chain.run_id WHERE rp.role IN ('train', 'replay')
    )
    SELECT p.id, p.path, p.row_count, p.arrived_at,
           EXISTS (SELECT 1 FROM run_partitions rp JOIN runs r ON r.id = rp.run_id
                   WHERE rp.partition_id = p.id AND rp.role IN ('train', 'gate') AND r.status = 'succeeded'
                     AND r.lineage_id = ${lineageId}) AS tried
    FROM partitions p
    WHERE p.source = ${lineage.source} AND p.status = 'registered' AND p.id NOT IN (SELECT partition_id FROM learned)
    ORDER BY p.path COLLATE "C"
  `.execute(db);
  return rows.rows.map((r) => ({ id: String(r.id), path: r.path, rows: r.row_count === null ? null : Number(r.row_count), arrivedAt: r.arrived_at, tried: r.tried }));
}
