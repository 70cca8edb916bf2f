// The precompiled validators (core/schema/precompiled.js) must match the schemas that ship with
// Conductor: regenerated here and compared byte for byte, so a changed schema without
// `npm run precompile-schemas` fails. And a start with built-in plugins must not need ajv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { generate, OUTPUT, shippedSchemas } from '../../scripts/precompile-schemas.ts';
import { compileSchema } from '../../core/index.ts';
import { schemaKey } from '../../core/schema/compile.ts';
import { validators } from '../../core/schema/precompiled.js';

test('core/schema/precompiled.js is up to date (npm run precompile-schemas)', { timeout: 60_000 }, async () => {
  assert.equal(readFileSync(OUTPUT, 'utf8'), await generate(), 'stale: run npm run precompile-schemas');
});

test('every shipped schema has a precompiled validator, and compileSchema returns it', async () => {
  for (const [name, schema] of await shippedSchemas()) {
    const precompiled = validators[schemaKey(schema)];
    assert.ok(precompiled, `${name} is precompiled`);
    assert.equal(await compileSchema(schema), precompiled, `${name}: compileSchema uses the precompiled validator`);
  }
});

test('a schema that does not ship is compiled at run time, with the same options (strict, formats, all errors)', async () => {
  const validate = await compileSchema({
    type: 'object',
    properties: { at: { type: 'string', format: 'date-time' }, n: { type: 'integer' } },
    required: ['at'],
  });
  assert.equal(validate({ at: '2026-11-28T10:00:00Z', n: 1 }), true);
  assert.equal(validate({ at: 'yesterday', n: 1.5 }), false);
  assert.deepEqual(validate.errors?.map((e) => e.keyword).sort(), ['format', 'type'], 'all errors are reported');
  await assert.rejects(compileSchema({ type: 'object', propertiez: {} }), /strict mode: unknown keyword/);
});

test('validating a config of built-in plugins loads no ajv', () => {
  const script = `
    const { resolveConfig } = await import('./core/config/validate.ts');
    await resolveConfig({ plugins: { 'fs-source': {}, 'schema-validate': {}, sanitize: {}, 'rate-limit': {}, 'git-sink': {}, 'audit-log': {}, prometheus: {}, health: {} } }, { source: 'test', baseDir: process.cwd() });
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules\\/ajv\\/dist\\/(core|ajv)\\.js$/.test(p));
    console.log(JSON.stringify(loaded));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), []);
});
