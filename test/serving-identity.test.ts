// An export is bound to its lineage, version and checkpoint (issue #24, item 1): a new
// registry or a renamed lineage under the same servingDir never serves another's model,
// and `<lineage>/current` only ever points at that lineage's own champion.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { findChampion, getCheckpoint } from '../src/registry/index.ts';
import { ChampionPredictor, currentServingVersion, Predictor } from '../src/serving/index.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const row = { x0: 0.5, x1: -1, x2: 2, x3: 0.25 };

async function predictOne(dir: string): Promise<number> {
  const predictor = await Predictor.load(dir);
  try {
    const { x } = predictor.encodeRows([row]);
    return predictor.predictMatrix(x, 1)[0]!;
  } finally {
    predictor.dispose();
  }
}

test('a second registry and a renamed lineage under one servingDir each serve their own model, never another\'s', async () => {
  const dir = tempDir('freshet-serving-identity-');
  const servingDir = path.join(dir, 'serving');

  // Registry A trains v1 of lineage "default".
  const a = await createTestDatabase();
  const configA = trainConfig(path.join(dir, 'a'), a.url, { FRESHET_SERVING_DIR: servingDir });
  for (let d = 1; d <= 3; d++) await addPartition(a.db, configA.dataDir, `2026-11-0${d}`, syntheticRows(800, d));
  await runRetrainJob(a.db, configA);
  const exportDir = path.join(servingDir, 'default', '1');
  const fromA = await predictOne(exportDir);

  // Registry B (a new database, as after `npm test` then `freshet init`): same lineage name, other data.
  const b = await createTestDatabase();
  const configB = trainConfig(path.join(dir, 'b'), b.url, { FRESHET_SERVING_DIR: servingDir });
  for (let d = 1; d <= 3; d++) await addPartition(b.db, configB.dataDir, `2026-11-0${d}`, syntheticRows(800, 40 + d).map((r) => [...r.slice(0, 4), -r[4]!]));
  await runRetrainJob(b.db, configB);
  const championB = (await findChampion(b.db, 'default'))?.version;
  assert.ok(championB, JSON.stringify(await b.db.selectFrom('promotions').selectAll().execute()));
  const metadata = JSON.parse(fs.readFileSync(path.join(servingDir, 'default', 'current', 'metadata.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(metadata.versionId, championB.id, 'the folder was rewritten for registry B\'s v1');
  assert.equal(metadata.checkpoint, championB.checkpoint_id);
  assert.equal(metadata.checkpointSha256, (await getCheckpoint(b.db, championB.checkpoint_id)).manifest_sha256);
  assert.equal(metadata.lineage, 'default');
  const fromB = await predictOne(exportDir);
  assert.ok(Math.abs(fromA - fromB) > 1, `registry B's model answers (${fromB}), not registry A's (${fromA})`);

  // The endpoint's predictor answers with B's model too.
  const champion = new ChampionPredictor(b.db, configB, log);
  const served = await champion.with((predictor) => predictor!.predictMatrix(predictor!.encodeRows([row]).x, 1)[0]!);
  champion.close();
  assert.equal(served, fromB);

  // A renamed lineage in registry B: its own folder and its own current; "default" untouched.
  const configRenamed = trainConfig(path.join(dir, 'b'), b.url, { FRESHET_SERVING_DIR: servingDir, FRESHET_LINEAGE: 'renamed' });
  for (let d = 4; d <= 5; d++) await addPartition(b.db, configRenamed.dataDir, `2026-11-0${d}`, syntheticRows(800, 60 + d).map((r) => [...r.slice(0, 4), -r[4]!]));
  await runRetrainJob(b.db, configRenamed);
  assert.equal(currentServingVersion(configRenamed), 1);
  const renamedMetadata = JSON.parse(fs.readFileSync(path.join(servingDir, 'renamed', 'current', 'metadata.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(renamedMetadata.lineage, 'renamed');
  assert.equal(renamedMetadata.versionId, (await findChampion(b.db, 'renamed'))!.version.id);
  assert.equal(await predictOne(path.join(servingDir, 'default', 'current')), fromB, 'the other lineage\'s export is untouched');
});
