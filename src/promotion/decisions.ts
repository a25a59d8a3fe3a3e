// Changing the champion. Only three ways, each one transaction that also writes its
// `promotions` row and an event: the gate's decision on a candidate run, a person's
// `freshet promote <version>`, and `freshet rollback`. Each locks the lineage row first,
// so decisions on one lineage are serialised across every daemon.
import { ConflictError, NotFoundError } from '../core/errors.ts';
import {
  CHAMPION,
  createModelVersion,
  findGateDecision,
  findModelVersion,
  getChampion,
  getLineageByName,
  getModelVersion,
  lockLineage,
  recordEvent,
  recordPromotion,
  replacedChampionId,
  setAlias,
  type ModelVersion,
  type Promotion,
  type Registry,
} from '../registry/index.ts';

export interface GateRecord {
  lineageId: string;
  runId: string;
  candidateCheckpointId: string;
  /** The champion both were evaluated against (null: none). */
  championVersionId: string | null;
  promote: boolean;
  reason: string;
  metricName: string;
  candidateMetric: number;
  championMetric: number | null;
  evalPartitionIds: string[];
  evalRows: number;
  basePolicy: string | null;
  baseCandidates: unknown;
  dataWatermark: string | null;
  /** Partitions whose rows trained the candidate (its run and its ancestors). */
  trainedPartitionIds: string[];
}

export interface GateOutcome {
  promotion: Promotion;
  version: ModelVersion | undefined;
  /** False when this run had been decided already (a job re-run after a crash). */
  created: boolean;
}

/** Records the gate's decision for a candidate run, promoting it when the decision says so. Idempotent per run. */
export async function recordGateDecision(db: Registry, record: GateRecord): Promise<GateOutcome> {
  return db.transaction().execute(async (trx) => {
    await lockLineage(trx, record.lineageId);
    const existing = await findGateDecision(trx, record.runId);
    if (existing) {
      const version = existing.candidate_version_id ? await getModelVersion(trx, existing.candidate_version_id) : undefined;
      return { promotion: existing, version, created: false };
    }
    // The champion may have changed since the evaluation (a person promoted or rolled back).
    const current = await getChampion(trx, record.lineageId);
    let promote = record.promote;
    let reason = record.reason;
    if ((current?.id ?? null) !== record.championVersionId) {
      promote = false;
      reason = `the champion changed to version ${current?.version ?? '(none)'} while this candidate was evaluated against ${record.championVersionId ? `another` : 'none'}; not promoted (${record.reason})`;
    }
    let version: ModelVersion | undefined;
    if (promote) {
      version = await createModelVersion(
        trx,
        { lineage_id: record.lineageId, run_id: record.runId, checkpoint_id: record.candidateCheckpointId, metric_name: record.metricName, eval_metric: record.candidateMetric, data_watermark: record.dataWatermark },
        record.trainedPartitionIds,
      );
      await setAlias(trx, record.lineageId, CHAMPION, version.id);
    }
    const promotion = await recordPromotion(trx, {
      lineage_id: record.lineageId,
      run_id: record.runId,
      candidate_checkpoint_id: record.candidateCheckpointId,
      candidate_version_id: version?.id ?? null,
      champion_version_id: record.championVersionId,
      decision: promote ? 'promoted' : 'rejected',
      metric_name: record.metricName,
      candidate_metric: record.candidateMetric,
      champion_metric: record.championMetric,
      eval_partition_ids: [...record.evalPartitionIds],
      eval_rows: record.evalRows,
      base_policy: record.basePolicy,
      base_candidates: JSON.stringify(record.baseCandidates ?? null),
      reason,
    });
    await recordEvent(trx, {
      kind: promote ? 'model.promoted' : 'model.rejected',
      lineage_id: record.lineageId,
      run_id: record.runId,
      message: promote ? `version ${version!.version} is the champion: ${reason}` : `candidate of run ${record.runId} rejected: ${reason}`,
      data: { promotion: promotion.id, version: version?.version ?? null },
    });
    return { promotion, version, created: true };
  });
}

/** Makes a version the champion by hand (a person's decision, recorded with who and why). */
export async function promoteVersion(db: Registry, lineageName: string, versionNumber: number, actor: string, why: string): Promise<{ version: ModelVersion; previous: ModelVersion | undefined }> {
  const lineageId = (await getLineageByName(db, lineageName)).id;
  return db.transaction().execute(async (trx) => {
    await lockLineage(trx, lineageId);
    const version = await findModelVersion(trx, lineageId, versionNumber);
    if (!version) throw new NotFoundError(`lineage "${lineageName}" has no version ${versionNumber} (see \`freshet models\`)`);
    const previous = await getChampion(trx, lineageId);
    if (previous?.id === version.id) throw new ConflictError(`version ${versionNumber} is already the champion`);
    await changeChampion(trx, { lineageId, to: version, from: previous, decision: 'manual', actor, reason: why || `promoted by ${actor}` });
    return { version, previous };
  });
}

/**
 * Goes back to the champion before the current one: the one the current champion
 * replaced (a second rollback therefore undoes the first).
 */
export async function rollbackChampion(db: Registry, lineageName: string, actor: string, why: string): Promise<{ version: ModelVersion; previous: ModelVersion }> {
  const lineageId = (await getLineageByName(db, lineageName)).id;
  return db.transaction().execute(async (trx) => {
    await lockLineage(trx, lineageId);
    const current = await getChampion(trx, lineageId);
    if (!current) throw new ConflictError(`lineage "${lineageName}" has no champion to roll back`);
    const replaced = await replacedChampionId(trx, lineageId, current.id);
    if (!replaced) throw new ConflictError(`version ${current.version} was the first champion: there is nothing to roll back to`);
    const target = await getModelVersion(trx, replaced);
    await changeChampion(trx, { lineageId, to: target, from: current, decision: 'rollback', actor, reason: why || `rolled back by ${actor}` });
    return { version: target, previous: current };
  });
}

async function changeChampion(
  trx: Registry,
  change: { lineageId: string; to: ModelVersion; from: ModelVersion | undefined; decision: 'manual' | 'rollback'; actor: string; reason: string },
): Promise<void> {
  await setAlias(trx, change.lineageId, CHAMPION, change.to.id);
  await recordPromotion(trx, {
    lineage_id: change.lineageId,
    run_id: change.to.run_id,
    candidate_checkpoint_id: change.to.checkpoint_id,
    candidate_version_id: change.to.id,
    champion_version_id: change.from?.id ?? null,
    decision: change.decision,
    metric_name: change.to.metric_name,
    candidate_metric: change.to.eval_metric,
    champion_metric: change.from?.eval_metric ?? null,
    reason: change.reason,
    actor: change.actor,
  });
  await recordEvent(trx, {
    kind: change.decision === 'rollback' ? 'model.rollback' : 'model.manual_promotion',
    lineage_id: change.lineageId,
    actor: change.actor,
    message: `${change.decision === 'rollback' ? 'rolled back' : 'promoted'} to version ${change.to.version} (was ${change.from?.version ?? 'none'}): ${change.reason}`,
    data: { from: change.from?.version ?? null, to: change.to.version },
  });
}
