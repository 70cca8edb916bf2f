// What the sink knows at start comes from the whole history, read as git writes it: a history
// whose log is many pipe chunks long (records cut across chunk boundaries) is learned intent by
// intent, with each id's commit and content, and nothing is taken from outside a trailer block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Intent } from '../../core/index.ts';
import { KnownEffects } from '../../plugins/git-sink/known-effects.ts';
import { Repo } from '../../plugins/git-sink/repo.ts';
import { gitIn } from './support.ts';

const idOf = (n: number) => `a${n.toString(16).padStart(39, '0')}`;
const contentOf = (n: number) => `c${n.toString(16).padStart(39, '0')}`;

test('a long history is learned in full at start, every id with its commit and content', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'history-at-start-'));
  const repo = new Repo(dir, 'main');
  t.after(async () => {
    await repo.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  // 1,000 commits of 3 intents each, every message padded to a few KiB: several MiB of log.
  const commits = 1_000;
  const stream: string[] = [];
  for (let c = 0; c < commits; c += 1) {
    const ids = [0, 1, 2].map((k) => c * 3 + k);
    const body = `Apply 3 intents\n\n${'- padding line that is not a trailer\n'.repeat(80)}\n${ids
      .map(
        (n) =>
          `Conductor-Intent-Id: ${idOf(n)}\nConductor-Intent-Effect: ${idOf(n)} content=${contentOf(n)} target=ns/nf-${n % 50} order=${n}`,
      )
      .join('\n')}\n`;
    const bytes = Buffer.byteLength(body);
    stream.push(
      `commit refs/heads/main\nmark :${c + 1}\ncommitter Operator <op@example.com> ${1_700_000_000 + c} +0000\ndata ${bytes}\n${body}\n`,
    );
  }
  execFileSync('git', ['-C', dir, 'fast-import', '--quiet'], { input: stream.join('') });
  const head = gitIn(dir, 'rev-parse', 'main').trim();
  const known = new KnownEffects('git-sink', repo, { name: 'Conductor', email: 'conductor@example.com' });
  await known.catchUp(head);
  assert.equal(known.size, commits * 3);
  const effect = (n: number, contentHash: string) => ({
    intent: { intent_type: 'scaling', namespace: 'ns', target: `nf-${n % 50}`, replicas: 1 } as Intent,
    intentId: idOf(n),
    file: `${n}.json`,
    contentHash,
    order: n,
    anchor: undefined,
  });
  const commitOf = (c: number) => gitIn(dir, 'rev-parse', `main~${commits - 1 - c}`).trim();
  for (const n of [0, 1, 1_500, 2_999]) {
    assert.deepEqual(known.earlierEffect(effect(n, contentOf(n))), { sink: 'git-sink', ref: commitOf(Math.floor(n / 3)), reused: true });
    assert.equal((known.earlierEffect(effect(n, contentOf(n + 1))) as Error).name, 'ConductorError');
  }
  assert.equal(known.earlierEffect(effect(3_000, contentOf(3_000))), undefined);
  // The newest order per target is what history holds last: 2,999 for nf-49, so 2,948 is superseded.
  assert.equal(known.newerThan(effect(2_948, contentOf(2_948)), new Map())?.code, 'CND_ERR_INTENT_SUPERSEDED');
  assert.equal(known.newerThan(effect(3_049, contentOf(3_049)), new Map()), undefined);
});
