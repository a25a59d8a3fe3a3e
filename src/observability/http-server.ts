// The daemon's HTTP side: /metrics for Prometheus, /healthz (the process answers) and
// /readyz (it can do its work: registry reachable, its modules running), the status page,
// and POST routes (predictions) with a body size limit. Bound to
// loopback by default; anything else is an explicit choice in the configuration.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from './metrics.ts';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when ready; a rejection or false means not ready. */
  check: () => Promise<boolean> | boolean;
  /** Why it is not ready, for /readyz's `waiting` (the check's name when absent). */
  waiting?: () => string;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
  log: Logger;
  /**
   * Extra GET routes (the status page, model descriptions), tried before the 404: each
   * returns its content type and body. A path segment `:name` matches any one segment and
   * is passed in `params` (decoded).
   */
  routes?: Record<string, (params: RouteParams) => Promise<{ status?: number; type: string; body: string }>>;
  /** POST routes (same patterns): each gets the request body (at most maxBodyBytes) and returns status, content type and body. */
  postRoutes?: Record<string, (body: Buffer, params: RouteParams) => Promise<{ status: number; type: string; body: string }>>;
  /** Largest request body a POST route accepts; larger ones get 413. */
  maxBodyBytes?: number;
  /** Told when a POST route's request is refused before the route sees it (405, 413), for its metrics. */
  onPostRefused?: (path: string, status: number) => void;
}

export type RouteParams = Readonly<Record<string, string>>;

class BodyTooLarge extends Error {}

/** The route whose pattern matches `pathname` (exact segments, or `:name` for any one segment), with its parameters. */
export function matchRoute<H>(table: Record<string, H>, pathname: string): { handler: H; params: RouteParams } | undefined {
  const exact = table[pathname];
  if (exact) return { handler: exact, params: {} };
  const segments = pathname.split('/');
  for (const [pattern, handler] of Object.entries(table)) {
    const parts = pattern.split('/');
    if (parts.length !== segments.length || !pattern.includes('/:')) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < parts.length && matched; i++) {
      if (parts[i]!.startsWith(':') && segments[i] !== '') {
        try {
          params[parts[i]!.slice(1)] = decodeURIComponent(segments[i]!);
        } catch {
          matched = false; // a malformed escape: no route
        }
      } else matched = parts[i] === segments[i];
    }
    if (matched) return { handler, params };
  }
  return undefined;
}

/** The request body, refusing (and draining no further than) `limit` bytes. */
function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new BodyTooLarge());
    const parts: Buffer[] = [];
    let size = 0;
    request.on('data', (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLarge());
      } else parts.push(part);
    });
    request.on('end', () => resolve(Buffer.concat(parts)));
    request.on('error', reject);
  });
}

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

/** Runs every check with a short timeout; a hung check counts as not ready. */
async function readiness(checks: readonly ReadinessCheck[]): Promise<{ ready: boolean; checks: Record<string, boolean>; waiting?: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref());
      const ok = await Promise.race([Promise.resolve().then(check), timeout]).catch(() => false);
      return [name, ok === true] as const;
    }),
  );
  const waiting = Object.fromEntries(checks.filter((_, i) => !results[i]![1]).map((c) => [c.name, c.waiting?.() ?? `${c.name} is not ready`]));
  const ready = results.every(([, ok]) => ok);
  return { ready, checks: Object.fromEntries(results), ...(ready ? {} : { waiting }) };
}

export async function startHttpServer({ host, port, metrics, readiness: checks, log, routes = {}, postRoutes = {}, maxBodyBytes = 1 << 20, onPostRefused = () => {} }: HttpServerOptions): Promise<RunningHttpServer> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    void (async () => {
      const post = matchRoute(postRoutes, url.pathname);
      if (post) {
        if (request.method !== 'POST') {
          onPostRefused(url.pathname, 405);
          return send(405, 'text/plain', `method not allowed: POST ${url.pathname}\n`);
        }
        let body: Buffer;
        try {
          body = await readBody(request, maxBodyBytes);
        } catch (error) {
          if (error instanceof BodyTooLarge) onPostRefused(url.pathname, 413);
          if (error instanceof BodyTooLarge) return send(413, 'application/json', `${JSON.stringify({ error: `the body is larger than http.maxBodyBytes (${maxBodyBytes} bytes)` })}\n`);
          throw error;
        }
        const answer = await post.handler(body, post.params);
        return send(answer.status, answer.type, answer.body);
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
      if (url.pathname === '/metrics') return send(200, metrics.registry.contentType, await metrics.registry.metrics());
      if (url.pathname === '/healthz') return send(200, 'application/json', '{"status":"ok"}\n');
      if (url.pathname === '/readyz') {
        const result = await readiness(checks);
        return send(result.ready ? 200 : 503, 'application/json', `${JSON.stringify(result)}\n`);
      }
      const route = matchRoute(routes, url.pathname);
      if (route) {
        const { status = 200, type, body } = await route.handler(route.params);
        return send(status, type, body);
      }
      send(404, 'text/plain', 'not found: try /metrics, /healthz, /readyz, GET /v1/models or POST /v1/models/<lineage>/predict\n');
    })().catch((error: Error) => {
      log.error({ err: error, path: url.pathname }, 'http request failed');
      if (!response.headersSent) send(500, 'text/plain', `internal error: ${error.message}\n`);
      else response.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new ConfigError(`http: ${host}:${port} is already in use (set http.port, or 0 for a free port)`, { cause: error }) : error),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  log.info({ url, metrics: `${url}/metrics` }, 'http listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
