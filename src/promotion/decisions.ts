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
  type NewPromotion,
  type Promotion,
  type Registry,
} from '../registry/index.ts';

/**
 * A gate decision as the retrain job made it: the `promotions` row it becomes (everything
 * but the decision and the new version, which are settled in the transaction), and what
 * a promotion needs besides.
 */
export interface GateRecord {
  row: Omit<NewPromotion, 'decision' | 'candidate_version_id' | 'actor' | 'lineage_id' | 'run_id' | 'candidate_checkpoint_id' | 'champion_version_id' | 'candidate_metric' | 'metric_name'> & {
    lineage_id: string;
    run_id: string;
    candidate_checkpoint_id: string;
    /** The champion both were evaluated against (null: none). */
    champion_version_id: string | null;
    metric_name: string;
    candidate_metric: number;
  };
  promote: boolean;
  /**
   * eval.fallback naive: with the candidate rejected, make this naive constant the champion
   * (a version of its own, decision 'fallback'), unless the champion changed meanwhile.
   */
  fallback?: { constant: { name: string; value: number; metric: number }; reason: string; windowPartitionIds: string[] } | undefined;
  dataWatermark: string | null;
  /** Partitions whose rows trained the candidate (its run and its ancestors). */
  trainedPartitionIds: string[];
}

export interface GateOutcome {
  promotion: Promotion;
  version: ModelVersion | undefined;
  /** False when this run had been decided already (a job re-run after a crash). */
  created: boolean;
  /** The 'fallback' decision that made the naive constant the champion, when one followed. */
  fallback?: Promotion | undefined;
}

/** Records the gate's decision for a candidate run, promoting it when the decision says so. Idempotent per run. */
export async function recordGateDecision(db: Registry, record: GateRecord): Promise<GateOutcome> {
  return db.transaction().execute(async (trx) => {
    const { row } = record;
    await lockLineage(trx, row.lineage_id);
    const existing = await findGateDecision(trx, row.run_id);
    if (existing) {
      const version = existing.candidate_version_id ? await getModelVersion(trx, existing.candidate_version_id) : undefined;
      return { promotion: existing, version, created: false };
    }
    // The champion may have changed since the evaluation (a person promoted or rolled back).
    const current = await getChampion(trx, row.lineage_id);
    let promote = record.promote;
    let reason = row.reason;
    if ((current?.id ?? null) !== row.champion_version_id) {
      promote = false;
      reason = `the champion changed to version ${current?.version ?? '(none)'} while this candidate was evaluated against ${row.champion_version_id ? `another` : 'none'}; not promoted (${row.reason})`;
    }
    let version: ModelVersion | undefined;
    if (promote) {
      version = await createModelVersion(
        trx,
        { lineage_id: row.lineage_id, run_id: row.run_id, checkpoint_id: row.candidate_checkpoint_id, metric_name: row.metric_name, eval_metric: row.candidate_metric, data_watermark: record.dataWatermark },
        record.trainedPartitionIds,
      );
      await setAlias(trx, row.lineage_id, CHAMPION, version.id);
    }
    const promotion = await recordPromotion(trx, { ...row, candidate_version_id: version?.id ?? null, decision: promote ? 'promoted' : 'rejected', reason });
    await recordEvent(trx, {
      kind: promote ? 'model.promoted' : 'model.rejected',
      lineage_id: row.lineage_id,
      run_id: row.run_id,
      message: promote ? `version ${version!.version} is the champion: ${reason}` : `candidate of run ${row.run_id} rejected: ${reason}`,
      data: { promotion: promotion.id, version: version?.version ?? null },
    });
    const championUnchanged = (current?.id ?? null) === row.champion_version_id;
    let fallback: Promotion | undefined;
    if (!promote && record.fallback && championUnchanged) {
      const { constant, reason: why, windowPartitionIds } = record.fallback;
      // Why a statement of its own: the version serves a constant, so what "trained" it is
      // the window its value was computed over, and its metric is the constant's.
      version = await createModelVersion(
        trx,
        {
          lineage_id: row.lineage_id,
          run_id: row.run_id,
          checkpoint_id: row.candidate_checkpoint_id,
          metric_name: row.metric_name,
          eval_metric: constant.metric,
          data_watermark: record.dataWatermark,
          constant: constant.value,
          constant_name: constant.name,
        },
        windowPartitionIds,
      );
      await setAlias(trx, row.lineage_id, CHAMPION, version.id);
      fallback = await recordPromotion(trx, {
        ...row,
        candidate_version_id: version.id,
        candidate_metric: constant.metric,
        decision: 'fallback',
        reason: why,
      });
      await recordEvent(trx, {
        kind: 'model.fallback',
        lineage_id: row.lineage_id,
        run_id: row.run_id,
        message: `version ${version.version}, the naive ${constant.name} ${constant.value}, is the champion: ${why}`,
        data: { promotion: fallback.id, version: version.version },
      });
    }
    return { promotion, version, created: true, fallback };
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
