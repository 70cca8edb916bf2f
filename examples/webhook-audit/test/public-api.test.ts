// The plugin is built on Conductor's public API only: its modules import Node built-ins, its
// own dependencies, its own files, and the two public entry points — `@conductor-intents/conductor`
// (here '../../core/index.ts') and `@conductor-intents/conductor/testkit` (tests only) — nothing
// else of Conductor's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('../', import.meta.url));
const REPO = resolve(PACKAGE, '../..');
const PUBLIC_ENTRIES = new Set(['core/index.ts', 'core/testkit/index.ts']);
const MANIFEST = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
const DEPENDENCIES = new Set(Object.keys(MANIFEST['dependencies'] ?? {}));
/** Once published, the entry points are imported by name from the peer dependency. */
const PUBLIC_NAMES = new Set(['@conductor-intents/conductor', '@conductor-intents/conductor/testkit']);

function sourcesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourcesIn(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

test('the example plugin imports only the public entry points of Conductor', () => {
  const offenders: string[] = [];
  for (const file of sourcesIn(PACKAGE)) {
    const isTest = relative(PACKAGE, file).startsWith('test/');
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?['"]([^'"]+)['"];?$/gm)) {
      if (spec!.startsWith('node:') || DEPENDENCIES.has(spec!)) continue;
      if (PUBLIC_NAMES.has(spec!) && (spec === '@conductor-intents/conductor' || isTest)) continue;
      if (!spec!.startsWith('.')) {
        offenders.push(`${relative(PACKAGE, file)}: ${spec} is not a dependency of the package`);
        continue;
      }
      const target = resolve(dirname(file), spec!);
      if (!relative(PACKAGE, target).startsWith('..')) continue; // its own files
      const inRepo = relative(REPO, target);
      const allowed = inRepo === 'core/index.ts' || (isTest && PUBLIC_ENTRIES.has(inRepo));
      if (!allowed) offenders.push(`${relative(PACKAGE, file)}: ${spec} is not a public entry point`);
    }
  }
  assert.deepEqual(offenders, []);
});
