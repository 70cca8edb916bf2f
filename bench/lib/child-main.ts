// Runs one measurement in a fresh process: `node child-main.ts <module> <export> <args.json>
// <result.json>`. A fresh heap and JIT per measurement keeps runs independent of each other.
import { writeFileSync } from 'node:fs';

const [moduleUrl, exportName, argsJson, resultPath] = process.argv.slice(2);
if (moduleUrl === undefined || exportName === undefined || argsJson === undefined || resultPath === undefined) {
  console.error('usage: child-main.ts <module-url> <export> <args-json> <result-path>');
  process.exit(2);
}
const namespace = (await import(moduleUrl)) as Record<string, unknown>;
const measure = namespace[exportName];
if (typeof measure !== 'function') throw new Error(`${moduleUrl} has no function ${exportName}`);
const result: unknown = await (measure as (args: unknown) => Promise<unknown>)(JSON.parse(argsJson));
writeFileSync(resultPath, JSON.stringify(result));
// Whatever a measurement left open (a watcher, a socket) must not keep the process alive.
process.exit(0);
