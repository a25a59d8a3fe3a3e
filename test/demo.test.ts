// `freshet demo` (what `npm run demo` runs): the whole loop on an embedded PostgreSQL of its
// own, with at least one promotion after the shift and at least one rejection before it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
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
  // One plain sentence: the base used and why; the pre-plateau checkpoint is a candidate (issue #24, item 11).
  assert.match(out, /base: retrained from (pre-plateau|last|best-val) \(step \d+, virtual epoch \d+\): the lowest loss on \d+ fresh eval rows among pre-plateau \(step \d+, epoch \d+\) [\d.]+, last \(step \d+, epoch \d+\) [\d.]+, best-val \(step \d+, epoch \d+\) [\d.]+ \(retrain\.base auto\)\. The pre-plateau candidate: (knee at step \d+|no descent|no bend yet|too short)/);
  assert.doesNotMatch(out, /chose the newest checkpoint/);
  assert.match(out, /gate: REJECTED/);
  const shift = /day 6 \(2026-11-07\) — the new tariff starts today[\s\S]*?gate: PROMOTED → champion v(\d+)/.exec(out);
  assert.ok(shift, 'the shift is learned and promoted');
  assert.match(out, /^summary$/m);
  assert.match(out, /decisions: \d+ promoted, \d+ rejected; champion v\d+/);
  assert.ok(fs.existsSync(path.join(demoDir, 'serving', 'taxi-fares', 'current', 'model.json')));
  const status = await runFreshet(['status', '--json'], { env: cleanEnv(), cwd: demoDir });
  assert.equal(status.code, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as { lineage: string; champion: { version: number } }).champion.version, Number(shift[1]));

  // The printed hint works as printed, from the folder the demo ran in (outside the checkout: no npx freshet there).
  const hint = /look around with\n {2}(cd .+ status)/.exec(out);
  assert.ok(hint, out);
  assert.doesNotMatch(hint[1]!, /npx freshet/, 'outside the checkout npx knows no freshet');
  const hinted = execFileSync('bash', ['-c', hint[1]!.replace(/ status$/, ' status --json')], { cwd: path.dirname(demoDir), env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME } as NodeJS.ProcessEnv, encoding: 'utf8' });
  assert.equal((JSON.parse(hinted) as { champion: { version: number } }).champion.version, Number(shift[1]));

  // A second run reuses its own folder (the marker says so) and keeps a file the user left there.
  fs.writeFileSync(path.join(demoDir, 'notes.txt'), 'mine');
  const again = await runFreshet(['demo', '--dir', demoDir, '--days', '1', '--rows', '1500'], { env: cleanEnv() });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(fs.readFileSync(path.join(demoDir, 'notes.txt'), 'utf8'), 'mine');
});

test('freshet demo refuses a non-empty folder that is not an earlier demo\'s, names what is in it, and deletes nothing; --force reuses it', async () => {
  const dir = tempDir('freshet-demo-refuse-');
  fs.writeFileSync(path.join(dir, 'thesis.tex'), 'years of work');
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'keep.csv'), 'a,b\n');
  const refused = await runFreshet(['demo', '--dir', dir, '--days', '1'], { env: cleanEnv() });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /is not empty \(.*thesis\.tex.*\) and is not an earlier demo's folder/);
  assert.match(refused.stderr, /--force/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['data', 'thesis.tex']);
  assert.equal(fs.readFileSync(path.join(dir, 'data', 'keep.csv'), 'utf8'), 'a,b\n');
});
