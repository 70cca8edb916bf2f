// Issue 8, acceptance 3: while 1,000 intents flow through `conductor run`, the rate limit is
// changed in the config file (the reload applies) and then a broken config is written (the
// reload is refused, the old pipeline keeps going). No intent is lost or applied twice, and the
// reload metric shows one success and one failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/ports.ts';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../support/cli.ts';
import { BLUEPRINT, dropIntent, list, makeDataDir, scaling } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';

const INTENTS = Number(process.env['RELOAD_INTENTS'] ?? 1_000);

/** Replaces the config the way a careful editor (or a ConfigMap update) does: write, then rename. */
function writeConfig(path: string, config: unknown): void {
  writeFileSync(`${path}.next`, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  renameSync(`${path}.next`, path);
}

test(`hot reload while ${INTENTS} intents flow: one applied, one refused, nothing lost or doubled`, { timeout: 300_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const config = (requestsPerMinute: number) => ({
    dataDir: dir.root,
    logLevel: 'info',
    plugins: {
      'fs-source': { debounceMs: 0, rescanMs: 1_000 },
      'schema-validate': {},
      'rate-limit': { requestsPerMinute, burst: 20 },
      'git-sink': { blueprint: BLUEPRINT },
      prometheus: { port: metricsPort, host: '127.0.0.1' },
      health: { port: healthPort, host: '127.0.0.1' },
    },
  });
  const file = join(dir.root, 'conductor.config.json');
  writeConfig(file, config(30_000));
  const running = startCli(['run', '--config', file]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('started', () => running.output().stdout.includes('conductor started'), 20_000);
  const hashBefore = ((await (await fetch(`http://127.0.0.1:${healthPort}/ready`)).json()) as { configHash: string }).configHash;

  for (let i = 0; i < INTENTS; i += 1)
    dropIntent(dir.handoff, `intent-${i}.json`, scaling(`app-${i % 100}`, (i % 5) + 1), { atomic: true });
  await waitFor('some intents done', () => list(join(dir.root, 'processed')).length >= INTENTS / 10, 60_000, 20);

  writeConfig(file, config(60_000));
  await waitFor('the reload applied', () => running.output().stdout.includes('config reload applied'), 30_000);
  assert.ok(list(dir.handoff).length > 0, 'intents were still flowing at the first reload');
  writeConfig(file, JSON.stringify({ ...config(60_000), concurrency: 0 }));
  await waitFor('the reload refused', () => running.output().stdout.includes('config reload refused'), 30_000);
  assert.match(running.output().stdout, /concurrency: must be >= 1/);

  await waitFor('every intent processed', () => list(join(dir.root, 'processed')).length >= INTENTS, 240_000, 50);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(metrics, /conductor_config_reloads_total\{result="success"\} 1\n/);
  assert.match(metrics, /conductor_config_reloads_total\{result="failure"\} 1\n/);
  const ready = (await (await fetch(`http://127.0.0.1:${healthPort}/ready`)).json()) as { status: string; configHash: string };
  assert.equal(ready.status, 'ready');
  assert.notEqual(ready.configHash, hashBefore, '/ready shows the hash of the config in force');

  running.child.kill('SIGTERM');
  assert.equal((await running.exited).code, 0);
  assert.deepEqual(
    list(dir.handoff).filter((n) => n.startsWith('intent-')),
    [],
  );
  assert.deepEqual(list(join(dir.root, 'failed')), []);
  // Ten intents per target, dropped oldest first: one processed after a newer one for its target
  // was applied is superseded (newest wins), so the commits are those of the intents applied.
  const outcomes = list(join(dir.root, 'status')).map(
    (name) => JSON.parse(readFileSync(join(dir.root, 'status', name), 'utf8')) as { status: string; intentId: string; file: string },
  );
  assert.equal(outcomes.length, INTENTS, 'one outcome per intent');
  const applied = outcomes.filter((o) => o.status === 'succeeded' || o.status === 'duplicate');
  const superseded = outcomes.filter((o) => o.status === 'superseded');
  assert.equal(applied.length + superseded.length, INTENTS, 'every intent applied, or superseded by a newer one');
  const ids = gitLog(join(dir.root, 'out')).map((c) => c.intentId);
  assert.equal(new Set(ids).size, ids.length, 'none applied twice');
  assert.deepEqual([...ids].sort(), applied.map((o) => o.intentId).sort(), 'one commit per intent applied, none for another');
  const numberOf = (file: string) => Number(/intent-(\d+)\.json$/.exec(file)![1]);
  const appliedNumbers = applied.map((o) => numberOf(o.file));
  for (const { file } of superseded) {
    const n = numberOf(file);
    assert.ok(
      appliedNumbers.some((m) => m > n && m % 100 === n % 100),
      `${file} is superseded by a newer intent for its target that was applied`,
    );
  }
});

test('SIGHUP reloads too, and an unchanged config is left alone', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const file = join(dir.root, 'conductor.config.json');
  writeConfig(file, {
    dataDir: dir.root,
    logLevel: 'info',
    plugins: { 'fs-source': { debounceMs: 0 }, 'git-sink': { blueprint: BLUEPRINT } },
  });
  const running = startCli(['run', '--config', file]);
  t.after(() => running.child.kill('SIGKILL'));
  await waitFor('started', () => running.output().stdout.includes('conductor started'), 20_000);
  running.child.kill('SIGHUP');
  await waitFor('the reload considered', () => running.output().stdout.includes('config reload: nothing changed'), 20_000);
  running.child.kill('SIGTERM');
  assert.equal((await running.exited).code, 0);
});
