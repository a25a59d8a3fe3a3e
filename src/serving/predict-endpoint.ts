// POST /v1/predict: JSON rows of raw feature values in, the champion's predictions and its
// version out.
//   request:  {"rows": [{"distance": 1200, "origin": "SFO", …}, …]}
//   200:      {"version": 3, "predictions": [12.5, …]}
//   400:      {"error": "row 1, field \"distance\": not a number: \"far\"", "errors": [{row, field, message}, …]}
//   503:      {"error": "no champion yet"}
// The body size limit is the HTTP server's (http.maxBodyBytes: 413 above it).
import type { ChampionPredictor } from './champion-predictor.ts';

export interface JsonResponse {
  status: number;
  type: string;
  body: string;
}

const json = (status: number, value: unknown): JsonResponse => ({ status, type: 'application/json', body: `${JSON.stringify(value)}\n` });

export function predictEndpoint(champion: ChampionPredictor): (body: Buffer) => Promise<JsonResponse> {
  return async (body) => {
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return json(400, { error: `the body is not valid JSON: ${(error as Error).message}` });
    }
    const rows = (request as { rows?: unknown } | null)?.rows;
    if (!Array.isArray(rows)) return json(400, { error: 'expected a JSON object {"rows": [ {feature: value, …}, … ]}' });
    if (rows.length === 0) return json(400, { error: '"rows" is empty' });
    return champion.with((predictor) => {
      if (!predictor) return json(503, { error: 'no champion yet: nothing to predict with' });
      const { x, errors } = predictor.encodeRows(rows);
      if (errors.length > 0) {
        const first = errors[0]!;
        return json(400, { error: `row ${first.row}${first.field ? `, field "${first.field}"` : ''}: ${first.message}`, errors: errors.slice(0, 100) });
      }
      return json(200, { version: predictor.version, predictions: Array.from(predictor.predictMatrix(x, rows.length)) });
    });
  };
}
