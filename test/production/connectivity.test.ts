// Issue 14: `validate --check-connectivity` fails clearly — no raw client stack on stderr (ioredis
// printed "[ioredis] Unhandled error event" with a stack), and the line names host, port and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.ts';
import { fastConfig, makeDataDir, writeJsonConfig } from '../support/data-dir.ts';
import { freePort } from '../support/ports.ts';

async function validate(t: { after(fn: () => void): void }, plugins: Record<string, Record<string, unknown>>) {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const config = fastConfig(dir.root, plugins) as { plugins: Record<string, unknown> };
  // The porch sink replaces the git sink (one sink in a pipeline).
  if ('porch-sink' in plugins) delete config.plugins['git-sink'];
  const path = writeJsonConfig(dir.root, config);
  return runCli(['validate', '--config', path, '--check-connectivity']);
}

test('redis refused: one FAIL line naming host, port and reason, nothing raw on stderr', async (t) => {
  const port = await freePort(); // free, so nothing listens there
  const result = await validate(t, { 'redis-coordination': { url: `redis://127.0.0.1:${port}` } });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, '', 'no client stack, no unhandled error event');
  const line = result.stdout.split('\n').find((l) => /^(FAIL|pass) +redis-coordination/.test(l));
  assert.ok(line, result.stdout);
  assert.match(line, new RegExp(`^FAIL .*redis at 127\\.0\\.0\\.1:${port}: connection refused .*\\[ECONNREFUSED\\]$`));
});

test('redis host unknown: the reason says so', async (t) => {
  const result = await validate(t, { 'redis-coordination': { url: 'redis://no-such-host.invalid:6390' } });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, '');
  assert.match(
    result.stdout,
    /FAIL +redis-coordination: redis reachable: redis at no-such-host\.invalid:6390: host name (not found|lookup failed)/,
  );
});

test('redis reachable: a pass line naming where', async (t) => {
  const result = await validate(t, { 'redis-coordination': { url: 'redis://127.0.0.1:6379' } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /pass +redis-coordination: redis reachable: redis at 127\.0\.0\.1:6379 answered PONG/);
});

test('porch unreachable: the FAIL line names the URL (host and port) and the reason', async (t) => {
  const port = await freePort();
  const result = await validate(t, { 'porch-sink': { server: `http://127.0.0.1:${port}`, approve: true } });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, new RegExp(`FAIL +porch-sink: reach server: .*127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
});
