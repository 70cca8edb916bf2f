// The commit queue keeps at most one turn waiting: a turn takes every intent pending when it
// starts, so a turn queued per submission would find nothing to do, and with intents arriving
// as fast as turns run such idle turns piled up — about one per intent, held in memory until
// the backlog was over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Intent, Receipt } from '../../core/index.ts';
import { CommitQueue } from '../../plugins/git-sink/commit-queue.ts';
import { KnownEffects } from '../../plugins/git-sink/known-effects.ts';
import { Repo } from '../../plugins/git-sink/repo.ts';
import { gitIn } from './support.ts';

test('intents kept in flight as fast as turns commit them never queue more than one waiting turn', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'commit-queue-'));
  const repo = new Repo(dir, 'main');
  t.after(async () => {
    await repo.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  repo.init();
  const identity = { name: 'Conductor', email: 'conductor@example.com' };
  const queue = new CommitQueue({
    plugin: 'git-sink',
    repo,
    known: new KnownEffects('git-sink', repo, identity),
    author: () => ({ ...identity, time: 1_700_000_000 }),
    maxIntentsPerCommit: 16,
    fullSync: false,
    apply: (_head, p) =>
      Promise.resolve({ path: ['ns', p.intent.target], snapshot: undefined, files: { 'replicas.txt': `${p.intent.replicas}\n` } }),
    writeWorkingTree: () => Promise.resolve(),
    withLock: (work) => work(),
  });
  const total = 1_500;
  const inFlight = 64;
  let submitted = 0;
  let mostQueued = 0;
  const receipts: Receipt[] = [];
  const submitNext = (): Promise<void> | undefined => {
    if (submitted === total) return undefined;
    const n = submitted++;
    const intent = { intent_type: 'scaling', namespace: 'ns', target: `nf-${n % 200}`, replicas: n, source: 'test' } as Intent;
    const id = n.toString(16).padStart(40, '0');
    return new Promise<Receipt>((resolve, reject) => {
      queue.submit({ intent, intentId: id, file: `${n}.json`, contentHash: id, order: n, anchor: undefined, resolve, reject });
      mostQueued = Math.max(mostQueued, queue.queued);
    }).then((receipt) => {
      receipts.push(receipt);
      return submitNext();
    });
  };
  await Promise.all(Array.from({ length: inFlight }, submitNext));
  await queue.drained();
  assert.equal(receipts.length, total);
  assert.ok(mostQueued <= 2, `at most one turn waiting (and one for what a turn could not take), saw ${mostQueued} queued`);
  assert.equal(
    gitIn(dir, 'log', '--format=%(trailers:key=Conductor-Intent-Id,valueonly)', 'main').split('\n').filter(Boolean).length,
    total,
  );
});
