// A database of its own for each test (cloned from the migrated template that the global
// setup prepared), dropped when the test file ends.
import { after } from 'node:test';
import pg from 'pg';
import { openRegistry, type Registry } from '../../src/registry/index.ts';
import { withDatabase } from './global-setup.ts';

export interface TestDatabase {
  name: string;
  url: string;
  db: Registry;
}

let counter = 0;

function adminUrl(): string {
  const url = process.env.TEST_PG_ADMIN_URL;
  if (!url) throw new Error('TEST_PG_ADMIN_URL is unset: run the tests with `npm test` (it sets up the database server)');
  return url;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a database; `migrated: false` gives an empty one (for migration tests). */
export async function createTestDatabase({ migrated = true }: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `freshet_test_${process.pid}_${++counter}`;
  const template = process.env.TEST_PG_TEMPLATE;
  await admin(async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(migrated ? `create database ${name} template ${template}` : `create database ${name}`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by another test process's CREATE DATABASE.
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  const url = withDatabase(adminUrl(), name);
  const db = openRegistry(url, { connectTimeoutSeconds: 10 });
  after(async () => {
    await db.destroy();
    await admin((client) => client.query(`drop database if exists ${name} with (force)`));
  });
  return { name, url, db };
}
