// POST /v1/predict: JSON rows of raw feature values in, the champion's predictions and its
// version out.
//   request:  {"rows": [{"distance": 1200, "origin": "SFO", …}, …]}
//   200:      {"version": 3, "predictions": [12.5, …], "unseen": {"origin": 1}}
//             unseen: per categorical (or crossed) column, how many of the rows' values the
//             model never saw in training (scored through an out-of-vocabulary bucket)
//   400:      {"error": "rows[1] (rows are numbered from 0), field \"distance\": not a number: \"far\"",
//              "errors": [{row, field, message}, …]}   (row: the 0-based index into "rows")
//   503:      {"error": "no champion yet"}
// The body size limit is the HTTP server's (http.maxBodyBytes: 413 above it).
import type { ModelSource } from './model-server.ts';
import { coerceError, NotFoundError } from '../core/errors.ts';

export interface JsonResponse {
  status: number;
  type: string;
  body: string;
}

/** One answered request, for metrics (the serving module knows no prom-client). */
export interface PredictOutcome {
  status: number;
  /** The version that answered; null when none did (no champion, a bad body). */
  version: number | null;
  rows: number;
  seconds: number;
  unseen: Record<string, number>;
}

const json = (status: number, value: unknown): JsonResponse => ({ status, type: 'application/json', body: `${JSON.stringify(value)}\n` });

export function predictEndpoint(champion: ModelSource, observe: (outcome: PredictOutcome) => void = () => {}): (body: Buffer) => Promise<JsonResponse> {
  return async (body) => {
    const started = performance.now();
    let version: number | null = null;
    let scored = 0;
    let unseen: Record<string, number> = {};
    const answer = await answerRequest(champion, body, (v, rows, u) => ((version = v), (scored = rows), (unseen = u))).catch((error: unknown) => {
      if (error instanceof NotFoundError) return json(404, { error: error.message }); // an unknown lineage or version
      throw error;
    });
    observe({ status: answer.status, version, rows: scored, seconds: (performance.now() - started) / 1000, unseen });
    return answer;
  };
}

async function answerRequest(champion: ModelSource, body: Buffer, scored: (version: number, rows: number, unseen: Record<string, number>) => void): Promise<JsonResponse> {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return json(400, { error: `the body is not valid JSON: ${coerceError(error).message}` });
  }
  const rows = (request as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) return json(400, { error: 'expected a JSON object {"rows": [ {feature: value, …}, … ]}' });
  if (rows.length === 0) return json(400, { error: '"rows" is empty' });
  return champion.with((predictor) => {
    if (!predictor) return json(503, { error: 'no champion yet: nothing to predict with' });
    const { x, errors, unseen } = predictor.encodeRows(rows);
    if (errors.length > 0) {
      const first = errors[0]!;
      return json(400, { error: `rows[${first.row}] (rows are numbered from 0)${first.field ? `, field "${first.field}"` : ''}: ${first.message}`, errors: errors.slice(0, 100) });
    }
    scored(predictor.version, rows.length, unseen);
    return json(200, { version: predictor.version, predictions: Array.from(predictor.predictMatrix(x, rows.length)), unseen });
  });
}
