// What a person sees on a terminal: one line per log event, printed above the progress
// bar, which is redrawn under it; JSON lines unchanged when stderr is not a terminal.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { statusLineFor } from '../src/core/status-line.ts';

/** A real stream that says it is a terminal (as process.stderr in tmux does), collecting what is written. */
function terminal(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

const ERASE = '\r\x1b[2K';

test('on a terminal a checkpoint log is one line, printed above the progress bar, and the bar is redrawn under it', async () => {
  const { stream, text } = terminal(true);
  const log = createLogger({ level: 'info', format: 'auto' }, stream);
  const bar = statusLineFor(stream);
  bar.set('[######........] run 1 epoch 6/15 step 230 loss 24.28');
  log.info({ checkpoint: '7', step: 230, virtualEpoch: 6, trainLoss: 24.28, valLoss: 25.1, ms: 41, bytes: 59_000 }, 'checkpoint written');
  await new Promise((resolve) => setImmediate(resolve));
  const out = text();
  const afterBar = out.slice(out.indexOf('loss 24.28') + 'loss 24.28'.length);
  assert.ok(afterBar.startsWith(ERASE), 'the bar is erased before the log line is printed');
  const logged = afterBar.slice(ERASE.length, afterBar.lastIndexOf('\n') + 1);
  assert.equal(logged.split('\n').length, 2, `one line for the event: ${JSON.stringify(logged)}`);
  assert.match(logged, /INFO.*checkpoint written.*"step":230/);
  assert.ok(out.endsWith('[######........] run 1 epoch 6/15 step 230 loss 24.28'), 'the bar is redrawn below the log line');
  bar.finish();
  const finished = text().length;
  log.info('training run finished');
  const after = text().slice(finished);
  assert.ok(text().slice(0, finished).endsWith('loss 24.28\n'), 'finish leaves the last bar as a line of its own');
  assert.match(after, /^[^\r]*training run finished[^\n]*\n$/, 'a later log is a plain line below it: no bar to erase or redraw');
});

test('not a terminal: JSON lines, unchanged by a status line', () => {
  const { stream, text } = terminal(false);
  const log = createLogger({ level: 'info', format: 'auto' }, stream);
  log.info({ step: 230 }, 'checkpoint written');
  log.warn('second');
  const lines = text().trimEnd().split('\n');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(first.msg, 'checkpoint written');
  assert.equal(first.step, 230);
  assert.doesNotMatch(text(), /\r|\x1b/);
});
