// Issue 4, graceful drain: a second signal exits at once (143) and still loses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, startCli } from '../support/cli.ts';
import { dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';
import { fileURLToPath } from 'node:url';

const HOLD_SINK = fileURLToPath(new URL('./fixtures/hold-sink.ts', import.meta.url));

test('a second SIGTERM exits 143 at once; a restart finishes every intent exactly once', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  // hold-sink never finishes the intent for target "hold", so the graceful stop has to wait.
  const base = fastConfig(dir.root);
  const config = writeJsonConfig(dir.root, {
    ...base,
    logLevel: 'info',
    shutdownTimeoutMs: 60_000,
    modules: { 'hold-sink': HOLD_SINK },
    plugins: { 'hold-sink': {}, ...(base['plugins'] as object) },
  });
  for (let i = 0; i < 29; i += 1) dropIntent(dir.handoff, `intent-${i}.json`, scaling(`app-${i}`, 2));
  dropIntent(dir.handoff, 'intent-hold.json', scaling('hold', 2));
  const running = startCli(['run', '--config', config]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('the held intent in flight', () => running.output().stdout.includes('holding an intent'), 20_000);
  running.child.kill('SIGTERM');
  await waitFor('the first signal seen', () => running.output().stdout.includes('stopping: intake closed'));
  running.child.kill('SIGTERM');
  const result = await running.exited;
  assert.equal(result.code, 143);

  const restart = await runCli(['once', '--config', writeJsonConfig(dir.root, fastConfig(dir.root))]);
  assert.equal(restart.code, 0, restart.stderr);
  assert.deepEqual(list(dir.handoff), []);
  const ids = gitLog(join(dir.root, 'out')).map((c) => c.intentId);
  assert.equal(ids.length, 30);
  assert.equal(new Set(ids).size, 30);
});
