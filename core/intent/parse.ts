// Turns raw bytes into an intent object with the strictness docs/architecture.md §Input safety asks for: a fatal UTF-8
// decoder (no replacement characters), exactly one JSON value with nothing after it, an object
// at the top, no prototype-polluting keys, and a depth limit. Errors name the place (line and
// column), never the content: error records, status files, the audit log and the ledger must not
// carry the bytes of a file that may not be an intent at all.
import { ConductorError } from '../errors.ts';

export interface ParseLimits {
  maxDepth: number;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * Texts that need the reviver: a forbidden key (plain or escaped) or anything NFC could change
 * (non-ASCII, or an escape that makes it). Pure-ASCII intents without those words skip it.
 */
const NEEDS_REVIVER = /[^ -~\t\n\r]|\\u|__proto__|constructor|prototype/;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * A leading UTF-8 byte order mark is refused rather than skipped: producers that write one are
 * rare, and accepting it would make two byte-different files the same intent (documented in the
 * README's hostile-input table).
 */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new ConductorError('CND_ERR_INTENT_ENCODING', 'the file starts with a UTF-8 byte order mark; write plain UTF-8 without a BOM', {
      stage: 'validate',
      details: { securityEvent: 'encoding' },
    });
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ConductorError('CND_ERR_INTENT_ENCODING', 'the file is not valid UTF-8', {
      stage: 'validate',
      details: { securityEvent: 'encoding' },
    });
  }
}

export function parseIntentJson(text: string, limits: ParseLimits = { maxDepth: 16 }): Record<string, unknown> {
  if (text.includes('\u0000')) {
    throw parseError('the file contains a NUL character', 'nul-byte');
  }
  if (text.trim() === '') {
    throw parseError('the file is empty', 'empty');
  }
  let value: unknown;
  try {
    // JSON.parse already refuses trailing data ("Unexpected non-whitespace character").
    // Strings and keys are NFC-normalised here, before identity and validation: two spellings
    // of one text are one intent, and the schema's limits hold for what is submitted.
    value = !NEEDS_REVIVER.test(text)
      ? JSON.parse(text)
      : JSON.parse(text, (key, v: unknown) => {
          if (FORBIDDEN_KEYS.has(key) || FORBIDDEN_KEYS.has(key.normalize('NFC'))) throw new ForbiddenKey(key);
          if (typeof v === 'string') return v.normalize('NFC');
          if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k !== k.normalize('NFC'))) {
            return Object.fromEntries(Object.entries(v).map(([k, item]) => [k.normalize('NFC'), item]));
          }
          return v;
        });
  } catch (error) {
    // The key named is one of the three forbidden words (as normalised), not arbitrary content.
    if (error instanceof ForbiddenKey) throw parseError(`the key "${error.key.normalize('NFC')}" is not allowed`, 'forbidden-key');
    throw parseError(`not valid JSON: ${describeSyntaxError(text, (error as Error).message)}`, 'malformed-json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw parseError('the top-level JSON value must be an object', 'malformed-json');
  }
  const depth = depthOf(value, limits.maxDepth + 1);
  if (depth > limits.maxDepth) {
    throw parseError(`the JSON is nested deeper than ${limits.maxDepth} levels`, 'deep-nesting');
  }
  return value as Record<string, unknown>;
}

class ForbiddenKey extends Error {
  readonly key: string;
  constructor(key: string) {
    super(key);
    this.key = key;
  }
}

/**
 * What is wrong with `text` and where, without quoting it. V8's messages either end in
 * "at position N" (their first part names no content) or quote the text ("Unexpected token 'x',
 * "…" is not valid JSON"); in the second case the position is found by scanning the text.
 */
export function describeSyntaxError(text: string, v8Message: string): string {
  const positioned = /^(.*?)(?: in JSON)? at position (\d+)/.exec(v8Message);
  if (positioned !== null) return `${positioned[1]} at ${placeOf(text, Number(positioned[2]))}`;
  const offset = syntaxErrorOffset(text);
  if (offset === undefined) return 'the text is not one JSON value';
  if (offset >= text.length) return `the JSON value is incomplete: the file ends at ${placeOf(text, text.length)}`;
  return `unexpected character at ${placeOf(text, offset)}`;
}

/** `line L, column C` (both from 1; columns count UTF-16 units, as editors mostly do). */
function placeOf(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * The offset of the first character at which `text` stops being JSON (text.length when it ends
 * too early), or undefined when it is valid. Iterative, so no nesting depth overflows it.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  const stack: string[] = [];
  let state: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after-value' = 'value';
  let i = 0;
  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i]!)) i += 1;
    if (i >= text.length) return stack.length === 0 && state === 'after-value' ? undefined : i;
    const c = text[i]!;
    if (state === 'after-value') {
      const top = stack.at(-1);
      if (top === undefined) return i;
      if (c === ',') state = top === '{' ? 'key' : 'value';
      else if (c === (top === '{' ? '}' : ']')) stack.pop();
      else return i;
      i += 1;
    } else if (state === 'colon') {
      if (c !== ':') return i;
      state = 'value';
      i += 1;
    } else if (state === 'key' || state === 'key-or-close') {
      if (state === 'key-or-close' && c === '}') {
        stack.pop();
        state = 'after-value';
        i += 1;
        continue;
      }
      if (c !== '"') return i;
      const end = stringEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
      state = 'colon';
    } else {
      if (state === 'value-or-close' && c === ']') {
        stack.pop();
        state = 'after-value';
        i += 1;
        continue;
      }
      if (c === '{' || c === '[') {
        stack.push(c);
        state = c === '{' ? 'key-or-close' : 'value-or-close';
        i += 1;
        continue;
      }
      const end = scalarEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
      state = 'after-value';
    }
  }
}

/** The offset after a scalar starting at `i`, or -(offset of the error) - 1. */
function scalarEnd(text: string, i: number): number {
  if (text[i] === '"') return stringEnd(text, i);
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, i)) return i + literal.length;
  }
  NUMBER.lastIndex = i;
  const number = NUMBER.exec(text);
  return number === null ? -i - 1 : i + number[0].length;
}

/** The offset after the string opening at `i`, or -(offset of the error) - 1. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j]!;
    if (c === '"') return j + 1;
    if (c === '\\') {
      const next = text[j + 1];
      if (next !== undefined && ESCAPES.has(next)) j += 2;
      else if (next === 'u' && HEX4.test(text.slice(j + 2, j + 6))) j += 6;
      else return -j - 1;
    } else if (c < ' ') return -j - 1;
    else j += 1;
  }
  return -text.length - 1;
}

function parseError(message: string, securityEvent: string): ConductorError {
  return new ConductorError('CND_ERR_INTENT_PARSE', message, { stage: 'validate', details: { securityEvent } });
}

/** Depth of a parsed value, stopping early once `cap` is exceeded. */
function depthOf(value: unknown, cap: number, level = 1): number {
  if (level > cap || value === null || typeof value !== 'object') return level - 1;
  let max = level;
  for (const child of Object.values(value as object)) {
    if (child !== null && typeof child === 'object') {
      max = Math.max(max, depthOf(child, cap, level + 1));
      if (max > cap) return max;
    }
  }
  return max;
}
