// Issue 2, acceptance 6: a plugin in a local module, named in a conductor.config.ts, runs at
// its stage — built on core's public API only, like the built-in plugins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.ts';
import { dropIntent, list, makeDataDir, scaling } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/custom-plugin/', import.meta.url));

test('a local plugin module from conductor.config.ts runs at the validate stage', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  dropIntent(dir.handoff, 'intent-ok.json', scaling('cu-cp', 2, { reason: 'busy hour' }));
  dropIntent(dir.handoff, 'intent-frozen.json', scaling('cu-up', 2, { reason: 'during the freeze' }));

  const result = await runCli(['once', '--data-dir', dir.root], { cwd: FIXTURE });

  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(list(join(dir.root, 'processed')), ['intent-ok.json']);
  const error = JSON.parse(readFileSync(join(dir.root, 'failed', 'intent-frozen.error.json'), 'utf8')) as Record<string, string>;
  assert.equal(error['stage'], 'validate');
  assert.equal(error['code'], 'CND_ERR_INTENT_REJECTED');
  assert.match(error['message']!, /change freeze/);
  assert.equal(readFileSync(join(dir.root, 'change-freeze.seen'), 'utf8').trim().split('\n').length, 2, 'the plugin saw both intents');
  assert.equal(gitLog(join(dir.root, 'out')).length, 1);
});

test('every built-in plugin imports only the public core entry point', () => {
  const plugins = fileURLToPath(new URL('../../plugins/', import.meta.url));
  const offenders: string[] = [];
  for (const name of list(plugins)) {
    for (const file of list(join(plugins, name)).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(plugins, name, file), 'utf8');
      for (const match of source.matchAll(/from '([^']+)'/g)) {
        const spec = match[1]!;
        if (spec.startsWith('../../core/') && spec !== '../../core/index.ts') offenders.push(`${name}/${file}: ${spec}`);
        if (/^\.\.\/(?!\.\.)/.test(spec)) offenders.push(`${name}/${file} imports another plugin: ${spec}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
