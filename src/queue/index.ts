// The queue module's public surface: the Postgres job queue's claim protocol, the worker
// that runs jobs under a lease, and the LISTEN connection that wakes it. It knows no ML:
// what a job does is the handler the daemon gives the worker.
export { claimJob, heartbeatJob, recordJobProgress, completeJob, failJob, releaseJob, failExhaustedJobs, countJobsByState, countJobsByLineageAndState, retryDelaySeconds, type LeaseOptions, type ClaimOptions, type BackoffPolicy } from './job-queue.ts';
export { JobWorker, type JobHandler, type JobContext, type JobOutcome } from './job-worker.ts';
export { NotificationListener } from './notification-listener.ts';
export { workerTiming, type WorkerTiming } from './worker-options.ts';
