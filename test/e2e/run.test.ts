// Issue 2, acceptance 4: `conductor run` commits a file renamed into handoff/ within one
// second, and SIGTERM ends it with exit 0 within five seconds leaving no intent half-done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../support/cli.ts';
import { dropIntent, fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';

test('run: a renamed-in intent is committed within a second; SIGTERM exits 0 promptly with nothing half-done', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  // The default debounce (250 ms) stays on: the one-second promise must hold with it.
  const config = fastConfig(dir.root, { 'fs-source': { debounceMs: 250 } });
  (config as { logLevel: string }).logLevel = 'info';
  const running = startCli(['run', '--config', writeJsonConfig(dir.root, config)]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('conductor started', () => running.output().stdout.includes('conductor started'));

  const renamedAt = Date.now();
  dropIntent(dir.handoff, 'intent-live.json', scaling('cu-up', 4), { atomic: true });
  await waitFor('the commit', () => gitLog(join(dir.root, 'out')).length === 1, 1_000, 5);
  const elapsed = Date.now() - renamedAt;
  assert.ok(elapsed <= 1_000, `committed after ${elapsed} ms`);
  await waitFor('the move to processed/', () => existsSync(join(dir.root, 'processed', 'intent-live.json')));

  for (let i = 0; i < 40; i += 1) dropIntent(dir.handoff, `intent-batch-${i}.json`, scaling(`batch-${i}`, 2), { atomic: true });
  await waitFor('some of the batch committed', () => gitLog(join(dir.root, 'out')).length >= 3, 5_000, 1);
  const signalledAt = Date.now();
  running.child.kill('SIGTERM');
  const result = await running.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(Date.now() - signalledAt < 5_000, 'stopped within five seconds');

  // Nothing half-done: every batch intent is either committed and processed, or untouched in
  // handoff/ with no commit — never committed but still waiting, never moved without a commit.
  const committed = new Set(gitLog(join(dir.root, 'out')).map((c) => c.intentId));
  const processed = list(join(dir.root, 'processed'));
  const waiting = list(dir.handoff).filter((n) => n.startsWith('intent-'));
  assert.equal(processed.length + waiting.length, 41);
  for (const name of processed) {
    const status = JSON.parse(readFileSync(join(dir.root, 'status', name.replace(/\.json$/, '.status.json')), 'utf8')) as {
      intentId: string;
    };
    assert.ok(committed.has(status.intentId), `${name} was processed and has its commit`);
  }
  assert.equal(committed.size, processed.length, 'one commit per processed intent, none for waiting ones');
  assert.deepEqual(list(join(dir.root, 'failed')), []);
});
