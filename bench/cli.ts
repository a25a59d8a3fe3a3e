// npm run bench:cli — how long a person waits for the one-shot verbs (issue #24, item 13).
//
// `freshet --help`, `freshet status` and `freshet models`, each a new process on this Node,
// timed wall-clock from spawn to exit, against `node -e 0` (the process floor) in the same
// rounds, interleaved so the machine's noise hits all of them alike. The registry is a
// small real one: `freshet demo --days 1` writes it (its embedded PostgreSQL), then the
// benchmark keeps that server running, as a daemon would, so status and models measure
// the verb against a running server — not a server start.
// Prints medians (ms) and each verb's ratio to `node -e 0`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/core/log.ts';
import { loadConfig } from '../src/core/config.ts';
import { startEmbeddedPostgres } from '../src/registry/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
// FRESHET_BENCH_BIN: another checkout's bin (an older commit, for a before/after), run the same way.
const BIN = process.env.FRESHET_BENCH_BIN ?? fileURLToPath(new URL('../bin/freshet.mjs', import.meta.url));
const log = createLogger({ level: 'warn', format: 'json' });

function timed(args: string[], cwd: string): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-cli-'));
fs.chmodSync(dir, 0o755); // as root the embedded server runs as another user, who must enter it
const demoDir = path.join(dir, 'demo');
console.log(`${BIN}: writing a small registry with freshet demo in ${demoDir} …`);
timed([BIN, 'demo', '--dir', demoDir, '--days', '1', '--rows', '1500'], dir);
const config = loadConfig({ cwd: demoDir, env: {} });
const server = await startEmbeddedPostgres({ ...config.database.embedded, log });
try {
  const cases: Record<string, string[]> = {
    'node -e 0 (reference)': ['-e', '0'],
    'freshet --help': [BIN, '--help'],
    'freshet status': [BIN, 'status'],
    'freshet models': [BIN, 'models'],
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (const args of Object.values(cases)) timed(args, demoDir); // warm the file cache once
  for (let round = 0; round < ROUNDS; round++) for (const [name, args] of Object.entries(cases)) samples[name]!.push(timed(args, demoDir));
  const reference = median(samples['node -e 0 (reference)']!);
  if (!(reference > 0)) throw new Error('the reference (node -e 0) was not measured: no ratio can be given');
  console.log(`\n${ROUNDS} rounds, Node ${process.versions.node}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; the registry's embedded PostgreSQL running`);
  for (const [name, values] of Object.entries(samples)) {
    console.log(`  ${name.padEnd(24)} median ${median(values).toFixed(0).padStart(5)} ms  (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})  ${(median(values) / reference).toFixed(1)}× node -e 0`);
  }
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
