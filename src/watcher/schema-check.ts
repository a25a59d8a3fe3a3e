// A new partition against the schemas of the lineages that read its source: the anomalies
// found, each with its lineage, and whether any of them blocks (validation.mode block).
// A lineage without a schema gets one inferred from its first model's partitions here, the
// first time a partition arrives after that model; before its first model there is
// nothing to check against.
import { findAnomalies, newValueShares, type PartitionStats, type SampledValues } from '../data/index.ts';
import { inferLineageSchema, type LineageAnomaly, type Registry } from '../registry/index.ts';

/** A lineage reading the source, what an anomaly against its schema does, and its label column. */
export interface SchemaCheck {
  lineage: string;
  mode: 'block' | 'warn' | 'off';
  label: string | undefined;
}

export interface SchemaVerdict {
  anomalies: LineageAnomaly[];
  /** Anomalies of lineages in block mode: the partition is quarantined. */
  blocking: LineageAnomaly[];
  /** Per lineage checked: each categorical column's share of values outside its domain. */
  newValueShare: Record<string, Record<string, number>>;
}

export async function checkAgainstSchemas(db: Registry, checks: readonly SchemaCheck[], stats: PartitionStats, sample: SampledValues): Promise<SchemaVerdict> {
  const anomalies: LineageAnomaly[] = [];
  const blocking: LineageAnomaly[] = [];
  const newValueShare: Record<string, Record<string, number>> = {};
  for (const { lineage, mode, label } of checks) {
    if (mode === 'off') continue;
    const stored = await inferLineageSchema(db, lineage, { by: 'freshet (inferred from the first model)', onlyIfMissing: true, label, from: 'first-model' });
    if (!stored) continue;
    newValueShare[lineage] = newValueShares(stored.schema, sample);
    for (const anomaly of findAnomalies(stored.schema, stats, sample)) {
      const tagged = { lineage, ...anomaly };
      anomalies.push(tagged);
      if (mode === 'block') blocking.push(tagged);
    }
  }
  return { anomalies, blocking, newValueShare };
}
