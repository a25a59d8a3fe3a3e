// Checkpoint rows. A row is inserted only after its files were renamed into place, and
// deleted together with them (retention), so rows and files never disagree.
import { NotFoundError } from '../../core/errors.ts';
import type { Registry } from '../connect.ts';
import type { Checkpoint, NewCheckpoint } from '../schema.ts';
import { deleteArtifactFiles } from './artifact-chunks.ts';

export async function insertCheckpoint(db: Registry, checkpoint: NewCheckpoint): Promise<Checkpoint> {
  return db.insertInto('checkpoints').values(checkpoint).returningAll().executeTakeFirstOrThrow();
}

export async function getCheckpoint(db: Registry, id: string): Promise<Checkpoint> {
  const row = await db.selectFrom('checkpoints').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`checkpoint ${id} does not exist`);
  return row;
}

/** A run's checkpoints in training order. */
export async function listRunCheckpoints(db: Registry, runId: string): Promise<Checkpoint[]> {
  return db.selectFrom('checkpoints').selectAll().where('run_id', '=', runId).orderBy('global_step').execute();
}


/** The location of every checkpoint row of a lineage (what the file sweep keeps). */
export async function lineageCheckpointUris(db: Registry, lineageId: string): Promise<string[]> {
  return (await db.selectFrom('checkpoints').select('uri').where('lineage_id', '=', lineageId).execute()).map((row) => row.uri);
}

/** Deletes the row and, for the postgres store, its files in the same transaction. */
export async function deleteCheckpointRow(db: Registry, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('checkpoints').where('id', '=', id).returning(['uri', 'store']).executeTakeFirst();
    if (row?.store === 'postgres') await deleteArtifactFiles(trx, row.uri);
  });
}
