// The scheduler module's public surface: triggers, retrain policy, the job queue, workers.
export { claimJob, heartbeatJob, completeJob, failJob, releaseJob, cancelJob, failExhaustedJobs, countJobsByState, retryDelaySeconds, type LeaseOptions, type ClaimOptions, type BackoffPolicy } from './job-queue.ts';
export { JobWorker, PermanentJobError, type JobHandler, type JobContext, type JobOutcome } from './job-worker.ts';
export { NotificationListener, CHANNELS, type Channel } from './notification-listener.ts';
export { claimCronSlot, slotOf, startCronTrigger } from './cron-trigger.ts';
export { evaluateRetrainPolicy, enqueueRetrain, type PolicyVerdict, type RetrainRequest } from './retrain-policy.ts';
export { RetrainScheduler } from './retrain-scheduler.ts';
export { retrainJobHandler } from './retrain-job.ts';
