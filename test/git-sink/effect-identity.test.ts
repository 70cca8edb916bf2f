// Issue 13 defect 1 and issue 18 defect 4, at the git sink: the effect's identity is the intent
// id and the content hash, both recorded in the commit's trailers, so a reused correlation_id
// with other content is refused from history alone (no ledger); and the producer's order is
// recorded per target, so an older intent arriving after a newer one was applied is settled
// as `superseded` instead of reverting it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { intentIdOf } from '../../core/intent/identity.ts';
import { commitMessage, trailerEffects, trailerIds } from '../../plugins/git-sink/index.ts';
import { runCli } from '../support/cli.ts';
import { fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog, gitShow } from '../support/git.ts';
import { dropIntentAt, gitIn, initRepo, statusOf } from './support.ts';

test('a reused correlation_id with other content is a conflict found in history, with the ledger gone', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const now = Date.now();
  dropIntentAt(dir.handoff, 'intent-first.json', scaling('appc', 3, { correlation_id: 'corr-1' }), now - 10_000);
  const first = await runCli(['once', '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  const out = join(dir.root, 'out');
  assert.match(gitShow(out, 'HEAD', 'oran-odu/appc/deployment.yaml'), /replicas: 3\n/);

  rmSync(join(dir.root, 'state'), { recursive: true, force: true });
  dropIntentAt(dir.handoff, 'intent-second.json', scaling('appc', 7, { correlation_id: 'corr-1' }), now);
  const second = await runCli(['once', '--config', config]);
  assert.equal(second.code, 1, `exit 1 for a failed intent\n${second.stderr}`);
  assert.deepEqual(
    list(join(dir.root, 'failed')).filter((n) => n.endsWith('.json') && !n.includes('.error')),
    ['intent-second.json'],
  );
  const status = statusOf(dir.root, 'intent-second');
  assert.equal(status.status, 'failed');
  assert.equal(status.code, 'CND_ERR_INTENT_CONFLICT');
  const firstCommit = gitLog(out)[0]!.hash;
  assert.ok(status.message?.includes(firstCommit.slice(0, 12)), `the conflict names the earlier commit: ${status.message}`);
  assert.match(gitShow(out, 'HEAD', 'oran-odu/appc/deployment.yaml'), /replicas: 3\n/, 'the first content stays applied');
  assert.equal(gitLog(out).length, 1, 'nothing committed');
});

test('the same id and content found in history is the same effect (a reused receipt)', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  dropIntentAt(dir.handoff, 'intent-a.json', scaling('appd', 4, { correlation_id: 'corr-2' }), Date.now() - 5_000);
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  rmSync(join(dir.root, 'state'), { recursive: true, force: true });
  // Another name and a later time, the same correlation_id and content: the same intent.
  dropIntentAt(dir.handoff, 'intent-a-again.json', scaling('appd', 4, { correlation_id: 'corr-2' }), Date.now());
  const again = await runCli(['once', '--config', config]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(statusOf(dir.root, 'intent-a-again').status, 'succeeded');
  assert.equal(gitLog(join(dir.root, 'out')).length, 1);
});

test('an older intent arriving after a newer one for its target was applied is superseded', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const now = Date.now();
  dropIntentAt(dir.handoff, 'intent-newer.json', scaling('appe', 5), now);
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  const out = join(dir.root, 'out');
  const newerCommit = gitLog(out)[0]!.hash;

  dropIntentAt(dir.handoff, 'intent-older.json', scaling('appe', 3), now - 100);
  const late = await runCli(['once', '--config', config]);
  assert.equal(late.code, 0, `a superseded intent is not a failure\n${late.stderr}`);
  const status = statusOf(dir.root, 'intent-older');
  assert.equal(status.status, 'superseded');
  assert.equal(status.code, 'CND_ERR_INTENT_SUPERSEDED');
  assert.ok(status.message?.includes(newerCommit.slice(0, 12)), `names the newer commit: ${status.message}`);
  assert.ok(list(join(dir.root, 'processed')).includes('intent-older.json'));
  assert.deepEqual(list(join(dir.root, 'failed')), []);
  assert.equal(gitLog(out).length, 1, 'no commit');
  assert.match(gitShow(out, 'HEAD', 'oran-odu/appe/deployment.yaml'), /replicas: 5\n/);

  // A newer intent still applies; so does one with the same time (only older ones are refused).
  dropIntentAt(dir.handoff, 'intent-same-time.json', scaling('appe', 6), now);
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  assert.equal(statusOf(dir.root, 'intent-same-time').status, 'succeeded');
  assert.match(gitShow(out, 'HEAD', 'oran-odu/appe/deployment.yaml'), /replicas: 6\n/);
});

test('the order is learnt from history at start, also across a history the sink did not write last', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const now = Date.now();
  dropIntentAt(dir.handoff, 'intent-new.json', scaling('appf', 9), now);
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  // An operator's commit on top (no trailers) does not hide the order recorded below it.
  const out = join(dir.root, 'out');
  gitIn(out, 'commit', '-q', '--allow-empty', '-m', 'operator: a note');
  dropIntentAt(dir.handoff, 'intent-old.json', scaling('appf', 1), now - 1_000);
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  assert.equal(statusOf(dir.root, 'intent-old').status, 'superseded');
});

test('an older-format commit (ids only) still counts as the same effect for its id', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const out = join(dir.root, 'out');
  // What earlier versions wrote: the id trailer alone (no content hash, no order).
  dropIntentAt(dir.handoff, 'intent-legacy.json', scaling('appg', 2, { correlation_id: 'corr-legacy' }), Date.now());
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  initRepo(out, () => undefined);
  const id = { intentId: intentIdOf('intent-legacy.json', { correlation_id: 'corr-legacy' }) };
  gitIn(out, 'commit', '-q', '--allow-empty', '-m', `scaling oran-odu/appg to 2 replicas\n\nConductor-Intent-Id: ${id.intentId}`);
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(statusOf(dir.root, 'intent-legacy').status, 'succeeded');
  assert.equal(gitLog(out).length, 2, 'recognised, not committed again');
});

test('trailers: one id line and one effect line per intent, unambiguous in a group', () => {
  const group = [
    { intent: scaling('a', 1), intentId: 'id-a', file: 'a.json', contentHash: 'hash-a', order: 1_700_000_000_123.25 },
    { intent: scaling('b', 2, { namespace: 'other' }), intentId: 'id-b', file: 'b.json', contentHash: 'hash-b' },
  ];
  const message = commitMessage(group);
  assert.deepEqual(trailerIds(message), ['id-a', 'id-b']);
  assert.deepEqual(trailerEffects(message), [
    { id: 'id-a', contentHash: 'hash-a', target: 'oran-odu/a', order: 1_700_000_000_123.25 },
    { id: 'id-b', contentHash: 'hash-b', target: 'other/b' },
  ]);
});
