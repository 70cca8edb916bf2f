// PATCH bodies (docs/porch.md §Idempotency, §Content types): the generic apiserver applies the patch
// to the current object and hands the result to the update path, so a patch without
// metadata.resourceVersion carries the current one over (last writer wins).

import { badRequest, unprocessable, unsupportedMediaType } from './k8s-status.ts';
import type { JsonObject } from './types.ts';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(doc: unknown, path: string[]): { parent: JsonObject | unknown[]; key: string } {
  let node: unknown = doc;
  for (const part of path.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isObject(node)) node = node[part];
    else node = undefined;
  }
  if (!Array.isArray(node) && !isObject(node)) throw badRequest(`doc is missing path: "/${path.join('/')}"`);
  return { parent: node, key: path[path.length - 1] ?? '' };
}

/** RFC 6902 operations add, remove, replace, test, copy and move. */
export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw badRequest('the server rejected our request due to an error in our request');
    }
    const op = raw['op'];
    const path = decodePointer(raw['path']);
    if (op === 'test') {
      if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw['value'])) {
        throw unprocessable(`the server rejected our request due to an error in our request: testing value /${path.join('/')} failed`);
      }
      continue;
    }
    if (op === 'copy' || op === 'move') {
      const from = decodePointer(String(raw['from'] ?? ''));
      const value = structuredClone(getAt(doc, from));
      if (op === 'move') doc = removeAt(doc, from);
      doc = addAt(doc, path, value);
      continue;
    }
    if (op === 'remove') doc = removeAt(doc, path);
    else if (op === 'add') doc = addAt(doc, path, structuredClone(raw['value']));
    else if (op === 'replace') doc = addAt(removeAt(doc, path), path, structuredClone(raw['value']));
    else throw badRequest(`Unexpected kind: ${op}`);
  }
  return doc;
}

function getAt(doc: unknown, path: string[]): unknown {
  let node = doc;
  for (const part of path) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isObject(node)) node = node[part];
    else return undefined;
  }
  return node;
}

function removeAt(doc: unknown, path: string[]): unknown {
  if (path.length === 0) return undefined;
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (Object.hasOwn(parent, key)) delete parent[key];
  else throw badRequest(`the server rejected our request due to an error in our request: missing value at "/${path.join('/')}"`);
  return doc;
}

function addAt(doc: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const { parent, key } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    if (key === '-') parent.push(value);
    else parent.splice(Number(key), 0, value);
  } else {
    parent[key] = value;
  }
  return doc;
}

/**
 * Apply a PATCH body of the given media type. Strategic merge patch behaves like a merge patch
 * here: the Porch types declare no merge keys, so lists are replaced whole either way.
 */
export function applyPatch(contentType: string, current: JsonObject, body: unknown): unknown {
  switch (contentType) {
    case MERGE_PATCH:
    case STRATEGIC_MERGE_PATCH:
      return applyMergePatch(current, body);
    case JSON_PATCH:
      return applyJsonPatch(current, body);
    default:
      throw unsupportedMediaType(contentType, [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH]);
  }
}
