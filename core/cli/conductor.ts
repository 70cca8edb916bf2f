#!/usr/bin/env node
// The `conductor` executable. It turns on Node's compile cache before anything else loads, so
// the TypeScript sources are stripped and compiled once, not on every start (about half the
// start-up CPU), then hands over to main.ts.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
