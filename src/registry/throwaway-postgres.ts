// An embedded PostgreSQL of its own for a throwaway registry (the demo, a backtest): it
// never touches the user's registry. As root the server runs as another user, who may not
// be able to enter the folder asked for (under /root, say): then the data goes under the
// temp folder instead, and `onMoved` says where.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../core/log.ts';
import { FolderNotEnterableError, startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.ts';

export async function startThrowawayPostgres(dataDir: string, purpose: string, log: Logger, onMoved: (message: string, dataDir: string) => void = () => {}): Promise<{ server: EmbeddedServer; dataDir: string }> {
  try {
    return { server: await startEmbeddedPostgres({ dataDir, port: 0, database: 'freshet', log }), dataDir };
  } catch (error) {
    if (!(error instanceof FolderNotEnterableError)) throw error;
    const moved = path.join(os.tmpdir(), `freshet-${purpose}-pg-${process.getuid?.() ?? 'user'}`);
    fs.rmSync(moved, { recursive: true, force: true });
    onMoved(error.message.split(';')[0]!, moved);
    return { server: await startEmbeddedPostgres({ dataDir: moved, port: 0, database: 'freshet', log }), dataDir: moved };
  }
}
