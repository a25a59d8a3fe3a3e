// Drift as a retrain trigger (beside cron and arrival): each fresh partition against the
// champion's training partitions, per column, from their stored statistics. Why each
// partition and not the fresh window as one: a partition is the unit people look at,
// accept or reject, and a day that drifted is diluted in a window that also holds days
// that did not. Per column the most drifted partition replaces the lineage's row in
// feature_drift (status page, metrics); a column that crosses its threshold is announced
// once (a `drift` event in the outbox, for webhooks), and with retrain.onDrift the crossing
// queues a retrain.
import type { ResolvedConfig } from '../core/config.ts';
import { columnDrift, driftReference, type ColumnDrift } from '../data/index.ts';
import { driftInputs, recordOutboxEvent, saveFeatureDrift, type DriftRow, type Registry } from '../registry/index.ts';

/** A column's drift in its most drifted fresh partition (none, value 0, when nothing is fresh). */
export interface PartitionDrift extends ColumnDrift {
  partitionId: string | null;
  path: string | null;
}

export interface DriftUpdate {
  /** Every column's drift (empty: no champion, or nothing fresh). */
  columns: PartitionDrift[];
  /** Columns that drifted now and did not before (ignored columns never count). */
  crossed: PartitionDrift[];
}

/** The threshold a column's drift is held to (Infinity: an ignored column never drifts). */
export function driftThreshold(config: Pick<ResolvedConfig, 'drift'>, drift: ColumnDrift): number {
  if (config.drift.ignoreColumns.includes(drift.column)) return Infinity;
  return drift.method === 'psi' ? config.drift.psiThreshold : config.drift.jsThreshold;
}

export async function updateDrift(db: Registry, config: ResolvedConfig): Promise<DriftUpdate> {
  const inputs = await driftInputs(db, { name: config.lineage, source: config.dataDir });
  if (!inputs) return { columns: [], crossed: [] };
  const reference = driftReference(inputs.reference); // once: every fresh partition is held against it
  const most = new Map<string, PartitionDrift>();
  for (const partition of inputs.fresh) {
    for (const d of columnDrift(reference, [partition.stats])) {
      if (d.value > (most.get(d.column)?.value ?? -1)) most.set(d.column, { ...d, partitionId: partition.id, path: partition.path });
    }
  }
  // Nothing fresh (the champion learned every partition): no column drifts. Rows at 0 keep
  // the table and the metric's series continuous, instead of vanishing after each promotion.
  if (inputs.fresh.length === 0) {
    for (const [column, ref] of reference.columns) most.set(column, { column, method: ref.kind === 'numeric' ? 'psi' : 'jensen_shannon', value: 0, partitionId: null, path: null });
  }
  const columns = [...most.values()];
  const rows: DriftRow[] = columns.map((d) => {
    const threshold = driftThreshold(config, d);
    return { column_name: d.column, partition_id: d.partitionId, partition_path: d.path, method: d.method, value: d.value, threshold, drifted: d.value > threshold, reference_partitions: inputs.reference.length, fresh_partitions: inputs.fresh.length };
  });
  const crossedNames = await saveFeatureDrift(db, inputs.lineageId, rows, async (trx, crossed) => {
    await recordOutboxEvent(trx, 'drift', config.lineage, {
      columns: rows.filter((r) => crossed.includes(r.column_name)).map((r) => ({ column: r.column_name, method: r.method, value: r.value, threshold: r.threshold, partition: r.partition_id, path: r.partition_path })),
      freshPartitions: inputs.fresh.map((p) => ({ id: p.id, path: p.path })),
      referencePartitions: inputs.reference.length,
    });
  });
  return { columns, crossed: columns.filter((d) => crossedNames.includes(d.column)) };
}
