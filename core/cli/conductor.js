#!/usr/bin/env node
// The `conductor` executable. It is JavaScript, not TypeScript, on purpose: Node needs its
// TypeScript stripper for a .ts entry point before any code of ours runs, and loading that
// stripper cost ~100 ms and ~20 MB of every start (bench/RESULTS.md, S1). From here the
// compile cache is turned on first, so the TypeScript modules after it come out of the cache
// (stripped and compiled once, not on every start) and the stripper is not loaded at all.
//
// Nothing is imported by name before the version check: an older Node must get one clear
// line, not a SyntaxError about an export its `node:module` lacks.
import * as nodeModule from 'node:module';
import { existsSync } from 'node:fs';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(`conductor: Node.js >= ${REQUIRED_MAJOR} is required, this is ${process.version} (${process.execPath})\n`);
  process.exit(2);
}

nodeModule.enableCompileCache?.();
// The repository runs the TypeScript sources beside this file; the published package has no
// sources (Node strips no types under node_modules) but their compiled JavaScript in dist/.
const entry = [new URL('./main.ts', import.meta.url), new URL('../../dist/core/cli/main.js', import.meta.url)].find((url) =>
  existsSync(url),
);
if (entry === undefined) {
  process.stderr.write('conductor: neither core/cli/main.ts nor dist/core/cli/main.js is there (run `npm run build`)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
