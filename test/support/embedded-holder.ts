// A separate process that starts (or shares) an embedded server, prints its URL as one
// JSON line, and stops it when told "stop" on stdin. Used to test sharing across processes.
import readline from 'node:readline';
import { createLogger } from '../../src/core/log.ts';
import { startEmbeddedPostgres } from '../../src/registry/index.ts';
import pg from 'pg';

const dataDir = process.argv[2]!;
const server = await startEmbeddedPostgres({ dataDir, port: 0, database: 'freshet', log: createLogger({ level: 'warn', format: 'json' }) });
// Hold a connection, as a running freshet would.
const client = new pg.Client({ connectionString: server.url, application_name: 'freshet' });
await client.connect();
process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, owned: server.owned })}\n`);
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim() === 'stop') {
    await client.end();
    await server.stop();
    process.stdout.write('stopped\n');
    process.exit(0);
  }
}
