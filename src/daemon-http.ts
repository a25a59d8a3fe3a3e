// The daemon's HTTP front, started before the registry is reached so that /healthz,
// /readyz and /metrics answer while the daemon waits: /readyz says why it waits,
// freshet_registry_up is 0, the status page and /v1/predict answer 503 naming the wait.
// Everything that needs the registry reads it through `DaemonStartup`, which the
// composition root fills in as startup goes on.
import type { ResolvedConfig } from './core/config.ts';
import type { Logger } from './core/log.ts';
import { createMetrics, recordPrediction, renderStatusPage, startHttpServer, statusReport, type Metrics } from './observability/index.ts';
import { countJobsByState, type JobWorker } from './queue/index.ts';
import { checkReachable, findChampion, lastFinishedRunInvalidRows, newestTrainingDataArrival, waitingSummary, type Registry } from './registry/index.ts';
import type { ChampionPredictor } from './serving/index.ts';
import type { PartitionWatcher } from './watcher/index.ts';

type Endpoint = (body: Buffer) => Promise<{ status: number; type: string; body: string }>;

/** What startup has reached so far; read by the HTTP routes and the metrics' collectors. */
export interface DaemonStartup {
  db: Registry | undefined;
  url: string | undefined;
  predict: { predictor: ChampionPredictor; endpoint: Endpoint } | undefined;
  /** What the daemon waits for, shown by /readyz and the 503 answers. */
  waiting: string;
  workers: JobWorker[];
  watcher: PartitionWatcher | undefined;
}

export const newStartup = (): DaemonStartup => ({ db: undefined, url: undefined, predict: undefined, waiting: 'opening the registry', workers: [], watcher: undefined });

/** True when the registry answers within 1.5 s (a scrape must not hang on a dead server). */
function registryReachable(startup: DaemonStartup): Promise<boolean> {
  if (!startup.db) return Promise.resolve(false);
  const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 1500, false).unref());
  return Promise.race([checkReachable(startup.db, startup.url!).then(() => true), timeout]);
}

/** The daemon's metrics, whose collectors read the registry once startup has opened it. */
export function daemonMetrics(startup: DaemonStartup, config: ResolvedConfig): Metrics {
  const notYet = (): Promise<never> => Promise.reject(new Error(startup.waiting));
  return createMetrics({
    jobCounts: () => (startup.db ? countJobsByState(startup.db) : notYet()),
    registryReachable: () => registryReachable(startup),
    champion: async () => {
      if (!startup.db) return undefined;
      const found = await findChampion(startup.db, config.lineage);
      return found ? { version: found.version.version, newestDataArrivedAt: await newestTrainingDataArrival(startup.db, found.version.id) } : undefined;
    },
    waiting: async () => {
      if (!startup.db) return notYet();
      const { count, oldestFileAt } = await waitingSummary(startup.db);
      return { count, oldestSeconds: oldestFileAt ? (Date.now() - oldestFileAt.getTime()) / 1000 : null };
    },
    lastRunInvalidRows: async () => (startup.db ? lastFinishedRunInvalidRows(startup.db, config.lineage) : notYet()),
  });
}

/** Starts the HTTP server; resolves once the port is bound (a taken port fails here, fast). */
export function startDaemonHttp({ config, log, role, startup, metrics }: { config: ResolvedConfig; log: Logger; role: 'all' | 'worker'; startup: DaemonStartup; metrics: Metrics }) {
  const starting = `freshet is starting: `;
  const withRegistry = (render: (db: Registry) => Promise<string>, type: string) => async () =>
    startup.db ? { type, body: await render(startup.db) } : { status: 503, type: 'text/plain; charset=utf-8', body: `${starting}${startup.waiting}\n` };
  const refused = { version: null, rows: 0, seconds: 0, unseen: {} };
  return startHttpServer({
    maxBodyBytes: config.http.maxBodyBytes,
    postRoutes: {
      '/v1/predict': async (body) => {
        if (startup.predict) return startup.predict.endpoint(body);
        recordPrediction(metrics, { status: 503, ...refused });
        return { status: 503, type: 'application/json', body: `${JSON.stringify({ error: `${starting}${startup.waiting}` })}\n` };
      },
    },
    onPostRefused: (_path, status) => recordPrediction(metrics, { status, ...refused }),
    host: config.http.host,
    port: config.http.port,
    metrics,
    log,
    readiness: [
      { name: 'registry', check: () => registryReachable(startup), waiting: () => (startup.db ? 'the registry does not answer' : startup.waiting) },
      ...(role === 'all' ? [{ name: 'watcher', check: () => startup.watcher?.ready ?? false, waiting: () => 'the watcher has not finished its startup scan' }] : []),
      ...(config.queue.concurrency > 0 ? [{ name: 'workers', check: () => startup.workers.length > 0 && startup.workers.every((w) => w.running), waiting: () => 'the job workers are not running yet' }] : []),
    ],
    routes: {
      '/': withRegistry(async (db) => renderStatusPage(await statusReport(db, config), { refreshSeconds: config.http.refreshSeconds }), 'text/html; charset=utf-8'),
      '/status.json': withRegistry(async (db) => JSON.stringify(await statusReport(db, config)), 'application/json'),
    },
  });
}
