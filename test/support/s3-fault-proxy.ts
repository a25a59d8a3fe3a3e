// An HTTP proxy in front of the test's S3 server that breaks it the ways object storage
// breaks: `down` (every connection dropped, as a stopped server or a lost network), and
// throttling (every n-th request answered 503 SlowDown, as S3 does under load).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class S3FaultProxy {
  readonly #server: http.Server;
  mode: 'pass' | 'down' = 'pass';
  /** Answer every n-th request with 503 SlowDown (0: never). */
  slowDownEvery = 0;
  requests = 0;
  slowDowns = 0;
  /** The status of every response the server gave, in order. */
  readonly statuses: number[] = [];

  private constructor(target: URL) {
    this.#server = http.createServer((request, response) => {
      this.requests += 1;
      if (this.mode === 'down') return void request.socket.destroy();
      if (this.slowDownEvery > 0 && this.requests % this.slowDownEvery === 0) {
        this.slowDowns += 1;
        request.resume();
        response.writeHead(503, { 'content-type': 'application/xml' });
        return void response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      }
      const upstream = http.request({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
        this.statuses.push(answer.statusCode ?? 502);
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    });
  }

  static async start(target: string): Promise<S3FaultProxy> {
    const proxy = new S3FaultProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
