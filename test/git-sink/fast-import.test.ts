// The writer and reader under the git sink: commits streamed to one git fast-import and made
// durable together by a checkpoint, packs instead of loose objects, paths of any bytes, a
// branch moved by someone else refused rather than overwritten, and caches bounded by bytes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ByteCache } from '../../plugins/git-sink/cache.ts';
import { quotePath } from '../../plugins/git-sink/fast-import.ts';
import { Repo } from '../../plugins/git-sink/repo.ts';
import { runCli } from '../support/cli.ts';
import { BLUEPRINT, fastConfig, makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { dropIntentAt, gitIn, wholeness } from './support.ts';

const author = { name: 'Test', email: 'test@localhost', time: 1_700_000_000 };

/** A new repository in a temporary directory, closed and removed after the test. */
function newRepository(t: TestContext): { out: string; repo: Repo } {
  const root = tempDir();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'out');
  const repo = new Repo(out, 'main');
  t.after(() => repo.close());
  repo.init();
  return { out, repo };
}

test('paths are quoted so that any name reaches git as written', async (t) => {
  assert.equal(quotePath('a b/"c"\\d\ne'), '"a b/\\"c\\"\\\\d\\012e"');
  const { out, repo } = newRepository(t);
  const odd = ['name with space', 'quote"d', 'tab\there'];
  const [head] = await repo.checkpoint(
    [
      repo.stream(
        undefined,
        odd.map((name) => ({ path: ['ns', name, 'f.yaml'], content: name })),
        author,
        'odd\n',
      ),
    ],
    false,
  );
  await repo.close();
  assert.equal(gitIn(out, 'rev-parse', 'HEAD').trim(), head);
  const listed = gitIn(out, 'ls-tree', '-z', '--name-only', 'HEAD:ns').split('\0').filter(Boolean);
  assert.deepEqual(listed.sort(), [...odd].sort());
  for (const name of odd) assert.equal(gitIn(out, 'cat-file', 'blob', `HEAD:ns/${name}/f.yaml`), name);
});

test('a branch moved by another writer since the parent was read is not overwritten', async (t) => {
  const { out, repo } = newRepository(t);
  const file = (text: string) => [{ path: ['ns', 'app', 'f.yaml'], content: text }];
  const [base] = await repo.checkpoint([repo.stream(undefined, file('base'), author, 'base\n')], false);
  await repo.close();
  // Another writer commits on top of base, with git itself.
  gitIn(out, 'read-tree', 'HEAD');
  gitIn(out, 'commit', '-q', '--allow-empty', '-m', 'someone else');
  const theirs = gitIn(out, 'rev-parse', 'HEAD').trim();
  // This writer still builds on base: the checkpoint must refuse, and the branch keep theirs.
  await assert.rejects(repo.checkpoint([repo.stream(base, file('mine'), author, 'mine\n')], false), /was not moved/);
  assert.equal(gitIn(out, 'rev-parse', 'HEAD').trim(), theirs);
  assert.deepEqual(wholeness(out).fsck, '');
});

test('the caches are bounded by bytes, dropping the least recently used first', () => {
  const cache = new ByteCache<string>(10_000, (text) => text.length * 2);
  for (let i = 0; i < 1_000; i += 1) cache.set(`k${i}`, 'x'.repeat(100));
  assert.ok(cache.bytes <= 10_000, `${cache.bytes} bytes held`);
  assert.equal(cache.get('k999'), 'x'.repeat(100));
  assert.equal(cache.get('k0'), undefined);
  cache.set('huge', 'y'.repeat(10_000));
  assert.equal(cache.get('huge'), undefined, 'a value larger than the whole cache is not kept');
});

test('an entry changed in place is counted as it has become: the limit holds, the oldest go first', () => {
  const listings = new ByteCache<Map<string, string>>(1_000, (m) => m.size * 100);
  const grown = new Map([['a', '1']]);
  listings.set('old', new Map([['x', '1']]));
  listings.set('grown', grown);
  // Each: its weight, its key (two bytes a character) and 64 bytes of bookkeeping.
  assert.equal(listings.bytes, 100 + 6 + 64 + (100 + 10 + 64));
  for (const name of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
    grown.set(name, '1');
    listings.resize('grown', 100);
  }
  assert.ok(listings.bytes <= 1_000, `${listings.bytes} bytes held`);
  assert.equal(listings.get('old'), undefined, 'the least recently used made room');
  assert.equal(listings.get('grown'), grown);
  for (const name of ['j', 'k']) {
    grown.set(name, '1');
    listings.resize('grown', 100);
  }
  assert.equal(listings.get('grown'), undefined, 'an entry that outgrew the whole cache is dropped');
  assert.equal(listings.bytes, 0);
});

test('intents waiting together: one commit each, made durable by shared checkpoints, all in packs', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const count = 24;
  const now = Date.now();
  for (let i = 0; i < count; i += 1)
    dropIntentAt(dir.handoff, `intent-${String(i).padStart(3, '0')}.json`, scaling(`app-${i % 6}`, (i % 5) + 1), now - (count - i) * 1000);
  const config = writeJsonConfig(dir.root, {
    ...fastConfig(dir.root, { 'git-sink': { blueprint: BLUEPRINT } }),
    concurrency: 16,
  });
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  const out = join(dir.root, 'out');
  const commits = gitLog(out);
  assert.equal(commits.length, count, 'one commit per intent');
  assert.ok(commits.every((c) => c.intentIds.length === 1));
  assert.equal(gitIn(out, 'count-objects', '-v').match(/^count: (\d+)/m)?.[1], '0', 'no loose object');
  const packs = readdirSync(join(out, '.git', 'objects', 'pack')).filter((n) => n.endsWith('.pack'));
  assert.ok(packs.length < count, `fewer packs (${packs.length}) than commits: checkpoints were shared`);
  assert.deepEqual(
    readdirSync(join(out, '.git')).filter((n) => n.startsWith('fast_import_crash_')),
    [],
  );
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });
  for (let i = 0; i < 6; i += 1) {
    const last = Math.max(...Array.from({ length: count }, (_, n) => n).filter((n) => n % 6 === i));
    assert.match(gitIn(out, 'show', `HEAD:oran-odu/app-${i}/deployment.yaml`), new RegExp(`replicas: ${(last % 5) + 1}\\b`));
  }
});
