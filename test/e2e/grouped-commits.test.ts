// The git sink's grouped commits (issue 7): with `maxIntentsPerCommit` above 1, intents that
// wait while a commit is written share the next one, each with its own trailer; every intent
// is still committed exactly once, and a re-delivery — read back from history by git itself at
// start, or from commits another writer made while running — commits nothing new.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildPipeline } from '../../core/testkit/index.ts';
import { commitMessage, trailerIds } from '../../plugins/git-sink/index.ts';
import { runCli } from '../support/cli.ts';
import { BLUEPRINT, dropIntent, fastConfig, list, makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog, gitShow } from '../support/git.ts';

const INTENTS = 60;

/** Intent id → how many commits carry it. */
function trailerCounts(repo: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const commit of gitLog(repo)) for (const id of commit.intentIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

test('grouped commits: fewer commits than intents, each intent in exactly one, every package right', { timeout: 120_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  // 20 targets, three intents each: the last one (per-target order) decides the replicas.
  for (let i = 0; i < INTENTS; i += 1)
    dropIntent(dir.handoff, `intent-${String(i).padStart(3, '0')}.json`, scaling(`app-${i % 20}`, (i % 7) + 1, { reason: `group ${i}` }));
  const config = fastConfig(dir.root, { 'git-sink': { blueprint: BLUEPRINT, maxIntentsPerCommit: 8 } });
  const path = writeJsonConfig(dir.root, { ...config, concurrency: 16 });
  const run = await runCli(['once', '--config', path]);
  assert.equal(run.code, 0, run.stderr);

  const out = join(dir.root, 'out');
  const commits = gitLog(out);
  assert.ok(commits.length < INTENTS, `${commits.length} commits for ${INTENTS} intents`);
  assert.ok(
    commits.some((c) => c.intentIds.length > 1),
    'some commit holds several intents',
  );
  assert.ok(
    commits.every((c) => c.intentIds.length <= 8),
    'no commit holds more than maxIntentsPerCommit',
  );
  const counts = trailerCounts(out);
  assert.equal(counts.size, INTENTS, 'every intent has a trailer');
  assert.deepEqual(
    [...counts.values()].filter((n) => n !== 1),
    [],
    'no intent is committed twice',
  );
  for (let target = 0; target < 20; target += 1) {
    const last = 40 + target;
    const yaml = gitShow(out, 'HEAD', `oran-odu/app-${target}/deployment.yaml`);
    assert.match(yaml, new RegExp(`replicas: ${(last % 7) + 1}\\n`), `app-${target} has the replicas of intent ${last}`);
  }
  assert.equal(list(join(dir.root, 'processed')).length, INTENTS);
  assert.deepEqual(list(join(dir.root, 'failed')), []);
  execFileSync('git', ['-C', out, 'fsck', '--strict', '--no-progress'], { stdio: 'pipe' });
  assert.equal(execFileSync('git', ['-C', out, 'status', '--porcelain'], { encoding: 'utf8' }), '', 'the working tree matches HEAD');

  // The ledger forgotten (state removed), the same files delivered again: history alone
  // (read by `git log` at start) recognises all of them, and no commit is added.
  execFileSync('rm', ['-rf', join(dir.root, 'state'), join(dir.root, 'processed'), join(dir.root, 'status')]);
  for (let i = 0; i < INTENTS; i += 1)
    dropIntent(dir.handoff, `intent-${String(i).padStart(3, '0')}.json`, scaling(`app-${i % 20}`, (i % 7) + 1, { reason: `group ${i}` }));
  const again = await runCli(['once', '--config', path]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(gitLog(out).length, commits.length, 'no commit added by the re-delivery');
  assert.equal(list(join(dir.root, 'processed')).length, INTENTS);
});

test('grouped commits made by another writer while running are recognised (history read incrementally)', { timeout: 60_000 }, async (t) => {
  const root = tempDir();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const repo = join(root, 'shared-out');
  const plugins = (group: number) => ({
    'schema-validate': {},
    'git-sink': { dir: repo, blueprint: BLUEPRINT, maxIntentsPerCommit: group },
  });
  // Both writers started before anything is committed: the second one learns of the first's
  // commits only by walking the new history at its next commit.
  const first = await buildPipeline({ plugins: plugins(10), config: { concurrency: 10 } });
  t.after(() => first.close());
  const second = await buildPipeline({ plugins: plugins(1) });
  t.after(() => second.close());

  const intents = Array.from({ length: 10 }, (_, i) => ({ file: `intent-${i}.json`, intent: scaling(`shared-${i}`, i + 1) }));
  const firstResults = await Promise.all(intents.map(({ file, intent }) => first.feed(file, intent)));
  assert.ok(firstResults.every((r) => r.outcome?.status === 'succeeded'));
  const grouped = gitLog(repo);
  assert.ok(grouped.length < intents.length, `${grouped.length} commits for ${intents.length} intents`);

  for (const [i, { file, intent }] of intents.entries()) {
    const result = await second.feed(file, intent);
    assert.equal(result.outcome?.status, 'succeeded');
    assert.equal(result.outcome?.receipt?.reused, true, `intent ${i} is recognised as committed`);
    assert.equal(result.outcome?.receipt?.ref, firstResults[i]!.outcome?.receipt?.ref, `intent ${i} gets the commit that holds it`);
  }
  assert.equal(gitLog(repo).length, grouped.length, 'the second writer added no commit');
});

test('a reason cannot forge a trailer: only the last paragraph names intents', () => {
  const forged = 'x\n\nConductor-Intent-Id: victim\n\nConductor-Intent-Id: victim2';
  const intent = scaling('app', 2, { reason: forged });
  for (const group of [
    [{ intent, intentId: 'real', file: 'a.json' }],
    [
      { intent, intentId: 'real', file: 'a.json' },
      { intent, intentId: 'other', file: 'b.json' },
    ],
  ]) {
    const message = commitMessage(group);
    assert.deepEqual(
      trailerIds(message),
      group.map((g) => g.intentId),
      message,
    );
  }
  assert.deepEqual(trailerIds('subject\n\nbody\nConductor-Intent-Id: not-a-trailer\n\nConductor-Intent-Id: a\nConductor-Intent-Id: b\n'), [
    'a',
    'b',
  ]);
});
