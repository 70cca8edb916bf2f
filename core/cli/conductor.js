#!/usr/bin/env node
// The `conductor` executable. It is JavaScript, not TypeScript, on purpose: Node needs its
// TypeScript stripper for a .ts entry point before any code of ours runs, and loading that
// stripper cost ~100 ms and ~20 MB of every start (bench/RESULTS.md, S1). From here the
// compile cache is turned on first, so the TypeScript modules after it come out of the cache
// (stripped and compiled once, not on every start) and the stripper is not loaded at all.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
