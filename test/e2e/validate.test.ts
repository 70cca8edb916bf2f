// Issue 2, acceptance 5: `conductor validate` refuses a bad config with exit 2 and the exact
// path of the bad key, and accepts a good one without opening a port or touching a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { runCli } from '../support/cli.ts';
import { dropIntent, fastConfig, makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';

const CASES: { name: string; mutate: (c: any) => void; path: string; says: RegExp }[] = [
  { name: 'unknown top-level key', mutate: (c) => (c.concurency = 4), path: 'concurency', says: /unknown key/ },
  { name: 'wrong core value', mutate: (c) => (c.concurrency = 0), path: 'concurrency', says: /must be >= 1/ },
  { name: 'wrong nested core value', mutate: (c) => (c.retry = { maxAttempts: -1 }), path: 'retry.maxAttempts', says: /must be >= 0/ },
  {
    name: 'unknown plugin option',
    mutate: (c) => (c.plugins['rate-limit'] = { brust: 3 }),
    path: 'plugins.rate-limit.brust',
    says: /unknown key/,
  },
  {
    name: 'wrong plugin value',
    mutate: (c) => (c.plugins['rate-limit'] = { burst: 0 }),
    path: 'plugins.rate-limit.burst',
    says: /must be >= 1/,
  },
  {
    name: 'wrong type deep in a plugin',
    mutate: (c) => (c.plugins['fs-source'] = { debounceMs: 'fast' }),
    path: 'plugins.fs-source.debounceMs',
    says: /must be integer/,
  },
  {
    name: 'unknown plugin',
    mutate: (c) => (c.plugins['no-such-plugin'] = {}),
    path: 'plugins.no-such-plugin',
    says: /unknown plugin "no-such-plugin"/,
  },
  { name: 'bad log level', mutate: (c) => (c.logLevel = 'loud'), path: 'logLevel', says: /must be one of/ },
  {
    name: 'instance suffix keeps the path',
    mutate: (c) => (c.plugins['git-sink/mirror'] = { branch: 'bad branch' }),
    path: 'plugins.git-sink/mirror.branch',
    says: /must match pattern/,
  },
];

for (const { name, mutate, path, says } of CASES) {
  test(`validate refuses a config with a ${name}, naming ${path}`, async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = fastConfig(join(dir, 'data'));
    mutate(config);
    const file = writeJsonConfig(dir, config);
    const result = await runCli(['validate', '--config', file]);
    t.diagnostic(result.stderr.trim());
    assert.equal(result.code, 2);
    const line = result.stderr.split('\n').find((l) => l.includes(`- ${path}:`));
    assert.ok(line, `stderr names ${path}:\n${result.stderr}`);
    assert.match(line, says);
    assert.match(result.stderr, /CND_ERR_(CONFIG_INVALID)/);
  });
}

test('validate reports every problem at once, and YAML configs work the same', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = fastConfig(join(dir, 'data'));
  (config as any).concurrency = 'many';
  (config as any).plugins.sanitize = { maxInputLength: -5 };
  const file = join(dir, 'conductor.config.yaml');
  writeFileSync(file, YAML.stringify(config));
  const result = await runCli(['validate', '--config', file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /- concurrency: must be integer/);
  assert.match(result.stderr, /- plugins\.sanitize\.maxInputLength: must be >= 1/);
});

test('validate accepts a good config without opening a port or touching a file', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const config = fastConfig(dataDir);
  const file = writeJsonConfig(dir, config);
  const before = readdirSync(dir);
  const result = await runCli(['validate', '--config', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /config ok/);
  assert.deepEqual(readdirSync(dir), before, 'no data directory was created');
});

test('validate checks intent files through parse, validate and sanitize', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const good = dropIntent(dir.handoff, 'intent-good.json', scaling('cu-cp', 3));
  const bad = dropIntent(dir.handoff, 'intent-bad.json', scaling('cu-cp', 3, { reason: 'x $(rm -rf /)' }));
  const file = writeJsonConfig(dir.root, fastConfig(join(dir.root, 'unused')));
  const result = await runCli(['validate', '--config', file, good, bad]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /ok {6}.*intent-good\.json/);
  assert.match(result.stdout, /refused .*intent-bad\.json: \[sanitize\] CND_ERR_INTENT_REJECTED: reason matches the blocked pattern/);
});

test('a missing config file and an unknown command exit 2', async () => {
  assert.equal((await runCli(['validate', '--config', '/nonexistent/conductor.json'])).code, 2);
  assert.equal((await runCli(['frobnicate'])).code, 2);
  assert.equal((await runCli(['once', '--no-such-flag'])).code, 2);
});

test('--help and --version answer', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  for (const command of ['run', 'once', 'validate', 'print-config', 'status', 'replay'])
    assert.match(help.stdout, new RegExp(`\\n  ${command} `));
  const version = await runCli(['--version']);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const onceHelp = await runCli(['once', '--help']);
  assert.match(onceHelp.stdout, /3 {2}some intents could not be delivered/);
});
