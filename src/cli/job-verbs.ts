// `freshet daemon`, `worker`, `jobs`, `retrain`: the long-running processes and the shared job queue.
import os from 'node:os';
import { Option, type Command } from 'commander';
import { shutdownOnSignals } from '../core/shutdown.ts';
import type { DaemonRole } from '../daemon.ts';
import type { JobState } from '../registry/index.ts';
import { formatTable } from '../core/table.ts';
import { positiveInt, print, setup, withRegistry } from './verb-support.ts';

export function addJobVerbs(program: Command): void {
  const runRole = (role: DaemonRole) => async (_options: unknown, command: Command) => {
    const { config, log } = await setup(command, { scope: 'daemon' });
    const { runDaemon } = await import('../daemon.ts');
    const controller = shutdownOnSignals(log, config.daemon.shutdownTimeoutSeconds);
    try {
      await runDaemon({ config, log, signal: controller.signal, role });
    } catch (error) {
      if (controller.signal.aborted) return; // interrupted while still starting: a clean stop
      throw error;
    }
    // Stopped: everything was released or, past its bound, named in the log and left
    // behind. Whatever was left (a thread that would not end) must not keep the process
    // up until the shutdown timeout turns a clean stop into a failure.
    setTimeout(() => process.exit(), 1000).unref();
  };

  program
    .command('daemon')
    .description('run freshet until SIGTERM/SIGINT: registry (embedded unless DATABASE_URL), migrations, partition watcher, retrain scheduler, a job worker, /metrics')
    .action(runRole('all'));

  program
    .command('worker')
    .description('run only a job worker (claims and runs retrain jobs from the shared queue) until SIGTERM/SIGINT; to scale training out to other machines')
    .action(runRole('worker'));

  program
    .command('jobs')
    .description('list the job queue: state, attempts, lease holder, errors (newest first)')
    .addOption(new Option('--state <state>', 'only this state').choices(['queued', 'running', 'succeeded', 'failed', 'cancelled']))
    .option('--limit <n>', 'most rows to show', (v) => positiveInt('--limit', v), 50)
    .option('--json', 'machine-readable output')
    .action(async (options: { state?: JobState; limit: number; json?: boolean }, command: Command) => {
      const { listJobs } = await import('../registry/index.ts');
      await withRegistry(
        command,
        'current',
        async (registry) => {
        const rows = await listJobs(registry.db, { state: options.state, limit: options.limit });
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(
          formatTable(
            ['id', 'kind', 'lineage', 'state', 'trigger', 'attempts', 'run at', 'locked by', 'lease until', 'error'],
            rows.map((j) => [j.id, j.kind, j.payload.lineage, j.state, j.trigger, `${j.attempts}/${j.max_attempts}`, j.run_at.toISOString(), j.locked_by, j.lease_expires_at?.toISOString(), j.last_error]),
          ),
        );
        },
        'all', // the queue is every lineage's
      );
    });

  program
    .command('retrain')
    .description('enqueue a retrain of the lineage now, whatever the retrain policy says (a daemon or worker runs it)')
    .option('--json', 'print the job as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { enqueueRetrain } = await import('../scheduler/index.ts');
      await withRegistry(command, 'migrate', async (registry, _log, config) => {
        const { job, created } = await enqueueRetrain(registry.db, {
          lineage: config.lineage, // the one --lineage names, or the only one
          trigger: 'manual',
          maxAttempts: config.queue.maxAttempts,
          reason: `requested by ${os.userInfo().username} with freshet retrain`,
        });
        if (options.json) return print(JSON.stringify({ created, job }, null, 2));
        print(created ? `enqueued job ${job.id} (retrain of ${job.payload.lineage})` : `job ${job.id} already ${job.state} for ${job.payload.lineage}; not enqueued again`);
      });
    });
}
