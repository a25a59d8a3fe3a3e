// The scheduler module's public surface: triggers, retrain policy, the job queue, workers.
export { claimJob, heartbeatJob, completeJob, failJob, releaseJob, failExhaustedJobs, countJobsByState, retryDelaySeconds, type LeaseOptions, type ClaimOptions, type BackoffPolicy } from './job-queue.ts';
export { JobWorker, PermanentJobError, type JobHandler, type JobContext, type JobOutcome } from './job-worker.ts';
export { NotificationListener, CHANNELS, type Channel } from './notification-listener.ts';
export { claimCronSlot, slotOf, startCronTrigger } from './cron-trigger.ts';
export { evaluateRetrainPolicy, enqueueRetrain, type PolicyVerdict, type RetrainRequest } from './retrain-policy.ts';
export { RetrainScheduler } from './retrain-scheduler.ts';
export { retrainJobHandler } from './retrain-job.ts';
export { detectPlateau, smooth, DEFAULT_PLATEAU, PlateauInputError, type PlateauOptions, type PlateauResult } from './plateau.ts';
export { prePlateauStepsToKeep, selectBase, type BaseSelection, type BaseCandidate, type BasePolicy } from './base-selection.ts';
export { gateDecision, metricValue, higherIsBetter, type GateDecision } from './evaluation-gate.ts';
export { recordGateDecision, promoteVersion, rollbackChampion } from './promotion.ts';
export { exportVersion, switchCurrent, currentServingVersion, reconcileServing, CURRENT } from './serving-export.ts';
export { chainCurve, chainPartitionIds, headRun, type CurvePoint } from './run-chain.ts';
