// `freshet train`: one run in the foreground, with a progress bar on a terminal and log
// lines otherwise. By default it resumes the lineage's unfinished run (nothing lost after
// a crash or a kill); --new starts another, --from starts from a given checkpoint.
import type { ResolvedConfig } from '../core/config.ts';
import { UsageError } from './usage-error.ts';
import type { Logger } from '../core/log.ts';
import { statusLineFor } from '../core/status-line.ts';
import { findLineageByName, findUnfinishedRun, type Registry } from '../registry/index.ts';
import { trainRun, type TrainObserver, type TrainRunResult } from '../trainer/index.ts';
import { prePlateauStepsToKeep } from '../selection/index.ts';

export interface TrainCommandOptions {
  from?: string;
  resume?: string;
  new?: boolean;
  epochs?: number;
  json?: boolean;
}

interface Context {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  signal: AbortSignal;
}

/** A progress bar on the terminal's status line: log lines print above it (see status-line.ts). */
function progressBar(stream: NodeJS.WriteStream): TrainObserver {
  const line = statusLineFor(stream);
  return {
    onProgress(p) {
      const total = p.targetEpochs * p.stepsPerEpoch;
      const done = Math.min(total, p.virtualEpoch * p.stepsPerEpoch + p.stepInEpoch);
      const width = 30;
      const filled = Math.round((done / total) * width);
      const loss = p.loss === null ? '' : ` loss ${p.loss.toPrecision(4)}`;
      line.set(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] run ${p.runId} epoch ${p.virtualEpoch}/${p.targetEpochs} step ${p.globalStep}${loss}`);
      if (done === total) line.finish();
    },
  };
}

/** An unfinished run of the configured lineage, if any (the newest). */
async function unfinishedRun(db: Registry, lineageName: string): Promise<string | undefined> {
  const lineage = await findLineageByName(db, lineageName);
  return lineage ? (await findUnfinishedRun(db, lineage.id))?.id : undefined;
}

export async function trainCommand({ db, config, log, signal }: Context, options: TrainCommandOptions): Promise<TrainRunResult> {
  if ([options.from, options.resume, options.new].filter(Boolean).length > 1) throw new UsageError('use at most one of --from, --resume and --new');
  let resumeRunId = options.resume;
  if (!resumeRunId && !options.from && !options.new) {
    resumeRunId = await unfinishedRun(db, config.lineage);
    if (resumeRunId) log.info({ run: resumeRunId }, 'resuming the unfinished run (pass --new to start another)');
  }
  const bar = process.stderr.isTTY ? progressBar(process.stderr) : undefined;
  try {
    return await trainRun({
      db,
      config,
      log,
      signal,
      resumeRunId,
      fromCheckpointId: options.from,
      virtualEpochs: options.epochs,
      kind: options.from ? 'manual' : undefined,
      observers: [bar],
      // As the retrain job does: retention keeps the checkpoint a later retrain's base choice will look for.
      protectSteps: (runId: string) => prePlateauStepsToKeep(db, config, runId),
    });
  } finally {
    statusLineFor(process.stderr).finish(); // an interrupted or failed run leaves its last bar as a line
  }
}
