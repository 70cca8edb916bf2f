// Helpers for tests that break one property of a real rendered set and expect a check to say so.

import assert from 'node:assert/strict';
import { copySet, find, formatFindings, type Finding, type KObject, type RenderedSet } from './objects.ts';

/** A copy of the set with one object changed in place by `change`. */
export function breakObject(set: RenderedSet, kind: string, name: string, change: (o: KObject) => void, namespace?: string): RenderedSet {
  const copy = copySet(set);
  const target = find(copy, kind, name, namespace);
  assert.ok(target !== undefined, `${set.name} has no ${kind} ${name} to break`);
  change(target);
  return copy;
}

/** Asserts the check passed on the original, then reports the breakage on `object` matching `pattern`. */
export function assertCaught(before: Finding[], after: Finding[], object: string, pattern: RegExp): void {
  assert.equal(before.length, 0, `the unbroken set must pass first:\n${formatFindings(before)}`);
  const hit = after.find((f) => f.object === object && pattern.test(f.message));
  assert.ok(hit !== undefined, `expected a finding on ${object} matching ${pattern}, got:\n${formatFindings(after) || '(none)'}`);
}

/** Deep property access for breaking manifests: walks objects and array indices, creating nothing. */
export function node(root: unknown, ...path: (string | number)[]): Record<string, unknown> {
  let current: unknown = root;
  for (const key of path) {
    assert.ok(typeof current === 'object' && current !== null, `no ${String(key)} in the path ${path.join('.')}`);
    current = (current as Record<string | number, unknown>)[key];
  }
  assert.ok(typeof current === 'object' && current !== null, `path ${path.join('.')} is not an object`);
  return current as Record<string, unknown>;
}

/** The conductor container of a Deployment object. */
export function conductorContainer(d: KObject): Record<string, unknown> {
  const containers = node(d, 'spec', 'template', 'spec', 'containers') as unknown as Record<string, unknown>[];
  const c = containers.find((x) => x['name'] === 'conductor');
  assert.ok(c !== undefined, 'no conductor container');
  return c;
}
