// `npm run build:wasm`: compiles each src/trainer/wasm/*.wat (the source, read and
// reviewed) to a <name>-wasm.ts module holding its bytes, which is what the daemon
// loads: no toolchain at run time, and the bytes stay in git beside their source.
// test/wasm-sources.test.ts fails when a .wat changed and this was not re-run.
import fs from 'node:fs';
import path from 'node:path';
import { watBytes, wasmModuleText } from './wat-to-module.ts';

const dir = path.join(import.meta.dirname, '..', 'src', 'trainer', 'wasm');
for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const source = path.join(dir, name);
  const target = source.replace(/\.wat$/, '-wasm.ts');
  fs.writeFileSync(target, wasmModuleText(name, await watBytes(source)));
  console.log(`${path.relative(process.cwd(), source)} → ${path.relative(process.cwd(), target)}`);
}
