// A TCP proxy in front of PostgreSQL whose network can be broken the ways production
// networks break:
// - `refuse`: every connection is reset at once, as when the server is down;
// - `blackhole`: connections stay open but no byte gets through, ever, as when a firewall
//   or NAT on the path loses its state or a cable is pulled. Connections blackholed once
//   stay dead after the network heals (their state is gone); new ones work again.
// - `pass`: the healthy network.
import net from 'node:net';

export type NetworkMode = 'pass' | 'refuse' | 'blackhole';

interface Pair {
  client: net.Socket;
  server: net.Socket;
  dead: boolean;
}

export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  #mode: NetworkMode = 'pass';

  private constructor(target: { host: string; port: number }) {
    this.#server = net.createServer((client) => this.#accept(client, target));
  }

  /** Starts a proxy on a free port of 127.0.0.1 forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  proxiedUrl(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Connections open through the proxy now (accepted and not yet closed). */
  get connections(): number {
    return this.#pairs.size;
  }

  setMode(mode: NetworkMode): void {
    this.#mode = mode;
    for (const pair of this.#pairs) {
      if (mode === 'refuse') this.#close(pair);
      else if (mode === 'blackhole') pair.dead = true;
    }
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) this.#close(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket, target: { host: string; port: number }): void {
    if (this.#mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const server = net.connect(target.port, target.host);
    const pair: Pair = { client, server, dead: this.#mode === 'blackhole' };
    this.#pairs.add(pair);
    // Bytes on a dead pair are dropped: nothing answers, nothing resets.
    client.on('data', (chunk) => pair.dead || server.write(chunk));
    server.on('data', (chunk) => pair.dead || client.write(chunk));
    for (const socket of [client, server]) {
      socket.on('error', () => this.#close(pair));
      socket.on('close', () => this.#close(pair));
    }
  }

  #close(pair: Pair): void {
    this.#pairs.delete(pair);
    pair.client.destroy();
    pair.server.destroy();
  }
}
