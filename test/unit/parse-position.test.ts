// Parse errors name the place of the fault (line, column), never the content: the scanner that
// finds the place agrees with JSON.parse on what is valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIntentJson, syntaxErrorOffset } from '../../core/intent/parse.ts';
import { ConductorError } from '../../core/errors.ts';

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

test('the scanner calls valid exactly what JSON.parse accepts', () => {
  const jsonish = fc.stringMatching(/^[{}[\]":,\s0-9a-z\\eE.+-]{0,24}$/);
  fc.assert(
    fc.property(fc.oneof(jsonish, fc.json(), fc.string()), (text) => (syntaxErrorOffset(text) === undefined) === isJson(text)),
    {
      numRuns: 3_000,
    },
  );
});

test('a malformed intent is described by line and column, without its text', () => {
  const cases: [string, RegExp][] = [
    ['PRIVATE-KEY-DATA', /unexpected character at line 1, column 1$/],
    ['{"target":\n  PRIVATE}', /unexpected character at line 2, column 3$/],
    ['{"target": "PRIVATE"', /line 1, column 21$/],
    ['{"a": 1} PRIVATE', /after JSON at line 1, column 10$/],
    ['{"target": "PRIVATE', /line 1, column 20$/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseIntentJson(text),
      (error: unknown) =>
        error instanceof ConductorError &&
        error.code === 'CND_ERR_INTENT_PARSE' &&
        expected.test(error.message) &&
        !error.message.includes('PRIVATE'),
      text,
    );
  }
});
