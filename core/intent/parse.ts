// Turns raw bytes into an intent object with the strictness DESIGN §6 asks for: a fatal UTF-8
// decoder (no replacement characters), exactly one JSON value with nothing after it, an object
// at the top, no prototype-polluting keys, and a depth limit.
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
    value = !NEEDS_REVIVER.test(text) ? JSON.parse(text) : JSON.parse(text, (key, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key) || FORBIDDEN_KEYS.has(key.normalize('NFC'))) throw new ForbiddenKey(key);
      if (typeof v === 'string') return v.normalize('NFC');
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k !== k.normalize('NFC'))) {
        return Object.fromEntries(Object.entries(v).map(([k, item]) => [k.normalize('NFC'), item]));
      }
      return v;
    });
  } catch (error) {
    if (error instanceof ForbiddenKey) throw parseError(`the key "${error.key}" is not allowed`, 'forbidden-key');
    throw parseError(`not valid JSON: ${(error as Error).message}`, 'malformed-json');
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
