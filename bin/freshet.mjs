#!/usr/bin/env node
// Entry point of the `freshet` binary. freshet's sources are TypeScript run through
// Node's type stripping, which needs Node.js >= 22.18; npm scripts and npx use the
// Node 24 pinned in devDependencies.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `freshet: needs Node.js >= 22.18 (this is ${process.versions.node}). ` +
      'Run it through npm or npx (`npx freshet …`), which use the pinned Node 24.\n',
  );
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
