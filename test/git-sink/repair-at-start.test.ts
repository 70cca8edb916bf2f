// Issue 13 defect 4: what a killed writer leaves behind — a torn or missing working-tree file,
// a temporary object file under .git/objects, a temporary ref file — is repaired when the sink
// starts: the working tree equals HEAD for tracked files, `git fsck --strict` is clean and no
// temporary file of the sink is left. Then the same checked after real kill -9s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli } from '../support/cli.ts';
import { fastConfig, list, makeDataDir, scaling, writeJsonConfig } from '../support/data-dir.ts';
import { gitLog } from '../support/git.ts';
import { waitFor } from '../support/wait.ts';
import { dropIntentAt, gitIn, wholeness } from './support.ts';

/** The sink's temporary files anywhere in the repository (objects, ref, working tree). */
function temporaries(repo: string): string[] {
  return (readdirSync(repo, { recursive: true }) as string[]).filter((p) => /\.tmp-\d+/.test(p) || p.includes('conductor-tmp/'));
}

test('start repairs a torn working tree and removes temporary objects and refs left by a crash', { timeout: 60_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  for (const target of ['app-a', 'app-b']) dropIntentAt(dir.handoff, `intent-${target}.json`, scaling(target, 2), Date.now());
  assert.equal((await runCli(['once', '--config', config])).code, 0);
  const out = join(dir.root, 'out');
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });

  // What kill -9 in the middle of writes leaves.
  truncateSync(join(out, 'oran-odu', 'app-a', 'deployment.yaml'), 0);
  rmSync(join(out, 'oran-odu', 'app-b', 'Kptfile'));
  writeFileSync(join(out, 'oran-odu', 'app-b', 'deployment.yaml'), 'apiVersion: apps/v1\nkind: Depl');
  const objects = join(out, '.git', 'objects', 'ab');
  mkdirSync(objects, { recursive: true });
  const tmpObject = join(objects, `${'c'.repeat(38)}.tmp-4242-x1y2z3`);
  writeFileSync(tmpObject, 'x\u0001garbage');
  writeFileSync(join(out, '.git', 'conductor-head.tmp-4242'), '0123');
  // A repository skeleton of a process that died before its rename to .git (no such pid now).
  mkdirSync(join(out, '.git.tmp-999999999-abc', 'refs'), { recursive: true });
  assert.notDeepEqual(wholeness(out).status, '', 'the tear shows before the repair');

  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });
  assert.deepEqual(temporaries(out), []);
});

test('kill -9 while committing, then a restart: the working tree is whole, no temporary file left', { timeout: 180_000 }, async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = writeJsonConfig(dir.root, fastConfig(dir.root));
  const INTENTS = 120;
  const now = Date.now() - 10_000;
  for (let i = 0; i < INTENTS; i += 1) {
    dropIntentAt(dir.handoff, `intent-${String(i).padStart(4, '0')}.json`, scaling(`app-${i % 30}`, (i % 5) + 1), now + i);
  }
  const out = join(dir.root, 'out');
  for (let kill = 0; kill < 4; kill += 1) {
    const before = gitLog(out).length;
    const running = startCli(['run', '--config', config]);
    await waitFor('some commits', () => gitLog(out).length >= before + 5 || running.child.exitCode !== null, 60_000, 2);
    running.child.kill('SIGKILL');
    await running.exited;
  }
  const final = await runCli(['once', '--config', config]);
  assert.equal(final.code, 0, final.stderr);
  assert.deepEqual(list(dir.handoff), []);
  assert.deepEqual(list(join(dir.root, 'failed')), []);
  assert.deepEqual(wholeness(out), { fsck: '', status: '' });
  assert.deepEqual(temporaries(out), []);
});

test(
  'after a kill, another writer removing a package and a hand edit, start makes the working tree HEAD again and rewrites only what differs',
  { timeout: 60_000 },
  async (t) => {
    const dir = makeDataDir();
    t.after(dir.cleanup);
    const config = writeJsonConfig(dir.root, fastConfig(dir.root));
    for (const target of ['app-a', 'app-b', 'app-c']) dropIntentAt(dir.handoff, `intent-${target}.json`, scaling(target, 2), Date.now());
    // Killed once the files of its first commit are written: the index still knows none of them.
    const killed = await runCli(['once', '--config', config], { env: { CONDUCTOR_CRASH_AT: 'git.worktree-written' } });
    assert.notEqual(killed.code, 0);
    const out = join(dir.root, 'out');
    const written = ['app-a', 'app-b', 'app-c']
      .map((target) => join(out, 'oran-odu', target, 'deployment.yaml'))
      .find((file) => existsSync(file))!;
    const writtenBeforeKill = statSync(written).ino;
    assert.equal((await runCli(['once', '--config', config])).code, 0);
    assert.deepEqual(wholeness(out), { fsck: '', status: '' });
    assert.equal(statSync(written).ino, writtenBeforeKill, 'a file equal to HEAD is not rewritten at start');

    // Another writer's commit drops app-b; it moves the branch only (as fast-import would), so
    // app-b's files are still in this working tree and in its index.
    const head = gitIn(out, 'rev-parse', 'HEAD').trim();
    const tree = gitIn(out, 'ls-tree', 'HEAD', 'oran-odu/')
      .split('\n')
      .filter((line) => line !== '' && !line.endsWith('\toran-odu/app-b'));
    const withoutB = execFileSync('git', ['-C', out, 'mktree'], {
      input: `${tree.map((l) => l.replace('oran-odu/', '')).join('\n')}\n`,
      encoding: 'utf8',
    }).trim();
    const root = execFileSync('git', ['-C', out, 'mktree'], { input: `040000 tree ${withoutB}\toran-odu\n`, encoding: 'utf8' }).trim();
    const commit = gitIn(out, 'commit-tree', root, '-p', head, '-m', 'operator: retire app-b').trim();
    gitIn(out, 'update-ref', 'refs/heads/main', commit, head);
    // A hand edit of a file HEAD holds.
    writeFileSync(join(out, 'oran-odu', 'app-a', 'deployment.yaml'), 'edited by hand\n');

    const run = await runCli(['once', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(wholeness(out), { fsck: '', status: '' });
    assert.equal(existsSync(join(out, 'oran-odu', 'app-b')), false, "the retired package's files are gone");
    assert.match(readFileSync(join(out, 'oran-odu', 'app-a', 'deployment.yaml'), 'utf8'), /kind: Deployment/);
  },
);
