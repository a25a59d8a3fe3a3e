// GET /v1/models and GET /v1/models/<lineage>: what a client needs to call the predict
// endpoints — the lineages served, each one's inputs (the raw columns a row carries), its
// task, its champion and its versions (MLflow's registered-model listing and TF Serving's
// model status play this part).
//   /v1/models:            {"models": [{"name", "task", "inputs", "champion": {version, metricName, metric} | null, "versions": n,
//                                        "predict": "/v1/models/<name>/predict"}]}
//   /v1/models/<lineage>:  the same for one lineage, with "versions": [{version, createdAt, metricName, metric, constant, champion}]
//   404:                   {"error": "unknown lineage \"x\": this daemon serves a, b"}
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError } from '../core/errors.ts';
import { findLineageByName, listModelVersions, type Registry } from '../registry/index.ts';
import type { ModelServer } from './model-server.ts';

const json = (status: number, value: unknown) => ({ status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` });

function inputsOf(config: ResolvedConfig) {
  return { numeric: config.columns.features, categorical: config.columns.categorical, crosses: config.columns.crosses.map((c) => c.join('×')), label: config.columns.label };
}

async function describeLineage(db: Registry, server: ModelServer, name: string, detail: boolean) {
  const config = server.config(name);
  const [champion, lineage] = await Promise.all([server.champion(name), findLineageByName(db, name)]);
  const versions = lineage ? await listModelVersions(db, lineage.id) : [];
  return {
    name,
    task: config.model.task,
    inputs: inputsOf(config),
    champion: champion ? { version: champion.version, metricName: champion.metric_name, metric: champion.eval_metric } : null,
    versions: detail
      ? versions.map((v) => ({ version: v.version, createdAt: v.created_at.toISOString(), metricName: v.metric_name, metric: v.eval_metric, constant: v.constant, champion: v.id === champion?.id }))
      : versions.length,
    predict: `/v1/models/${encodeURIComponent(name)}/predict`,
  };
}

/** GET /v1/models. */
export function modelsEndpoint(db: Registry, server: ModelServer) {
  return async () => json(200, { models: await Promise.all(server.lineages.map((name) => describeLineage(db, server, name, false))) });
}

/** GET /v1/models/:lineage. */
export function modelEndpoint(db: Registry, server: ModelServer) {
  return async (params: Readonly<Record<string, string>>) => {
    try {
      return json(200, await describeLineage(db, server, params.lineage ?? '', true));
    } catch (error) {
      if (error instanceof NotFoundError) return json(404, { error: error.message });
      throw error;
    }
  };
}
