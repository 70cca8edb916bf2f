// The audit log's grouped writes (plugins/audit-log/line-groups.ts): the lines of one turn go out
// in one write, a waiter learns its line is written only after that write, and a group that
// cannot be written is refused whole, with the chain sent back to where the group began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineGroups } from '../../plugins/audit-log/line-groups.ts';
import type { ChainHead } from '../../plugins/audit-log/chain.ts';

const head = (seq: number): ChainHead => ({ seq, hash: String(seq).padStart(64, '0') });

test('the lines of one turn are one write, and each waiter resolves only after it', async () => {
  const writes: string[] = [];
  const groups = new LineGroups({ write: (text) => void writes.push(text), onFailure: () => assert.fail('no failure expected') });
  const settledBefore: boolean[] = [];
  const first = groups.add('{"seq":1}', head(0)).then(() => settledBefore.push(writes.length === 1));
  const second = groups.add('{"seq":2}', head(1)).then(() => settledBefore.push(writes.length === 1));
  assert.deepEqual(writes, [], 'nothing is written within the turn');
  await Promise.all([first, second]);
  assert.deepEqual(writes, ['{"seq":1}\n{"seq":2}\n']);
  assert.deepEqual(settledBefore, [true, true]);
  await groups.add('{"seq":3}', head(2));
  assert.deepEqual(writes, ['{"seq":1}\n{"seq":2}\n', '{"seq":3}\n'], 'a later turn is a group of its own');
});

test('flush writes the open group at once (before an anchor is handed out)', async () => {
  const writes: string[] = [];
  const groups = new LineGroups({ write: (text) => void writes.push(text), onFailure: () => assert.fail('no failure expected') });
  const written = groups.add('{"seq":1}', head(0));
  groups.flush();
  assert.deepEqual(writes, ['{"seq":1}\n']);
  await written;
  groups.flush();
  assert.equal(writes.length, 1, 'an empty group writes nothing');
});

test('a group that cannot be written refuses every waiter and sends the chain back to its start', async () => {
  const failures: { message: string; from: ChainHead }[] = [];
  const groups = new LineGroups({
    write: () => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    },
    onFailure: (error, from) => void failures.push({ message: error.message, from }),
  });
  const first = groups.add('{"seq":5}', head(4));
  const second = groups.add('{"seq":6}', head(5));
  await assert.rejects(first, /no space left/);
  await assert.rejects(second, /no space left/);
  assert.deepEqual(failures, [{ message: 'no space left on device', from: head(4) }]);
});

test('a failed group nobody waits on (security events only) is reported, never an unhandled rejection', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  let reported!: () => void;
  const failed = new Promise<void>((resolve) => (reported = resolve));
  const groups = new LineGroups({
    write: () => {
      throw new Error('read-only file system');
    },
    onFailure: () => reported(),
  });
  void groups.add('{"seq":1}', head(0));
  await failed;
  // Unhandled rejections are reported after the microtasks of the turn that made them.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unhandled, []);
});
