// Runs once before all test files (node --test --test-global-setup). Picks the server
// (TEST_DATABASE_URL, else an embedded one), migrates a template database once, and
// hands both to the test processes through environment variables; each test file then
// clones its own database from the template (fast: a file copy, no migrations).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../../src/core/log.ts';
import { migrateToLatest, openRegistry, startEmbeddedPostgres, type EmbeddedServer } from '../../src/registry/index.ts';

let embedded: EmbeddedServer | undefined;
let checkoutBefore: string[] = [];

/**
 * What the test suite may not change: the checkout's files outside node_modules and .git
 * (git's view: tracked changes, untracked and ignored files). Tests write only into temp
 * folders; a relative default (.freshet/serving, say) resolved against the checkout shows
 * up here and fails the run.
 */
function checkoutState(): string[] {
  const out = execFileSync('git', ['status', '--porcelain', '--ignored', '--untracked-files=all', '--', '.', ':!node_modules'], { cwd: CHECKOUT, encoding: 'utf8' });
  // git does not see empty folders: the top level's entries too (a stray `data/`).
  const topLevel = fs.readdirSync(CHECKOUT).map((name) => `top-level entry ${name}`);
  return [...out.split('\n').filter(Boolean), ...topLevel];
}
let template: string | undefined;
let adminUrl: string | undefined;

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

export async function globalSetup(): Promise<void> {
  checkoutBefore = checkoutState();
  const log = createLogger({ level: 'warn', format: 'json' });
  adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    // Under the system temp dir (world-traversable), not the checkout: as root the server
    // runs as another user, who may not be able to enter the folder the checkout is in.
    const key = crypto.createHash('sha256').update(process.cwd()).digest('hex').slice(0, 8);
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(os.tmpdir(), `freshet-test-pg-${key}`, 'pg'),
      port: 0,
      database: 'postgres',
      log,
    });
    adminUrl = embedded.url;
  }
  template = `freshet_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await admin.end();
  const db = openRegistry(withDatabase(adminUrl, template), { connectTimeoutSeconds: 10 });
  await migrateToLatest(db);
  await db.destroy();
  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = template;
  process.env.TEST_PG_EMBEDDED = embedded ? '1' : '';
}

export async function globalTeardown(): Promise<void> {
  if (adminUrl && template) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${template}`);
    await admin.end();
  }
  await embedded?.stop();
  const written = checkoutState().filter((line) => !checkoutBefore.includes(line));
  if (written.length > 0) {
    // Not a throw: node's runner hangs on an error from the global teardown.
    process.stderr.write(`✖ the tests wrote into the checkout (they must write only into temp folders):\n  ${written.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
