// The WebAssembly the trainer loads is its .wat source compiled: each committed
// src/trainer/wasm/<name>-wasm.ts holds exactly what `npm run build:wasm` makes of
// <name>.wat today (wabt), so the reviewed text and the running bytes cannot drift apart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { watBytes, wasmModuleText } from '../scripts/wat-to-module.ts';

const dir = path.join(import.meta.dirname, '..', 'src', 'trainer', 'wasm');

test('each .wat under src/trainer/wasm matches its committed bytes', async () => {
  const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.wat'));
  assert.ok(sources.length > 0);
  for (const name of sources) {
    const committed = fs.readFileSync(path.join(dir, name.replace(/\.wat$/, '-wasm.ts')), 'utf8');
    assert.equal(committed, wasmModuleText(name, await watBytes(path.join(dir, name))), `${name} changed: run npm run build:wasm`);
  }
});
