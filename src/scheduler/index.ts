// The scheduler module's public surface: when to retrain (the policy over fresh data),
// and the triggers that ask (node-cron slots, data arrivals) and enqueue a retrain job.
export { slotOf, startCronTrigger } from './cron-trigger.ts';
export { evaluateRetrainPolicy, enqueueRetrain, type PolicyVerdict, type RetrainRequest } from './retrain-policy.ts';
export { RetrainScheduler } from './retrain-scheduler.ts';
export { driftThreshold, updateDrift, type DriftUpdate } from './drift-monitor.ts';
