// The sanitizer tests every string against the blocked patterns as one alternation first
// (plugins/sanitize/index.ts combinedPattern): it must find a match exactly when one of the
// patterns alone does, and it must not be used where joining could change a pattern's meaning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { combinedPattern, DEFAULT_BLOCKED_PATTERNS } from '../../plugins/sanitize/index.ts';

const each = (sources: readonly string[]) => sources.map((source) => new RegExp(source, 'iu'));

test('the alternation of the default patterns matches exactly when one of them does (property)', () => {
  const combined = combinedPattern(DEFAULT_BLOCKED_PATTERNS);
  assert.ok(combined !== undefined);
  const patterns = each(DEFAULT_BLOCKED_PATTERNS);
  // Strings built from the pieces the patterns look for, so that matches are frequent, and any text.
  const pieces = [
    '$(',
    '`',
    '${',
    '<',
    '/',
    'script',
    'javascript:',
    '../',
    ';',
    'rm',
    'curl',
    '|',
    'bash',
    '&&',
    '&',
    'drop',
    'table',
    'DROP',
    'Table',
    'SCRIPT',
    ' ',
    'x',
    'É',
    'ß',
  ];
  const text = fc.oneof(
    fc.array(fc.constantFrom(...pieces), { maxLength: 8 }).map((parts) => parts.join('')),
    fc.string({ unit: 'grapheme' }),
  );
  let matched = 0;
  fc.assert(
    fc.property(text, (value) => {
      const expected = patterns.some((pattern) => pattern.test(value));
      if (expected) matched += 1;
      assert.equal(combined.test(value), expected, JSON.stringify(value));
    }),
    { numRuns: 2_000 },
  );
  assert.ok(matched > 100, `the property saw matching strings too (${matched})`);
});

test('patterns that refer to groups are tested one by one, never joined', () => {
  assert.equal(combinedPattern(['(a)\\1', 'b']), undefined, 'a numbered backreference would point at another group');
  assert.equal(combinedPattern(['(?<w>a)\\k<w>', 'b']), undefined, 'a named group could be repeated');
  assert.equal(combinedPattern(['only-one']), undefined, 'one pattern needs no alternation');
  assert.ok(combinedPattern(['a', 'b'])?.test('xbx'));
});
