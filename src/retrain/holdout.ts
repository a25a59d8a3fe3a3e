// Which fresh partitions are the gate rows (eval.holdout). The forward gate keeps the
// newest fresh partition(s) out of the candidate's training, validation and base choice,
// and scores candidate, champion and the naive baselines on them: the question the gate
// answers is then "which model serves the next period better", not "which fits this one".
import type { ResolvedConfig } from '../core/config.ts';
import type { TrainingPartition } from '../trainer/index.ts';

export interface HoldoutSplit {
  /** Fresh partitions the candidate trains and validates on. */
  train: TrainingPartition[];
  /** Partitions whose every row is a gate row (empty: the gate uses the validation rows). */
  gate: TrainingPartition[];
  holdout: 'newest' | 'random';
  /** Why, when eval.holdout newest could not be honoured, or how the newest was ordered. */
  note: string;
}

/** A Hive-style path (`dt=2026-11-26`, `year=2026/month=11`): its key order is its path order. */
function hasPartitionKey(partitionPath: string): boolean {
  return partitionPath.split('/').every((segment) => /^[^=]+=.+$/.test(segment));
}

/**
 * Splits `fresh` (each with its registration time) into training and gate partitions.
 * Newest is by partition key (path order) when every path is Hive-style `key=value`;
 * otherwise by registration time, then id, since a path like `batch-a` says nothing of
 * time. With no more fresh partitions than eval.holdoutPartitions, keeping the newest out
 * would leave nothing fresh to learn: that decision uses the random holdout, said so.
 */
export function splitHoldout(fresh: ReadonlyArray<TrainingPartition & { arrivedAt?: Date }>, rules: ResolvedConfig['eval']): HoldoutSplit {
  if (rules.holdout === 'random') return { train: [...fresh], gate: [], holdout: 'random', note: 'eval.holdout random: the fresh partitions\' held-out rows' };
  if (fresh.length <= rules.holdoutPartitions) {
    return {
      train: [...fresh],
      gate: [],
      holdout: 'random',
      note: `only ${fresh.length} fresh partition${fresh.length === 1 ? '' : 's'}, not more than eval.holdoutPartitions ${rules.holdoutPartitions}: gated on the held-out rows of the partitions it trained on (as eval.holdout random)`,
    };
  }
  const byKey = fresh.every((p) => hasPartitionKey(p.path));
  const ordered = byKey
    ? [...fresh].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    : [...fresh].sort((a, b) => (a.arrivedAt?.getTime() ?? 0) - (b.arrivedAt?.getTime() ?? 0) || Number(BigInt(a.id) - BigInt(b.id)));
  const gate = ordered.slice(-rules.holdoutPartitions);
  const gateIds = new Set(gate.map((p) => p.id));
  return {
    train: fresh.filter((p) => !gateIds.has(p.id)),
    gate,
    holdout: 'newest',
    note: `the newest ${gate.length === 1 ? 'partition' : `${gate.length} partitions`} ${gate.map((p) => p.path).join(', ')} by ${byKey ? 'partition key' : 'registration time (the paths carry no key=value)'}`,
  };
}
