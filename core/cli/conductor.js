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
// The published package ships compiled JavaScript next to this file; the repository runs the
// TypeScript sources directly.
const compiled = new URL('./main.js', import.meta.url);
const { main } = await import(existsSync(compiled) ? compiled.href : './main.ts');
process.exitCode = await main(process.argv.slice(2));
