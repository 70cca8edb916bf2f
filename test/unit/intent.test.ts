// The intent domain: strict parsing (docs/architecture.md §Input safety) and deterministic identity
// (docs/architecture.md §Identity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeUtf8, parseIntentJson } from '../../core/intent/parse.ts';
import { canonicalJson, contentHash, intentIdOf, rawIdOf, stemOf } from '../../core/intent/identity.ts';
import { ConductorError } from '../../core/index.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as ConductorError).code + ':' + String((error as ConductorError).details?.['securityEvent']);
  }
  return 'accepted';
};

test('parse refuses what docs/architecture.md §Input safety refuses, naming a security event', () => {
  const cases: [string, Uint8Array | string, string][] = [
    ['a BOM', new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), 'CND_ERR_INTENT_ENCODING:encoding'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), 'CND_ERR_INTENT_ENCODING:encoding'],
    ['a NUL', '{"a":"\u0000"}', 'CND_ERR_INTENT_PARSE:nul-byte'],
    ['empty', '', 'CND_ERR_INTENT_PARSE:empty'],
    ['whitespace only', ' \n\t ', 'CND_ERR_INTENT_PARSE:empty'],
    ['trailing data', '{"a":1} {"b":2}', 'CND_ERR_INTENT_PARSE:malformed-json'],
    ['an array', '[1,2]', 'CND_ERR_INTENT_PARSE:malformed-json'],
    ['__proto__', '{"__proto__": {"x": 1}}', 'CND_ERR_INTENT_PARSE:forbidden-key'],
    ['nested constructor', '{"a": {"constructor": 1}}', 'CND_ERR_INTENT_PARSE:forbidden-key'],
    ['deep nesting', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, 'CND_ERR_INTENT_PARSE:deep-nesting'],
  ];
  for (const [name, input, expected] of cases) {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
    assert.equal(
      codeOf(() => parseIntentJson(decodeUtf8(bytes))),
      expected,
      name,
    );
  }
  assert.deepEqual(parseIntentJson(' {"a": [1, {"b": null}]}\n'), { a: [1, { b: null }] });
});

test('canonical JSON ignores key order and white space (property)', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
      const reversed = Object.fromEntries(Object.entries(object).reverse());
      assert.equal(canonicalJson(object), canonicalJson(reversed));
      assert.deepEqual(JSON.parse(canonicalJson(object)), JSON.parse(JSON.stringify(object)));
    }),
    { numRuns: 500 },
  );
});

/** The definition canonicalJson is held to: keys sorted, undefined members dropped, arrays joined. */
function canonicalByDefinition(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalByDefinition).join(',')}]`;
  const record = value as Record<string, unknown>;
  const entries = Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalByDefinition(record[key])}`);
  return `{${entries.join(',')}}`;
}

test('canonical JSON is exactly its definition, for any JSON value and for undefined members (property)', () => {
  const withUndefined = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 2 }),
      fc.constant(undefined),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie('value'), { maxKeys: 5 }),
    ),
  })).value;
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), withUndefined), (value) => {
      assert.equal(canonicalJson(value), canonicalByDefinition(value));
    }),
    { numRuns: 1_000 },
  );
});

test('ids are stable across versions: the same input gives the ids ledgers and sinks already hold', () => {
  // Made once and kept: a change here would make every earlier effect look new to the sinks.
  const intent = {
    intent_type: 'scaling',
    target: 'odu-high-phy',
    namespace: 'oran-odu',
    replicas: 5,
    source: 'user',
    reason: 'peak ünïcode',
    nested: { b: [1, null, 'x'], a: true },
  };
  assert.equal(intentIdOf('scale-odu.json', intent), '40169ac91dd1ed290a3ab696d0c4578b936d161b');
  assert.equal(contentHash(intent), '57cc5fd19682bb923a42090281ca47c1358e9d6b');
  assert.equal(intentIdOf('x.json', { correlation_id: 'corr-1' }), 'e967a4fb5d79838d2158303e7c4560ff56142088');
  assert.equal(rawIdOf('bad.json', new Uint8Array([0xff, 0x00, 0x41])), '345bb4778e5d9092032ef50585298c90252201c9');
});

test('the intent id is deterministic: correlation_id wins, else file name plus content', () => {
  const intent = { intent_type: 'scaling', target: 'a', namespace: 'b', replicas: 2 };
  assert.match(intentIdOf('intent-x.json', intent), /^[0-9a-f]{40}$/);
  assert.equal(
    intentIdOf('intent-x.json', intent),
    intentIdOf('intent-x.json', { replicas: 2, namespace: 'b', target: 'a', intent_type: 'scaling' }),
  );
  assert.notEqual(intentIdOf('intent-x.json', intent), intentIdOf('intent-y.json', intent));
  assert.notEqual(intentIdOf('intent-x.json', intent), intentIdOf('intent-x.json', { ...intent, replicas: 3 }));
  const correlated = { ...intent, correlation_id: 'c-1' };
  assert.equal(intentIdOf('intent-x.json', correlated), intentIdOf('other.json', { ...correlated, replicas: 9 }));
  assert.equal(`intent-${intentIdOf('f', intent)}`.length <= 63, true, 'a valid DNS-1123 label as a workspace name');
  assert.equal(contentHash(intent), contentHash({ ...intent }));
  assert.notEqual(rawIdOf('a', new Uint8Array([1])), rawIdOf('a', new Uint8Array([2])));
  assert.equal(stemOf('intent-a.json'), 'intent-a');
  assert.equal(stemOf('intent-a'), 'intent-a');
});
