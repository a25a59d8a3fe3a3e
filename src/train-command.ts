// `freshet train`: one run in the foreground, with a progress bar on a terminal and log
// lines otherwise. By default it resumes the lineage's unfinished run (nothing lost after
// a crash or a kill); --new starts another, --from starts from a given checkpoint.
import type { ResolvedConfig } from './config.ts';
import { UsageError } from './errors.ts';
import type { Logger } from './log.ts';
import { findLineageByName, type Registry } from './registry/index.ts';
import { trainRun, type TrainProgress, type TrainRunResult } from './trainer/index.ts';

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

function progressBar(stream: NodeJS.WriteStream): (p: TrainProgress) => void {
  return (p) => {
    const total = p.targetEpochs * p.stepsPerEpoch;
    const done = Math.min(total, p.virtualEpoch * p.stepsPerEpoch + p.stepInEpoch);
    const width = 30;
    const filled = Math.round((done / total) * width);
    const loss = p.loss === null ? '' : ` loss ${p.loss.toPrecision(4)}`;
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] run ${p.runId} epoch ${p.virtualEpoch}/${p.targetEpochs} step ${p.globalStep}${loss}   `);
    if (done === total) stream.write('\n');
  };
}

/** An unfinished run of the configured lineage, if any (the newest). */
async function unfinishedRun(db: Registry, lineageName: string): Promise<string | undefined> {
  const lineage = await findLineageByName(db, lineageName);
  if (!lineage) return undefined;
  const row = await db.selectFrom('runs').select('id').where('lineage_id', '=', lineage.id).where('status', '=', 'running').orderBy('id', 'desc').executeTakeFirst();
  return row?.id;
}

export async function trainCommand({ db, config, log, signal }: Context, options: TrainCommandOptions): Promise<TrainRunResult> {
  if ([options.from, options.resume, options.new].filter(Boolean).length > 1) throw new UsageError('use at most one of --from, --resume and --new');
  let resumeRunId = options.resume;
  if (!resumeRunId && !options.from && !options.new) {
    resumeRunId = await unfinishedRun(db, config.lineage);
    if (resumeRunId) log.info({ run: resumeRunId }, 'resuming the unfinished run (pass --new to start another)');
  }
  return trainRun({
    db,
    config,
    log,
    signal,
    resumeRunId,
    fromCheckpointId: options.from,
    virtualEpochs: options.epochs,
    kind: options.from ? 'manual' : undefined,
    onProgress: process.stderr.isTTY ? progressBar(process.stderr) : undefined,
  });
}
