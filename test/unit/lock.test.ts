// The data directory lock (one owner per state directory): taken with no window in which a
// second process could find it ownerless, and never taken over from a live owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataDirLock } from '../../core/data-dir/lock.ts';
import { ConductorError } from '../../core/errors.ts';
import { tempDir } from '../support/data-dir.ts';

const LOCK_MODULE = new URL('../../core/data-dir/lock.ts', import.meta.url).href;

test('the lock names its owner from the moment it exists, and release removes it', () => {
  const dir = tempDir();
  const lock = new DataDirLock(join(dir, 'conductor.lock'));
  lock.acquire();
  const owner = JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number; host: string };
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.host, hostname());
  lock.release();
  assert.equal(existsSync(lock.path), false);
  assert.deepEqual(readdirSync(dir), [], 'no temporary file left beside the lock');
});

test('a lock file without a readable owner that was just written is not taken over', () => {
  // What a process that is creating the lock leaves for an instant: a second process must not
  // read that as "no owner" and remove it.
  const dir = tempDir();
  const path = join(dir, 'conductor.lock');
  writeFileSync(path, '');
  const locked = (error: unknown) => error instanceof ConductorError && error.code === 'CND_ERR_LOCKED';
  assert.throws(() => new DataDirLock(path).acquire(), locked);
  assert.equal(readFileSync(path, 'utf8'), '', 'the lock was left alone');
});

test('a lock whose owner is a dead process on this host is taken over', () => {
  const dir = tempDir();
  const path = join(dir, 'conductor.lock');
  writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 12_345, host: hostname(), since: new Date().toISOString() }));
  const lock = new DataDirLock(path);
  lock.acquire();
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid, process.pid);
  lock.release();
});

/**
 * Starts `count` processes that each wait for a go signal (a file appearing), then try the
 * lock at the same moment; resolves with how many took it.
 */
async function race(dir: string, count: number): Promise<{ won: number; locked: number }> {
  const go = join(dir, 'go');
  const script = `
    import { existsSync } from 'node:fs';
    const { DataDirLock } = await import(${JSON.stringify(LOCK_MODULE)});
    const lock = new DataDirLock(${JSON.stringify(join(dir, 'conductor.lock'))});
    process.stdout.write('ready\\n');
    while (!existsSync(${JSON.stringify(go)})) {}
    try { lock.acquire(); process.stdout.write('won\\n'); } catch (e) { process.stdout.write((e.code ?? e.message) + '\\n'); }
    // Hold it until every racer has tried (the parent closes stdin).
    process.stdin.resume(); process.stdin.on('end', () => { lock.release(); process.exit(0); });
  `;
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const lines = (n: number) =>
      new Promise<string[]>((resolve) => {
        const check = () => (out.split('\n').length > n ? resolve(out.split('\n').slice(0, n)) : child.stdout.once('data', check));
        check();
      });
    return { child, lines };
  });
  await Promise.all(children.map((c) => c.lines(1)));
  writeFileSync(go, '');
  const results = await Promise.all(children.map(async (c) => (await c.lines(2))[1]!));
  for (const c of children) c.child.stdin.end();
  await Promise.all(children.map((c) => new Promise((resolve) => c.child.on('close', resolve))));
  return { won: results.filter((r) => r === 'won').length, locked: results.filter((r) => r === 'CND_ERR_LOCKED').length };
}

test('processes that start together on one state directory: exactly one takes the lock', async () => {
  const ROUNDS = 12;
  const RACERS = 4;
  for (let round = 0; round < ROUNDS; round += 1) {
    const dir = tempDir();
    const { won, locked } = await race(dir, RACERS);
    assert.equal(won, 1, `round ${round}: ${won} processes took the lock`);
    assert.equal(locked, RACERS - 1, `round ${round}: the others are refused with CND_ERR_LOCKED`);
    assert.equal(existsSync(join(dir, 'conductor.lock')), false, 'the winner released it');
  }
});

test('temporary files of a process killed while taking the lock are removed by the next owner', () => {
  const dir = tempDir();
  const dead = 2 ** 22 + 54_321;
  writeFileSync(join(dir, `conductor.lock.${dead}-0123456789ab`), '{}');
  writeFileSync(join(dir, `conductor.lock.stale-${dead}-0123456789ab`), '{}');
  writeFileSync(join(dir, 'ledger.sqlite'), '');
  const lock = new DataDirLock(join(dir, 'conductor.lock'));
  lock.acquire();
  assert.deepEqual(readdirSync(dir).sort(), ['conductor.lock', 'ledger.sqlite']);
  lock.release();
});
