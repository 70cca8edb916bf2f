// Config resolution: env interpolation, defaults, every problem reported with its path, and
// redaction wherever config is shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../core/config/validate.ts';
import { redactConfig } from '../../core/index.ts';
import { ConductorError } from '../../core/index.ts';

const base = { source: 'test-config', baseDir: process.cwd() };

test('defaults fill in and ${env:…} is interpolated', async () => {
  const { config } = await resolveConfig(
    { dataDir: '${env:TEST_DATA_DIR}', plugins: { 'rate-limit': { burst: 3 }, sanitize: { blockedPatterns: ['${env:TEST_PATTERN}'] } } },
    { ...base, env: { TEST_DATA_DIR: '/srv/conductor', TEST_PATTERN: 'forbidden' } },
  );
  assert.equal(config.dataDir, '/srv/conductor');
  assert.equal(config.concurrency, 4);
  assert.deepEqual(config.plugins['rate-limit'], { requestsPerMinute: 60, burst: 3, keyPrefix: 'conductor:rate' });
  assert.deepEqual((config.plugins['sanitize'] as { blockedPatterns: string[] }).blockedPatterns, ['forbidden']);
  assert.equal(config.retry.maxAttempts, 8);
});

test('a missing environment variable is a config error naming the key', async () => {
  await assert.rejects(
    resolveConfig({ plugins: { 'git-sink': { authorName: '${env:NOPE_NOT_SET}' } } }, { ...base, env: {} }),
    (error: ConductorError) =>
      error.code === 'CND_ERR_CONFIG_INVALID' &&
      /plugins\.git-sink\.authorName: environment variable NOPE_NOT_SET is not set/.test(error.message),
  );
  const { config } = await resolveConfig({ plugins: { 'git-sink': { authorName: '${env:NOPE_NOT_SET:-Bot}' } } }, { ...base, env: {} });
  assert.equal(config.plugins['git-sink']!['authorName'], 'Bot');
});

test('command-line overrides win over the file', async () => {
  const { config } = await resolveConfig(
    { dataDir: '/a', logLevel: 'info', plugins: {} },
    { ...base, overrides: { dataDir: '/b', logLevel: 'error' } },
  );
  assert.equal(config.dataDir, '/b');
  assert.equal(config.logLevel, 'error');
});

test('a plugin dependency that is not configured is refused', async () => {
  const { definePlugin } = await import('../../core/index.ts');
  const needy = definePlugin({
    name: 'needy',
    kind: 'service',
    description: 'needs git-sink',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    dependencies: ['git-sink'],
    create: () => ({}),
  });
  await assert.rejects(resolveConfig({ modules: { needy }, plugins: { needy: {} } }, base), /plugins\.needy: needs plugin "git-sink"/);
  await resolveConfig({ modules: { needy }, plugins: { needy: {}, 'git-sink': {} } }, base);
});

test('definePlugin refuses bad metadata, naming the plugin', async () => {
  const { definePlugin } = await import('../../core/index.ts');
  assert.throws(
    () =>
      definePlugin({
        name: 'Bad_Name',
        kind: 'service',
        description: 'bad name',
        optionsSchema: { type: 'object', additionalProperties: false },
        defaults: {},
        create: () => ({}),
      }),
    /CND_ERR_PLUGIN_INVALID|kebab-case/,
  );
  assert.throws(
    () =>
      definePlugin({
        name: 'open-schema',
        kind: 'service',
        description: 'open schema',
        optionsSchema: { type: 'object' },
        defaults: {},
        create: () => ({}),
      }),
    /open-schema.*additionalProperties: false/,
  );
  assert.throws(
    () =>
      definePlugin({
        name: 'typo',
        kind: 'sink' as never,
        description: 'x',
        optionsSchema: { type: 'object', additionalProperties: false },
        defaults: {},
        create: () => ({}),
      }),
    /plugin typo: kind must be one or more of/,
  );
  assert.throws(
    () =>
      definePlugin({
        name: 'mute',
        kind: 'audit',
        description: ' ',
        optionsSchema: { type: 'object', additionalProperties: false },
        defaults: {},
        create: () => ({}),
      }),
    /plugin mute: description must say what the plugin does/,
  );
});

test('redaction hides secret-looking keys and URL passwords, not file paths', () => {
  const shown = redactConfig({
    plugins: {
      'porch-sink': { token: 's3cr3t', tokenFile: '/var/run/token', server: 'https://user:pw@porch.example:6443' },
      x: { apiKey: 'k', nested: [{ password: 'p' }] },
    },
  });
  const text = JSON.stringify(shown);
  for (const secret of ['s3cr3t', ':pw@', '"k"', '"p"']) assert.ok(!text.includes(secret), `${secret} is hidden`);
  assert.ok(text.includes('/var/run/token'));
  assert.ok(text.includes('porch.example'));
});
