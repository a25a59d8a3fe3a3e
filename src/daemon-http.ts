// The daemon's HTTP front, started before the registry is reached so that /healthz,
// /readyz and /metrics answer while the daemon waits: /readyz says why it waits,
// freshet_registry_up is 0, the status page and the model endpoints answer 503 naming the
// wait. Everything that needs the registry reads it through `DaemonStartup`, which the
// composition root fills in as startup goes on.
//
// Prediction routes: POST /v1/models/<lineage>/predict (the champion),
// POST /v1/models/<lineage>/versions/<n>/predict (one version), and POST /v1/predict where
// the daemon serves one lineage; GET /v1/models and /v1/models/<lineage> describe them.
import type { ResolvedConfig } from './core/config.ts';
import type { Logger } from './core/log.ts';
import { createMetrics, lineagesOverview, recordPrediction, renderOverviewPage, renderStatusPage, startHttpServer, statusReport, type Metrics, type RouteParams } from './observability/index.ts';
import { countJobsByLineageAndState, type JobWorker } from './queue/index.ts';
import { checkReachable, findChampion, lastFinishedRunInvalidRows, listFeatureDrift, newestTrainingDataArrival, partitionQuality, waitingSummary, type Registry } from './registry/index.ts';
import { modelEndpoint, modelsEndpoint, predictEndpoint, type ModelServer, type PredictOutcome } from './serving/index.ts';
import type { PartitionWatcher } from './watcher/index.ts';

type Answer = { status: number; type: string; body: string };

/** What startup has reached so far; read by the HTTP routes and the metrics' collectors. */
export interface DaemonStartup {
  db: Registry | undefined;
  url: string | undefined;
  models: ModelServer | undefined;
  /** What the daemon waits for, shown by /readyz and the 503 answers. */
  waiting: string;
  workers: JobWorker[];
  watchers: PartitionWatcher[];
}

export const newStartup = (): DaemonStartup => ({ db: undefined, url: undefined, models: undefined, waiting: 'opening the registry', workers: [], watchers: [] });

/** True when the registry answers within 1.5 s (a scrape must not hang on a dead server). */
function registryReachable(startup: DaemonStartup): Promise<boolean> {
  if (!startup.db) return Promise.resolve(false);
  const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 1500, false).unref());
  return Promise.race([checkReachable(startup.db, startup.url!).then(() => true), timeout]);
}

/** The daemon's metrics, whose collectors read the registry once startup has opened it: one series per lineage it runs. */
export function daemonMetrics(startup: DaemonStartup, lineages: readonly ResolvedConfig[]): Metrics {
  const notYet = (): Promise<never> => Promise.reject(new Error(startup.waiting));
  const each = <T,>(read: (db: Registry, config: ResolvedConfig) => Promise<T>) => async (): Promise<T[]> => {
    const db = startup.db;
    return db ? Promise.all(lineages.map((config) => read(db, config))) : notYet();
  };
  return createMetrics({
    jobCounts: () => (startup.db ? countJobsByLineageAndState(startup.db, lineages.map((l) => l.lineage)) : notYet()),
    registryReachable: () => registryReachable(startup),
    champions: each(async (db, { lineage }) => {
      const found = await findChampion(db, lineage);
      return { lineage, version: found?.version.version ?? null, newestDataArrivedAt: found ? await newestTrainingDataArrival(db, found.version.id) : null };
    }),
    waiting: each(async (db, { lineage, dataDir }) => {
      const { count, oldestFileAt } = await waitingSummary(db, dataDir);
      return { lineage, count, oldestSeconds: oldestFileAt ? (Date.now() - oldestFileAt.getTime()) / 1000 : null };
    }),
    lastRunInvalidRows: each(async (db, { lineage }) => ({ lineage, rows: await lastFinishedRunInvalidRows(db, lineage) })),
    drift: async () => {
      const rows = (await each((db, { lineage }) => listFeatureDrift(db, lineage))()).flat();
      return rows.map((d) => ({ lineage: d.lineage, column: d.column_name, value: d.value, threshold: d.threshold }));
    },
    quality: each(async (db, { lineage, dataDir }) => ({ lineage, ...(await partitionQuality(db, dataDir)) })),
  });
}

/** The routes that predict, each a 503 naming the wait until the models are ready. */
function predictRoutes(startup: DaemonStartup, metrics: Metrics, starting: () => string) {
  const refused = { version: null, rows: 0, seconds: 0, unseen: {} };
  const waitingAnswer = (lineage: string | null): Answer => {
    recordPrediction(metrics, { lineage, status: 503, ...refused });
    return { status: 503, type: 'application/json', body: `${JSON.stringify({ error: starting() })}\n` };
  };
  const observe = (lineage: string) => (outcome: PredictOutcome) => recordPrediction(metrics, { lineage, ...outcome });
  const notServed = (lineage: string | undefined, models: ModelServer): Answer => {
    recordPrediction(metrics, { lineage: null, status: 404, ...refused });
    const served = models.lineages.join(', ');
    const error = lineage === undefined ? `this daemon serves several lineages (${served}): POST /v1/models/<lineage>/predict` : `unknown lineage ${JSON.stringify(lineage)}: this daemon serves ${served}`;
    return { status: 404, type: 'application/json', body: `${JSON.stringify({ error })}\n` };
  };
  return {
    '/v1/predict': async (body: Buffer) => {
      const models = startup.models;
      if (!models) return waitingAnswer(null);
      if (models.lineages.length !== 1) return notServed(undefined, models);
      return predictEndpoint(models.championSource(models.lineages[0]!), observe(models.lineages[0]!))(body);
    },
    '/v1/models/:lineage/predict': async (body: Buffer, { lineage }: RouteParams) => {
      const models = startup.models;
      if (!models) return waitingAnswer(lineage!);
      if (!models.lineages.includes(lineage!)) return notServed(lineage, models);
      return predictEndpoint(models.championSource(lineage!), observe(lineage!))(body);
    },
    '/v1/models/:lineage/versions/:version/predict': async (body: Buffer, { lineage, version }: RouteParams) => {
      const models = startup.models;
      if (!models) return waitingAnswer(lineage!);
      if (!models.lineages.includes(lineage!)) return notServed(lineage, models);
      if (!/^[1-9]\d{0,8}$/.test(version!)) return { status: 404, type: 'application/json', body: `${JSON.stringify({ error: `version must be a positive whole number, got ${JSON.stringify(version)}` })}\n` };
      return predictEndpoint(models.versionSource(lineage!, Number(version)), observe(lineage!))(body);
    },
  };
}

/** Starts the HTTP server; resolves once the port is bound (a taken port fails here, fast). */
export function startDaemonHttp({ config, lineages, log, role, startup, metrics }: { config: ResolvedConfig; lineages: readonly ResolvedConfig[]; log: Logger; role: 'all' | 'worker'; startup: DaemonStartup; metrics: Metrics }) {
  const starting = (): string => `freshet is starting: ${startup.waiting}`;
  const withRegistry = (render: (db: Registry, params: RouteParams) => Promise<Answer | string>, type: string) => async (params: RouteParams) => {
    if (!startup.db || !startup.models) return { status: 503, type: 'text/plain; charset=utf-8', body: `${starting()}\n` };
    const answer = await render(startup.db, params);
    return typeof answer === 'string' ? { type, body: answer } : answer;
  };
  return startHttpServer({
    maxBodyBytes: config.http.maxBodyBytes,
    postRoutes: predictRoutes(startup, metrics, starting),
    onPostRefused: (path, status) => recordPrediction(metrics, { lineage: /^\/v1\/models\/([^/]+)\//.exec(path)?.[1] ?? null, status, version: null, rows: 0, seconds: 0, unseen: {} }),
    host: config.http.host,
    port: config.http.port,
    metrics,
    log,
    readiness: [
      { name: 'registry', check: () => registryReachable(startup), waiting: () => (startup.db ? 'the registry does not answer' : startup.waiting) },
      ...(role === 'all' ? [{ name: 'watcher', check: () => startup.watchers.length > 0 && startup.watchers.every((w) => w.ready), waiting: () => 'the watchers have not finished their startup scans' }] : []),
      ...(config.queue.concurrency > 0 ? [{ name: 'workers', check: () => startup.workers.length > 0 && startup.workers.every((w) => w.running), waiting: () => 'the job workers are not running yet' }] : []),
    ],
    routes: {
      // One lineage: its page at /, as before; several: the overview at /, each lineage's page at /lineages/<name>.
      '/': withRegistry(
        async (db) =>
          lineages.length === 1 ? renderStatusPage(await statusReport(db, lineages[0]!), { refreshSeconds: config.http.refreshSeconds }) : renderOverviewPage(await lineagesOverview(db, lineages), { refreshSeconds: config.http.refreshSeconds }),
        'text/html; charset=utf-8',
      ),
      '/status.json': withRegistry(async (db) => JSON.stringify(lineages.length === 1 ? await statusReport(db, lineages[0]!) : await lineagesOverview(db, lineages)), 'application/json'),
      '/lineages/:lineage': withRegistry(async (db, { lineage }) => {
        const one = lineages.find((l) => l.lineage === lineage);
        if (!one) return { status: 404, type: 'text/plain; charset=utf-8', body: `unknown lineage ${JSON.stringify(lineage)}: this daemon runs ${lineages.map((l) => l.lineage).join(', ')}\n` };
        return renderStatusPage(await statusReport(db, one), { refreshSeconds: config.http.refreshSeconds });
      }, 'text/html; charset=utf-8'),
      '/lineages/:lineage/status.json': withRegistry(async (db, { lineage }) => {
        const one = lineages.find((l) => l.lineage === lineage);
        if (!one) return { status: 404, type: 'application/json', body: `${JSON.stringify({ error: `unknown lineage ${JSON.stringify(lineage)}` })}\n` };
        return JSON.stringify(await statusReport(db, one));
      }, 'application/json'),
      '/v1/models': withRegistry((db) => modelsEndpoint(db, startup.models!)(), 'application/json'),
      '/v1/models/:lineage': withRegistry((db, params) => modelEndpoint(db, startup.models!)(params), 'application/json'),
    },
  });
}
