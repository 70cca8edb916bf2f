// Deterministic identity (docs/architecture.md §Identity): the same intent always gets the same id, so a second
// delivery is recognised instead of applied twice.
import { hash } from 'node:crypto';

/** Length of an intent id in hex digits; `intent-` + 40 hex stays a DNS-1123 label (47 chars). */
export const INTENT_ID_HEX_LENGTH = 40;

/**
 * JSON with object keys sorted at every level and no white space: equal values, equal bytes.
 * Every intent is put through it twice (its id and its content hash), so it is written as loops
 * over one string rather than arrays joined per level; its output is fixed (ids in ledgers and
 * sinks were made with it), and test/unit/intent.test.ts holds it to the plain definition.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out += ',';
      // An element JSON has no text for (undefined, a function, a hole) stays empty.
      const item = canonicalJson(value[i]) as string | undefined;
      if (item !== undefined) out += item;
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** sha256 over the parts, each followed by a NUL, as one string: one native call, no Hash object. */
function digest(...parts: string[]): string {
  let text = '';
  for (const part of parts) text += `${part}\u0000`;
  return hash('sha256', text, 'hex').slice(0, INTENT_ID_HEX_LENGTH);
}

/**
 * The canonical JSON of `intent`, made at most once however often it is asked for: the id and
 * the content hash of an intent that sanitizing left as it was hash the same text.
 */
export function canonicalOnce(intent: unknown): () => string {
  let text: string | undefined;
  return () => (text ??= canonicalJson(intent));
}

/** `canonical`: the intent's canonical JSON when it is at hand (see `canonicalOnce`). */
export function contentHash(intent: unknown, canonical?: () => string): string {
  return digest('content', canonical === undefined ? canonicalJson(intent) : canonical());
}

/** The file name without its `.json` extension. */
export function stemOf(file: string): string {
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : file;
}

/**
 * The intent id: from `correlation_id` when the producer set one (so a re-send under another
 * name is still the same intent), else from the file name and the canonical content.
 */
export function intentIdOf(file: string, intent: Record<string, unknown> | { correlation_id?: unknown }, canonical?: () => string): string {
  const correlationId = (intent as { correlation_id?: unknown }).correlation_id;
  if (typeof correlationId === 'string' && correlationId.length > 0) return digest('correlation', correlationId);
  return digest('file', stemOf(file), canonical === undefined ? canonicalJson(intent) : canonical());
}

const RAW_PREFIX = Buffer.from('raw\u0000');
const NUL = Buffer.from('\u0000');

/** An id for input that never became an intent (unreadable, malformed): name plus raw bytes. */
export function rawIdOf(file: string, bytes: Uint8Array): string {
  // The bytes may be any bytes, so they are hashed as bytes, after the name (UTF-8).
  const input = Buffer.concat([RAW_PREFIX, Buffer.from(file), NUL, bytes]);
  return hash('sha256', input, 'hex').slice(0, INTENT_ID_HEX_LENGTH);
}
