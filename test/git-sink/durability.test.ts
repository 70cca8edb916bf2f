// Durability you can choose: with full sync, every object file, the branch file and the
// directories holding them are fsynced before `Repo.commit` returns (so before the receipt);
// with normal sync nothing is. fsync is observed by wrapping the real one (the writes are real).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { durability } from '../../plugins/git-sink/durable.ts';
import { Repo } from '../../plugins/git-sink/repo.ts';
import { runCli } from '../support/cli.ts';
import { BLUEPRINT, makeDataDir, scaling, tempDir } from '../support/data-dir.ts';
import { writeJsonConfig } from '../support/data-dir.ts';
import { dropIntentAt, gitIn, statusOf, wholeness } from './support.ts';

/** Runs `work` counting fsync calls, by what the descriptor names (a file or a directory). */
async function countingFsyncs(work: () => Promise<void>): Promise<{ files: number; dirs: number }> {
  const counts = { files: 0, dirs: 0 };
  const original = fs.fsyncSync;
  fs.fsyncSync = (fd: number) => {
    if (fs.fstatSync(fd).isDirectory()) counts.dirs += 1;
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

test('full sync: objects, the branch and their directories are fsynced before commit returns; normal: none', async (t) => {
  const root = tempDir();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const repo = new Repo(join(root, 'out'), 'main');
  repo.init();
  const change = (replicas: number) => [{ path: ['ns', 'app', 'deployment.yaml'], content: `replicas: ${replicas}\n` }];

  let head: string | undefined;
  const full = await countingFsyncs(async () => {
    head = await repo.commit(undefined, change(1), author, 'first\n', durability(true));
  });
  // A blob, two trees, the root tree and the commit: five objects, then the branch file.
  assert.equal(full.files, 6, 'each object file and the branch file');
  assert.ok(full.dirs >= 6, `the fan-out directories, objects/ and refs/heads (${full.dirs})`);
  assert.equal(fs.readFileSync(repo.headRef, 'utf8').trim(), head);

  const normal = await countingFsyncs(async () => {
    await repo.commit(head, change(2), author, 'second\n', durability(false));
  });
  assert.deepEqual(normal, { files: 0, dirs: 0 });
  assert.equal(gitIn(join(root, 'out'), 'show', 'HEAD:ns/app/deployment.yaml'), 'replicas: 2\n');
});

test('the sync option is validated and `ledger.sync: full` is followed end to end', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const plugins = (sink: Record<string, unknown>) => ({ 'fs-source': { debounceMs: 0 }, 'git-sink': { blueprint: BLUEPRINT, ...sink } });
  const bad = writeJsonConfig(dir.root, { dataDir: dir.root, plugins: plugins({ sync: 'sometimes' }) }, 'bad.json');
  const refused = await runCli(['once', '--config', bad]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /git-sink\.sync/);

  const config = writeJsonConfig(dir.root, { dataDir: dir.root, logLevel: 'warn', ledger: { sync: 'full' }, plugins: plugins({}) });
  dropIntentAt(dir.handoff, 'intent-durable.json', scaling('durable', 4), Date.now());
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(statusOf(dir.root, 'intent-durable').status, 'succeeded');
  assert.deepEqual(wholeness(join(dir.root, 'out')), { fsck: '', status: '' });
});
