// The audit chain's links (plugins/audit-log/chain.ts linkRecord): a record of plain JSON values
// is hashed and written without the round trip through JSON. Whatever the fields, the line and
// the head must be those of the definition: the record as JSON reads it back, hashed over its
// canonical JSON, written with `hash` added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, hash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson } from '../../core/index.ts';
import { GENESIS, MAC_ALGORITHM, linkRecord, type ChainHead } from '../../plugins/audit-log/chain.ts';

/** The definition, written out: JSON round trip, canonical JSON, sha256 or HMAC. */
function definition(head: ChainHead, fields: Record<string, unknown>, key?: Buffer): { line: string; head: ChainHead } {
  const mac = key === undefined ? {} : { mac: MAC_ALGORITHM };
  const record = JSON.parse(JSON.stringify({ ...fields, ...mac, seq: head.seq + 1, prev: head.hash })) as Record<string, unknown>;
  const canonical = canonicalJson(record);
  const digest = key === undefined ? hash('sha256', canonical, 'hex') : createHmac('sha256', key).update(canonical).digest('hex');
  return { line: JSON.stringify({ ...record, hash: digest }), head: { seq: head.seq + 1, hash: digest } };
}

class Instance {
  readonly kept = 'own field of a class instance';
}

/** Names the chain itself uses, and names JavaScript treats specially. */
const fieldName = fc.oneof(
  fc.string(),
  fc.constantFrom('hash', 'seq', 'prev', 'mac', '__proto__', 'toJSON', '0', '1', '10', 'constructor', ''),
);

/** Plain JSON values and everything JSON changes on the way: the fast path must tell them apart. */
const { value: fieldValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, '\ud800', 'é\u2028'),
    fc.date({ noInvalidDate: false }),
    fc.constant(new Instance()),
    fc.constant(new Map([['a', 1]])),
    fc.constant({ toJSON: () => ({ replaced: true }) }),
    fc.constant(Object.assign([1, 2], { toJSON: () => 'an array that writes itself' })),
    fc.constantFrom(new Number(5), new String('ab'), new Boolean(false)),
    fc.constant(Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 })),
    fc.sparseArray(tie('value'), { maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fieldName, tie('value'), { maxKeys: 4 }),
  ),
}));

const chainHead = fc.record({
  seq: fc.nat({ max: 1_000_000 }),
  hash: fc.oneof(fc.constant(GENESIS), fc.stringMatching(/^[0-9a-f]{64}$/)),
});

test('a link is the definition’s line and head, for any fields, with and without a key', () => {
  fc.assert(
    fc.property(
      chainHead,
      fc.dictionary(fieldName, fieldValue, { maxKeys: 8 }),
      fc.option(fc.uint8Array({ minLength: 16, maxLength: 32 }), { nil: undefined }),
      (head, fields, keyBytes) => {
        const key = keyBytes === undefined ? undefined : Buffer.from(keyBytes);
        assert.deepEqual(linkRecord(head, fields, key), definition(head, fields, key));
      },
    ),
    { numRuns: 2_000 },
  );
});

test('an outcome record as the trail writes it: the definition’s line, hash last', () => {
  const head: ChainHead = { seq: 41, hash: 'a'.repeat(64) };
  const fields = {
    level: 30,
    time: '2026-12-07T10:00:00.000Z',
    audit: true,
    event: 'outcome',
    intentId: 'b'.repeat(40),
    file: 'intent-é.json',
    outcome: 'succeeded',
    stage: 'submit',
    message: 'submitted',
    attempts: 1,
    receipt: { sink: 'git-sink', commit: 'c'.repeat(40), paths: ['oran-odu/web/deployment.yaml'] },
  };
  const linked = linkRecord(head, fields);
  assert.deepEqual(linked, definition(head, fields));
  assert.equal(linked.head.seq, 42);
  assert.match(linked.line, /,"seq":42,"prev":"a{64}","hash":"[0-9a-f]{64}"\}$/);
});

test('what JSON cannot write is refused as JSON refuses it', () => {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic['self'] = cyclic;
  assert.throws(() => linkRecord({ seq: 0, hash: GENESIS }, { cyclic }), TypeError);
  assert.throws(() => linkRecord({ seq: 0, hash: GENESIS }, { big: 1n }), TypeError);
});
