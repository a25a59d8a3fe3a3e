// `freshet demo` (what `npm run demo` runs): the whole loop on an embedded PostgreSQL of its
// own, with at least one promotion after the shift and at least one rejection before it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { tempDir } from './support/partitions.ts';

test('freshet demo: first model, retrains with the plateau choice explained, rejections, a promotion after the shift, a summary; the registry stays for `freshet status`', async () => {
  const dir = tempDir('freshet-demo-');
  fs.chmodSync(dir, 0o755); // as root, the embedded server runs as another user that must enter it
  const demoDir = path.join(dir, 'demo');
  const result = await runFreshet(['demo', '--dir', demoDir, '--days', '5', '--rows', '3000'], { env: cleanEnv() });
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  assert.match(out, /first model: steps_per_epoch fixed at \d+/);
  assert.match(out, /gate: PROMOTED → champion v1: no champion yet/);
  assert.match(out, /base: policy auto: lowest loss on \d+ fresh eval rows among pre-plateau \(step \d+, epoch \d+\) [\d.]+, last \(step \d+, epoch \d+\) [\d.]+, best-val \(step \d+, epoch \d+\) [\d.]+: [a-z-]+; (knee at step \d+|no descent|no bend yet|too short)/);
  assert.match(out, /gate: REJECTED/);
  const shift = /day 6 \(2026-11-07\) — the new tariff starts today[\s\S]*?gate: PROMOTED → champion v(\d+)/.exec(out);
  assert.ok(shift, 'the shift is learned and promoted');
  assert.match(out, /^summary$/m);
  assert.match(out, /decisions: \d+ promoted, \d+ rejected; champion v\d+/);
  assert.ok(fs.existsSync(path.join(demoDir, 'serving', 'current', 'model.json')));
  const status = await runFreshet(['status', '--json'], { env: cleanEnv(), cwd: demoDir });
  assert.equal(status.code, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as { lineage: string; champion: { version: number } }).champion.version, Number(shift[1]));
});
