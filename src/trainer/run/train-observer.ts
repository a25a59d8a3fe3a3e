// How a training run tells the world what it does, without knowing who listens (as
// tfjs-layers' callbacks do): the daemon hangs Prometheus off these hooks, `freshet train`
// its progress bar, the retrain job its lease progress. The loop calls them at logged
// steps and checkpoints, never per step, and an observer that throws cannot stop training.
import type { Logger } from '../../core/log.ts';
import { coerceError } from '../../core/errors.ts';

export interface TrainProgress {
  runId: string;
  globalStep: number;
  virtualEpoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  targetEpochs: number;
  /** Training loss at the last logged step. */
  loss: number | null;
}

export interface CheckpointEvent {
  runId: string;
  checkpointId: string;
  globalStep: number;
  virtualEpoch: number;
  trainLoss: number | null;
  valLoss: number | null;
  /** Size of the checkpoint's files. Unit: bytes. */
  bytes: number;
  /** Time to write and record it. Unit: seconds. */
  seconds: number;
}

export interface TrainObserver {
  /** The loss read back at a logged step (every `training.logEvery` steps). */
  onLoggedLoss?(event: { runId: string; globalStep: number; loss: number }): void;
  /** Steps trained since the last report and the wall time they took, checkpoint writes excluded. Unit: seconds. */
  onThroughput?(event: { steps: number; examples: number; seconds: number }): void;
  /** A checkpoint was written and recorded in the registry. */
  onCheckpoint?(event: CheckpointEvent): void;
  /** Where the run is: every 10 steps, at the end and when interrupted. */
  onProgress?(progress: TrainProgress): void;
}

type Hook = keyof TrainObserver;

/** One observer that calls each of `observers` in turn; a throwing one is logged and skipped. */
export function combineObservers(log: Logger, ...observers: Array<TrainObserver | undefined>): Required<TrainObserver> {
  const present = observers.filter((o): o is TrainObserver => o !== undefined);
  const call =
    <H extends Hook>(hook: H) =>
    (event: Parameters<NonNullable<TrainObserver[H]>>[0]): void => {
      for (const observer of present) {
        try {
          (observer[hook] as ((e: typeof event) => void) | undefined)?.(event);
        } catch (error) {
          log.warn({ err: coerceError(error).message, hook }, 'a training observer failed; training goes on');
        }
      }
    };
  return { onLoggedLoss: call('onLoggedLoss'), onThroughput: call('onThroughput'), onCheckpoint: call('onCheckpoint'), onProgress: call('onProgress') };
}
