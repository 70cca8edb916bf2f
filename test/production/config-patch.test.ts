// Issue 14: each deployment part applies its own change to the config. `--config-patch FILE`
// (repeatable) applies JSON Merge Patches (RFC 7396) in order on the loaded config; a patch
// that is missing, not JSON or not an object is refused naming the file, with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { fastConfig, makeDataDir, writeJsonConfig } from '../support/data-dir.ts';
import { mergePatch } from '../../core/config/merge-patch.ts';

test('patches apply in order: objects merge, null removes, values replace', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, { ...fastConfig(dir.root), logLevel: 'info' });
  const first = join(dir.root, 'first.json');
  const second = join(dir.root, 'second.json');
  writeFileSync(
    first,
    JSON.stringify({ logLevel: 'debug', concurrency: 3, plugins: { 'audit-log': null, health: { port: 18081, host: '127.0.0.1' } } }),
  );
  writeFileSync(second, JSON.stringify({ logLevel: 'warn', plugins: { health: { port: 18082 } } }));
  const result = await runCli(['print-config', '--config', config, '--config-patch', first, '--config-patch', second]);
  assert.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout) as { logLevel: string; concurrency: number; plugins: Record<string, Record<string, unknown>> };
  assert.equal(printed.logLevel, 'warn', 'the later patch wins');
  assert.equal(printed.concurrency, 3);
  assert.equal(printed.plugins['audit-log'], undefined, 'null removed the plugin');
  assert.equal(printed.plugins['health']?.['port'], 18082);
  assert.equal(printed.plugins['health']?.['host'], '127.0.0.1', 'objects merge');
  assert.ok(printed.plugins['git-sink'], 'the rest is untouched');
});

test('a bad patch is refused naming the file, exit 2', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const notObject = join(dir.root, 'list.json');
  writeFileSync(notObject, '[1, 2]');
  const notJson = join(dir.root, 'broken.json');
  writeFileSync(notJson, '{"logLevel": ');
  for (const [file, message] of [
    [notObject, /config patch .*list\.json must be a JSON object/],
    [notJson, /config patch .*broken\.json is not JSON/],
    [join(dir.root, 'absent.json'), /CND_ERR_CONFIG_NOT_FOUND: config patch .*absent\.json/],
  ] as const) {
    const result = await runCli(['validate', '--config', config, '--config-patch', file]);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, message);
  }
});

test('mergePatch is RFC 7396 and leaves non-JSON values of a module config alone', () => {
  const plugin = { name: 'custom', create: () => ({}) };
  const merged = mergePatch(
    { a: { b: 1, c: 2 }, list: [1, 2], modules: { custom: plugin } },
    { a: { b: null, d: 3 }, list: [3] },
  ) as Record<string, unknown>;
  assert.deepEqual(merged['a'], { c: 2, d: 3 });
  assert.deepEqual(merged['list'], [3], 'arrays are replaced, not merged');
  assert.equal((merged['modules'] as Record<string, unknown>)['custom'], plugin, 'the plugin object is the same object');
});
