// Issue 14: the README's test command on a fresh machine. scripts/prepare-test-machine.sh
// installs what is missing as root; as anyone else it names the exact packages and exits 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli.ts';

const SCRIPT = join(REPO_ROOT, 'scripts', 'prepare-test-machine.sh');

/** A PATH holding only these commands (links to the real ones), readable by any user. */
function pathWith(commands: string[]): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'conductor-path-'));
  chmodSync(dir, 0o755);
  for (const command of commands) {
    const found = spawnSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(found !== '', `${command} is on this machine`);
    symlinkSync(found, join(dir, command));
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs the script as a user who is not root (dropping root with setpriv when the tests run as
 * root). That user runs a copy beside the PATH links: the checkout may sit in a directory only
 * its owner can enter (a `mktemp -d`).
 */
function runAsNonRoot(path: string): ReturnType<typeof spawnSync> {
  const root = process.getuid?.() === 0;
  const script = join(path, 'prepare-test-machine.sh');
  copyFileSync(SCRIPT, script);
  chmodSync(script, 0o755);
  const command = root
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env', `PATH=${path}`, 'bash', script]
    : ['env', `PATH=${path}`, 'bash', script];
  return spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
}

test('not root, tools missing: the exact packages named, exit 2', (t) => {
  const path = pathWith(['bash', 'sed', 'sort', 'id', 'cat', 'git', 'openssl', 'redis-server', 'redis-cli']);
  t.after(path.cleanup);
  const result = runAsNonRoot(path.dir);
  assert.equal(result.status, 2, String(result.stderr));
  const stderr = String(result.stderr);
  assert.match(stderr, /apt-get install -y --no-install-recommends gcc prometheus spin\n/);
});

test('not root, kubectl missing: named with the version it needs, exit 2', (t) => {
  const path = pathWith(['bash', 'sed', 'sort', 'id', 'cat', 'git', 'openssl', 'redis-server', 'redis-cli', 'promtool', 'spin', 'gcc']);
  t.after(path.cleanup);
  const result = runAsNonRoot(path.dir);
  assert.equal(result.status, 2, String(result.stderr));
  assert.match(String(result.stderr), /kubectl \(>= 1\.27, which embeds kustomize v5\) is needed/);
});

test('everything there: exit 0 and Redis answers on 127.0.0.1:6379', () => {
  const result = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /ready: git, openssl, redis \(on 127\.0\.0\.1:6379\), promtool, spin, gcc, kubectl/);
  assert.equal(spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { encoding: 'utf8' }).stdout.trim(), 'PONG');
});

test('npm run test:ci is the script then npm test; .ci/run calls it', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['test:ci'], 'bash scripts/prepare-test-machine.sh && npm test');
  const ci = readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8');
  assert.match(ci, /^npm run test:ci$/m);
  assert.doesNotMatch(ci, /apt-get/, 'the install logic lives in the script only');
});
