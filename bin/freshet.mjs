#!/usr/bin/env node
// Entry point of the `freshet` binary. freshet's sources are TypeScript run through
// Node's type stripping, which needs Node.js >= 22.18; npm scripts and npx use the
// Node 24 pinned in devDependencies. Started by an older Node (the bin linked into PATH,
// or run as ./bin/freshet.mjs on a system whose `node` is 20), it runs itself again on
// that pinned Node, so `freshet` works from any folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!fs.existsSync(pinned)) {
    process.stderr.write(
      `freshet: needs Node.js >= 22.18 (this is ${process.versions.node}), and the pinned Node 24 is not installed at ${pinned}. ` +
        'Run `npm install` in the freshet folder first.\n',
    );
    process.exit(2);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal itself (same process group): forwarding it
  // too would be a second signal, which forces the daemon's exit. SIGTERM and SIGHUP sent
  // to this process alone are passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1);
  });
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
