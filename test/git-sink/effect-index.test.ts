// The git sink's index of every intent id in history: compact (bytes, not strings), yet exact —
// an id is found only under its own digits, the first record of an id is the one kept, and ids
// that are not hex digests (hand-written history) are kept as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EffectIndex } from '../../plugins/git-sink/effect-index.ts';

const hex = (text: string) => createHash('sha1').update(text).digest('hex');

test('every id added is found with its commit and content, and no other id is', () => {
  const index = new EffectIndex();
  const count = 20_000;
  for (let i = 0; i < count; i += 1)
    index.addIfAbsent(hex(`id ${i}`), hex(`commit ${Math.floor(i / 64)}`), i % 7 === 0 ? undefined : hex(`content ${i}`));
  assert.equal(index.size, count);
  for (let i = 0; i < count; i += 1) {
    assert.deepEqual(index.get(hex(`id ${i}`)), {
      commit: hex(`commit ${Math.floor(i / 64)}`),
      contentHash: i % 7 === 0 ? undefined : hex(`content ${i}`),
    });
  }
  for (let i = count; i < count + 2_000; i += 1) assert.equal(index.get(hex(`id ${i}`)), undefined);
});

test('ids sharing their first bytes (one home slot) stay apart', () => {
  const index = new EffectIndex();
  const ids = Array.from({ length: 500 }, (_, i) => `00000000${hex(`near ${i}`).slice(8)}`);
  ids.forEach((id, i) => index.addIfAbsent(id, hex(`commit ${i}`), hex(`content ${i}`)));
  ids.forEach((id, i) => assert.equal(index.get(id)?.contentHash, hex(`content ${i}`)));
  assert.equal(index.get(`00000000${'f'.repeat(32)}`), undefined);
});

test('the first record of an id is kept (history is read newest first)', () => {
  const index = new EffectIndex();
  const id = hex('one');
  index.addIfAbsent(id, hex('newest commit'), hex('newest content'));
  index.addIfAbsent(id, hex('older commit'), hex('older content'));
  assert.deepEqual(index.get(id), { commit: hex('newest commit'), contentHash: hex('newest content') });
  assert.equal(index.size, 1);
});

test('ids, hashes and commits that are not lowercase 40-digit hex are kept exactly as written', () => {
  const index = new EffectIndex();
  const upper = hex('upper').toUpperCase();
  index.addIfAbsent('hand-written-id', hex('c1'), undefined);
  index.addIfAbsent(upper, hex('c2'), hex('x'));
  index.addIfAbsent(hex('long content'), hex('c3'), `${hex('a')}${hex('b')}`);
  index.addIfAbsent(hex('long content'), hex('c4'), hex('other'));
  assert.deepEqual(index.get('hand-written-id'), { commit: hex('c1'), contentHash: undefined });
  assert.deepEqual(index.get(upper), { commit: hex('c2'), contentHash: hex('x') });
  assert.equal(index.get(upper.toLowerCase()), undefined);
  assert.deepEqual(index.get(hex('long content')), { commit: hex('c3'), contentHash: `${hex('a')}${hex('b')}` });
  assert.equal(index.size, 3);
});
