// The labels of earlier partitions, with each row's partition and entity: what the gate's
// per-row naive baselines (persistence, a seasonal lag) predict from. Every valid row of
// both splits: a baseline is no model, so nothing of it is "trained" on.
import { type TrainingPartition, type ColumnSpec, type SplitSpec, inputWidth } from './stream-spec.ts';
import { validRowChunks, type SideColumns } from './valid-rows.ts';

export interface LabelHistory {
  /** Each row's partition: its index in the partitions read. */
  partition: Int32Array;
  /** Each row's first side column (the entity's id), or null when no side column was read. */
  entity: Float64Array | null;
  label: Float64Array;
}

export async function readLabelHistory(partitions: readonly TrainingPartition[], columns: ColumnSpec, split: SplitSpec, side?: SideColumns): Promise<LabelHistory> {
  const width = inputWidth(columns) + 1;
  const sideWidth = side?.names.length ?? 0;
  const partition: number[] = [];
  const entity: number[] = [];
  const label: number[] = [];
  for await (const chunk of validRowChunks(partitions, columns, split, 'all', undefined, undefined, undefined, side)) {
    for (let r = 0; r < chunk.rows; r++) {
      partition.push(chunk.partition);
      label.push(chunk.values[r * width + width - 1]!);
      if (sideWidth) entity.push(chunk.side![r * sideWidth]!);
    }
  }
  return { partition: Int32Array.from(partition), entity: sideWidth ? Float64Array.from(entity) : null, label: Float64Array.from(label) };
}
