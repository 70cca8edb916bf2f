// Issue 14, acceptance 6 (first half): the `conductor` bin on a Node older than 24 prints one
// clear line and exits 2 before loading anything that needs 24.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, REPO_ROOT } from '../support/cli.ts';

function assertRefused(result: ReturnType<typeof spawnSync>, version: string): void {
  assert.equal(result.status, 2, String(result.stderr));
  const lines = String(result.stderr).trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${String(result.stderr)}`);
  assert.match(lines[0]!, new RegExp(`^conductor: Node\\.js >= 24 is required, this is v${version.replace(/\./g, '\\.')}`));
  assert.equal(String(result.stdout), '');
}

test('an old Node (its version faked before the bin loads) gets one line and exit 2', () => {
  // The same process as a real Node 20, as far as the bin can tell: version and versions.node.
  const fake =
    "Object.defineProperty(process,'version',{value:'v20.11.1'});Object.defineProperty(process.versions,'node',{value:'20.11.1'});";
  const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(fake)}`, CLI, '--help'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  assertRefused(result, '20.11.1');
});

test('the system Node, when it is older than 24, gets one line and exit 2', () => {
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));
  const version =
    systemNode === undefined ? undefined : spawnSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  if (systemNode === undefined || version === undefined || Number(version.split('.')[0]) >= 24) {
    // Nothing older to run here; the faked-version test above covers the check.
    assert.ok(true);
    return;
  }
  assertRefused(spawnSync(systemNode, [CLI, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' }), version);
});

test('Node 24 runs the bin as before', () => {
  const result = spawnSync(process.execPath, [CLI, '--version'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});
