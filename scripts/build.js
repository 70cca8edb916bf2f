// Builds the publishable package into dist/: the TypeScript of core/, plugins/ and the embedded
// config compiled to JavaScript with .d.ts beside it (tsconfig.build.json), then the files the
// compiler does not emit copied to their places: the precompiled validators, JSON. The bin stays
// core/cli/conductor.js, which loads dist/ when the sources are not there.
// Node refuses to strip types under node_modules, so an installed package must be JavaScript.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const ASSETS = ['core/schema/precompiled.js', 'core/schema/precompiled.d.ts', 'plugins/schema-validate/intent.schema.json'];

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
for (const asset of ASSETS) {
  const target = join(dist, asset);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, asset), target);
}
// The embedded config's blueprint, at the same place relative to the compiled config.
cpSync(join(root, 'examples', 'blueprints'), join(dist, 'examples', 'blueprints'), { recursive: true });
console.log(`built ${dist}`);
