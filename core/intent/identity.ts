// Deterministic identity (docs/architecture.md §Identity): the same intent always gets the same id, so a second
// delivery is recognised instead of applied twice.
import { createHash } from 'node:crypto';

/** Length of an intent id in hex digits; `intent-` + 40 hex stays a DNS-1123 label (47 chars). */
export const INTENT_ID_HEX_LENGTH = 40;

/** JSON with object keys sorted at every level and no white space: equal values, equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

function digest(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex').slice(0, INTENT_ID_HEX_LENGTH);
}

export function contentHash(intent: unknown): string {
  return digest('content', canonicalJson(intent));
}

/** The file name without its `.json` extension. */
export function stemOf(file: string): string {
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : file;
}

/**
 * The intent id: from `correlation_id` when the producer set one (so a re-send under another
 * name is still the same intent), else from the file name and the canonical content.
 */
export function intentIdOf(file: string, intent: Record<string, unknown> | { correlation_id?: unknown }): string {
  const correlationId = (intent as { correlation_id?: unknown }).correlation_id;
  if (typeof correlationId === 'string' && correlationId.length > 0) return digest('correlation', correlationId);
  return digest('file', stemOf(file), canonicalJson(intent));
}

/** An id for input that never became an intent (unreadable, malformed): name plus raw bytes. */
export function rawIdOf(file: string, bytes: Uint8Array): string {
  const hash = createHash('sha256').update('raw').update('\u0000').update(file).update('\u0000').update(bytes);
  return hash.digest('hex').slice(0, INTENT_ID_HEX_LENGTH);
}
