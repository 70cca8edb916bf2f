// Durability you can choose: with full sync, git fast-import fsyncs the pack, its index and the
// branch (core.fsync), and the directories holding them are fsynced before `Repo.checkpoint`
// returns (so before the receipt); with normal sync none is. Directory fsyncs are observed by
// wrapping the real one (the writes are real); the files' are git's, checked by their effect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Repo } from '../../plugins/git-sink/repo.ts';
import { runCli } from '../support/cli.ts';
import { BLUEPRINT, makeDataDir, scaling, tempDir } from '../support/data-dir.ts';
import { writeJsonConfig } from '../support/data-dir.ts';
import { dropIntentAt, gitIn, statusOf, wholeness } from './support.ts';

/** Runs `work` counting fsync calls, by what the descriptor names (a file or a directory). */
async function countingFsyncs(work: () => Promise<void>): Promise<{ files: number; dirs: string[] }> {
  const counts = { files: 0, dirs: [] as string[] };
  const original = fs.fsyncSync;
  fs.fsyncSync = (fd: number) => {
    if (fs.fstatSync(fd).isDirectory()) counts.dirs.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
    else counts.files += 1;
    original(fd);
  };
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    fs.fsyncSync = original;
    syncBuiltinESMExports();
  }
  return counts;
}

const author = { name: 'Test', email: 'test@localhost', time: 1_700_000_000 };

test('full sync: the pack and branch directories are fsynced before checkpoint returns; normal: none', async (t) => {
  const root = tempDir();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'out');
  const full = new Repo(out, 'main', { fullSync: true });
  t.after(() => full.close());
  full.init();
  const change = (replicas: number) => [{ path: ['ns', 'app', 'deployment.yaml'], content: `replicas: ${replicas}\n` }];

  let head: string | undefined;
  const synced = await countingFsyncs(async () => {
    [head] = await full.checkpoint([full.stream(undefined, change(1), author, 'first\n')], true);
  });
  assert.deepEqual(synced.dirs.sort(), [join(out, '.git', 'objects', 'pack'), join(out, '.git', 'refs', 'heads')]);
  assert.equal(fs.readFileSync(full.headRef, 'utf8').trim(), head);
  await full.close();

  const normal = new Repo(out, 'main', { fullSync: false });
  t.after(() => normal.close());
  const none = await countingFsyncs(async () => {
    const marks = [normal.stream(head, change(2), author, 'second\n')];
    marks.push(normal.stream(marks[0], change(3), author, 'third\n'));
    const oids = await normal.checkpoint(marks, false);
    assert.equal(oids.length, 2);
    assert.equal(fs.readFileSync(normal.headRef, 'utf8').trim(), oids[1]);
  });
  assert.deepEqual(none, { files: 0, dirs: [] });
  await normal.close();
  assert.equal(gitIn(out, 'show', 'HEAD:ns/app/deployment.yaml'), 'replicas: 3\n');
  assert.equal(gitIn(out, 'show', 'HEAD~1:ns/app/deployment.yaml'), 'replicas: 2\n');
  // Packs only: no loose object, and nothing fast-import leaves when it ends cleanly.
  assert.equal(gitIn(out, 'count-objects', '-v').match(/^count: (\d+)/m)?.[1], '0');
  assert.deepEqual(
    fs.readdirSync(join(out, '.git')).filter((n) => n.startsWith('fast_import_crash_')),
    [],
  );
  assert.deepEqual(wholeness(out).fsck, '');
});

test('the sync option is validated and `ledger.sync: full` is followed end to end', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const plugins = (sink: Record<string, unknown>) => ({
    'fs-source': { debounceMs: 0 },
    'git-sink': { blueprint: BLUEPRINT, ...sink },
  });
  const bad = writeJsonConfig(dir.root, { dataDir: dir.root, plugins: plugins({ sync: 'sometimes' }) }, 'bad.json');
  const refused = await runCli(['once', '--config', bad]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /git-sink\.sync/);

  const config = writeJsonConfig(dir.root, {
    dataDir: dir.root,
    logLevel: 'warn',
    ledger: { sync: 'full' },
    plugins: plugins({}),
  });
  dropIntentAt(dir.handoff, 'intent-durable.json', scaling('durable', 4), Date.now());
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(statusOf(dir.root, 'intent-durable').status, 'succeeded');
  assert.deepEqual(wholeness(join(dir.root, 'out')), { fsck: '', status: '' });
});
