// What an operator looks at first: the champion and its metric, how fresh its data is,
// the queue, the latest runs and decisions, and the loss curve behind the champion with
// its plateau. One read of the registry, shared by `freshet status` and the status page.
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError } from '../core/errors.ts';
import { championSince, listFeatureDrift, listPartitions, listJobs, listLiveJobs, listRunsWithResult, listWaitingPartitions, partitionCounts, registeredInvalidRows, waitingSummary, getChampion, findLineageByName, freshPartitions, listPromotions, newestTrainingDataArrival, registryStatus, type Promotion, type Registry, type RegistryStatus } from '../registry/index.ts';
import { formatSkill, servingSkill, type ServingSkill } from '../promotion/index.ts';
import { countJobsByState } from '../queue/index.ts';
import { plateauReport, type PlateauReport } from '../selection/index.ts';

/** The registry summary (schema version, pending migrations, rows per table) and the rest. */
export interface StatusReport extends RegistryStatus {
  generatedAt: string;
  lineage: string;
  champion: {
    version: number;
    metricName: string;
    metric: number;
    run: string;
    promotedAt: string;
    servingUri: string | null;
    /** Set when the champion serves a naive constant (eval.fallback naive). */
    constant: { name: string; value: number } | null;
  } | null;
  freshness: {
    /** Arrival of the newest registered partition. */
    newestPartitionArrivedAt: string | null;
    /** Arrival of the newest partition the champion was trained on. */
    championDataArrivedAt: string | null;
    /** Now minus championDataArrivedAt (freshet_data_freshness_seconds). */
    championDataAgeSeconds: number | null;
    /** Fresh partitions: registered, and not learned by the champion (registry › freshPartitions). The name predates waiting_partitions: these wait for a retrain, not for a marker. */
    partitionsWaiting: number;
    /** Fresh partitions no finished run has tried yet: what the retrain policy counts. */
    partitionsUntried: number;
  };
  partitions: Record<string, number>;
  /** Partition directories with data files but no completion marker yet (invisible to training until it comes). */
  awaitingMarker: { count: number; oldestSeconds: number | null; paths: string[] };
  /** Rows the registered partitions hold that cannot train (missing, NaN, infinite), counted at registration. */
  invalidRows: number;
  /** Partitions held back by the lineage's schema, newest first (at most 20), with why. */
  quarantined: Array<{ id: string; path: string; version: number; arrivedAt: string; reason: string }>;
  /** Drift of the fresh partitions against the champion's training partitions, per column (docs/definitions.md › Drift). */
  drift: Array<{ column: string; partition: string | null; method: string; value: number; threshold: number | null; drifted: boolean; freshPartitions: number; referencePartitions: number; computedAt: string }>;
  jobs: Record<string, number>;
  activeJobs: Array<{ id: string; state: string; attempts: number; lockedBy: string | null; leaseExpiresAt: string | null; lastError: string | null }>;
  runs: Array<{ id: string; kind: string; status: string; startedAt: string; finishedAt: string | null; baseCheckpoint: string | null; valLoss: number | null; invalidRows: number; /** Ended at its target with its validation loss still falling (likely undertrained). */ stillFalling: boolean; error: string | null }>;
  decisions: Array<{ id: string; at: string; decision: string; candidateMetric: number | null; championMetric: number | null; naiveMetric: number | null; naiveName: string | null; holdout: string | null; candidateSkill: number | null; championSkill: number | null; metricName: string | null; actor: string; reason: string; /** eval.slices: candidate and champion per slice value, worst regression first; null: none scored. */ slices: Array<{ column: string; value: string; rows: number; candidate: number; champion: number; regression: number }> | null }>;
  /** The queue's recent history, newest first: every state, not only the live jobs. */
  recentJobs: Array<{ id: string; state: string; trigger: string; attempts: number; createdAt: string; finishedAt: string | null; seconds: number | null; lastError: string | null }>;
  /**
   * The latest gate decision's forward check: the model serving after it against the naive
   * baseline on its gate rows. `beatsNaive` false means the model is not worth serving.
   */
  forwardCheck: (ServingSkill & { decisionAt: string; holdout: string | null }) | null;
  lossCurve: PlateauReport | null;
}

type Row<K extends keyof StatusReport> = StatusReport[K] extends ReadonlyArray<infer R> ? R : never;
type JobListed = Awaited<ReturnType<typeof listJobs>>[number];
type LiveJob = Awaited<ReturnType<typeof listLiveJobs>>[number];
type RunListed = Awaited<ReturnType<typeof listRunsWithResult>>[number];
type DecisionListed = Awaited<ReturnType<typeof listPromotions>>[number];
type ChampionVersion = NonNullable<Awaited<ReturnType<typeof getChampion>>>;

const recentJobRow = (j: JobListed): Row<'recentJobs'> => ({
  id: j.id,
  state: j.state,
  trigger: j.trigger,
  attempts: j.attempts,
  createdAt: j.created_at.toISOString(),
  finishedAt: j.finished_at?.toISOString() ?? null,
  seconds: j.finished_at ? Math.max(0, (j.finished_at.getTime() - j.created_at.getTime()) / 1000) : null,
  lastError: j.last_error,
});

const activeJobRow = (j: LiveJob): Row<'activeJobs'> => ({
  id: j.id,
  state: j.state,
  attempts: j.attempts,
  lockedBy: j.locked_by,
  leaseExpiresAt: j.lease_expires_at?.toISOString() ?? null,
  lastError: j.last_error,
});

const runRow = (r: RunListed): Row<'runs'> => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  baseCheckpoint: r.base_checkpoint_id,
  valLoss: r.result_val_loss,
  invalidRows: Number(r.invalid_rows),
  stillFalling: r.still_falling === true,
  error: r.error,
});

const decisionRow = (d: DecisionListed): Row<'decisions'> => ({
  id: d.id,
  at: d.created_at.toISOString(),
  decision: d.decision,
  candidateMetric: d.candidate_metric,
  championMetric: d.champion_metric,
  naiveMetric: d.naive_metric,
  naiveName: d.naive_name,
  holdout: d.holdout,
  candidateSkill: servingSkill(d)?.candidateSkill ?? null,
  championSkill: servingSkill(d)?.championSkill ?? null,
  metricName: d.metric_name,
  actor: d.actor,
  reason: d.reason,
  slices: d.slice_scores,
});

function championOf(version: ChampionVersion, promotedAt: Date): NonNullable<StatusReport['champion']> {
  return {
    version: version.version,
    metricName: version.metric_name,
    metric: version.eval_metric,
    run: version.run_id,
    promotedAt: promotedAt.toISOString(),
    servingUri: version.serving_uri,
    constant: version.constant === null ? null : { name: version.constant_name ?? 'constant', value: version.constant },
  };
}

export async function statusReport(db: Registry, config: ResolvedConfig): Promise<StatusReport> {
  const registry = await registryStatus(db);
  const base = { generatedAt: new Date().toISOString(), lineage: config.lineage, ...registry };
  const empty = { forwardCheck: null, champion: null, freshness: { newestPartitionArrivedAt: null, championDataArrivedAt: null, championDataAgeSeconds: null, partitionsWaiting: 0, partitionsUntried: 0 }, partitions: {}, awaitingMarker: { count: 0, oldestSeconds: null, paths: [] }, invalidRows: 0, quarantined: [], drift: [], recentJobs: [], jobs: {}, activeJobs: [], runs: [], decisions: [], lossCurve: null };
  if (registry.pendingMigrations.length > 0) return { ...base, ...empty }; // tables may be missing: `freshet migrate` first

  const lineage = await findLineageByName(db, config.lineage);
  const { byStatus: partitions, newestRegisteredArrival: newestPartition } = await partitionCounts(db, config.dataDir);
  const waiting = await listWaitingPartitions(db, 20, config.dataDir);
  const { count: waitingCount, oldestFileAt } = await waitingSummary(db, config.dataDir);
  const awaitingMarker = { count: waitingCount, oldestSeconds: oldestFileAt ? Math.round((Date.now() - oldestFileAt.getTime()) / 1000) : null, paths: waiting.map((w) => w.path) };
  const invalidRows = await registeredInvalidRows(db, config.dataDir);
  const quarantined = (await listPartitions(db, { source: config.dataDir, status: 'quarantined', limit: 20 })).map((p) => ({ id: p.id, path: p.path, version: p.version, arrivedAt: p.arrived_at.toISOString(), reason: p.error ?? '' }));
  const recentJobs = (await listJobs(db, { limit: 10 })).map(recentJobRow);
  const jobs = await countJobsByState(db);
  const activeJobs = (await listLiveJobs(db)).map(activeJobRow);
  if (!lineage) {
    const registered = partitions.registered ?? 0;
    return { ...base, ...empty, partitions, awaitingMarker, invalidRows, quarantined, recentJobs, jobs, activeJobs, freshness: { ...empty.freshness, newestPartitionArrivedAt: newestPartition?.toISOString() ?? null, partitionsWaiting: registered, partitionsUntried: registered } };
  }

  const version = await getChampion(db, lineage.id);
  const champion = version ? championOf(version, (await championSince(db, lineage.id)) ?? version.created_at) : null;
  const championData = version ? await newestTrainingDataArrival(db, version.id) : null;
  const fresh = await freshPartitions(db, { id: lineage.id, source: config.dataDir });
  const runs = await listRunsWithResult(db, lineage.id, 8);
  const decisions = await listPromotions(db, lineage.id, 8);
  let lossCurve: PlateauReport | null = null;
  try {
    lossCurve = await plateauReport(db, config, config.lineage);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error; // no finished run or epoch yet: nothing to draw
  }
  return {
    ...base,
    champion,
    freshness: {
      newestPartitionArrivedAt: newestPartition?.toISOString() ?? null,
      championDataArrivedAt: championData?.toISOString() ?? null,
      championDataAgeSeconds: championData ? Math.round((Date.now() - championData.getTime()) / 1000) : null,
      partitionsWaiting: fresh.length,
      partitionsUntried: fresh.filter((p) => !p.tried).length,
    },
    partitions,
    awaitingMarker,
    invalidRows,
    quarantined,
    drift: (await listFeatureDrift(db, config.lineage)).map((d) => ({ column: d.column_name, partition: d.partition_path, method: d.method, value: d.value, threshold: Number.isFinite(d.threshold) ? d.threshold : null, drifted: d.drifted, freshPartitions: d.fresh_partitions, referencePartitions: d.reference_partitions, computedAt: d.computedAt.toISOString() })),
    recentJobs,
    jobs,
    activeJobs,
    runs: runs.map(runRow),
    forwardCheck: forwardCheckOf(decisions),
    decisions: decisions.map(decisionRow),
    lossCurve,
  };
}

/**
 * The forward check in words, for `freshet status` and the status page alike: what serves
 * against the constant a person would try first, and a warning when it does not beat it.
 */
export function forwardCheckWords(f: NonNullable<StatusReport['forwardCheck']>): { summary: string; warning: string | null } {
  const num = (n: number): string => n.toPrecision(5);
  const where = f.holdout === 'newest' ? 'the newest partition, which it did not train on' : 'the held-out rows of the partitions it trained on (in-period)';
  const summary = `the serving model's ${num(f.servingMetric)} vs ${f.naiveDescribed}'s ${num(f.naiveMetric)} on ${where}, skill ${formatSkill(f.skill) ?? '-'}`;
  if (f.servesConstant) {
    const served = f.naiveValue !== null ? `the ${f.naiveName} ${num(f.naiveValue)}` : `the best constant (${f.naiveDescribed}, the strongest baseline, cannot serve)`;
    return { summary, warning: `no model beats the naive baseline: freshet serves ${served} itself (eval.fallback naive) until one does (freshet_champion_beats_naive 0)` };
  }
  if (!f.beatsNaive) {
    const instead = f.naiveValue !== null ? `predicting the ${f.naiveName} would serve as well` : `${f.naiveDescribed} does as well`;
    return { summary, warning: `the serving model does not beat its naive baseline: ${instead}; it is not worth serving until a model beats it (freshet_champion_beats_naive 0)` };
  }
  return { summary, warning: null };
}

/** The newest gate decision's forward check (decisions newest first). */
function forwardCheckOf(decisions: readonly Promotion[]): StatusReport['forwardCheck'] {
  for (const d of decisions) {
    const check = servingSkill(d);
    if (check) return { ...check, decisionAt: d.created_at.toISOString(), holdout: d.holdout };
    if (d.decision === 'promoted' || d.decision === 'rejected') return null; // the newest gate decision has no baseline (made before 2026-12-02)
  }
  return null;
}
