// The codes of the catalogue that no scenario elsewhere asserts, each raised the way it is in
// service: a bad command line, an unknown plugin, unmet plugin requirements, a start or stop that
// fails, a tampered ledger record, a claim without the coordination store, a backup that cannot
// be written; and the exit code
// each class of code leads to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConductorError, definePlugin, ERROR_CODES } from '../../core/index.ts';
import { buildPipeline } from '../../core/testkit/index.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { resolvePluginDefinition } from '../../core/plugin/resolve.ts';
import { withTimeout } from '../../core/plugin/lifecycle.ts';
import { createEventHooks, createStageHooks } from '../../core/bus/hooks.ts';
import { pluginHooks } from '../../core/bus/facade.ts';
import { EXIT } from '../../core/cli/exit-codes.ts';
import { silentLogger } from '../../core/log.ts';
import redisCoordination from '../../plugins/redis-coordination/index.ts';
import { credentialsOf, readKubeconfig } from '../../plugins/porch-sink/kubeconfig.ts';
import { parseDuration } from '../../plugins/retention/duration.ts';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { runCli } from '../support/cli.ts';
import { makeDataDir, scaling, tempDir, writeJsonConfig } from '../support/data-dir.ts';
import { opsConfig } from '../ops/support/ops.ts';

const EMPTY = { type: 'object', additionalProperties: false } as const;
const base = { source: 'test-config', baseDir: process.cwd() };

const sink = definePlugin({
  name: 'sink',
  kind: 'submit',
  description: 'accepts every intent',
  optionsSchema: EMPTY,
  defaults: {},
  create: (context) => ({ apply: (hooks) => hooks.submit.tap(context.id, () => ({ sink: context.id, ref: 'r' })) }),
});

const hasCode = (code: string) => (error: unknown) => error instanceof ConductorError && error.code === code;

test('every code carries its exit class: usage (2) for what touched nothing, undone (3) otherwise', () => {
  for (const [code, entry] of Object.entries(ERROR_CODES))
    assert.ok(entry.exit in EXIT, `${code}: exit class ${entry.exit} is not an EXIT`);
  assert.equal(ERROR_CODES.CND_ERR_CONFIG_INVALID.exit, 'usage');
  assert.equal(ERROR_CODES.CND_ERR_SUBMIT_TRANSIENT.exit, 'undone');
});

test('an option the command does not know is CND_ERR_USAGE and exits 2', async () => {
  const result = await runCli(['validate', '--no-such-flag']);
  assert.equal(result.code, EXIT.usage);
  assert.match(result.stderr, /CND_ERR_USAGE: .*no-such-flag/);
});

test('a plugin that is neither built in nor a module is CND_ERR_PLUGIN_UNKNOWN', async () => {
  await assert.rejects(resolvePluginDefinition('no-such-plugin', {}, process.cwd()), hasCode('CND_ERR_PLUGIN_UNKNOWN'));
});

test('an unmet dependency is CND_ERR_PLUGIN_DEPENDENCY, an unsupported version CND_ERR_PLUGIN_VERSION', async () => {
  const needy = definePlugin({
    name: 'needy',
    kind: 'service',
    description: 'needs git-sink',
    optionsSchema: EMPTY,
    defaults: {},
    dependencies: ['git-sink'],
    create: () => ({}),
  });
  await assert.rejects(resolveConfig({ modules: { needy }, plugins: { needy: {} } }, base), (error: unknown) => {
    assert.ok(hasCode('CND_ERR_PLUGIN_DEPENDENCY')(error));
    assert.match((error as Error).message, /plugins\.needy: needs plugin "git-sink", which is not configured/);
    return true;
  });
  const future = definePlugin({
    name: 'future',
    kind: 'service',
    description: 'for a later core',
    optionsSchema: EMPTY,
    defaults: {},
    conductor: '^99',
    create: () => ({}),
  });
  await assert.rejects(resolveConfig({ modules: { future }, plugins: { future: {} } }, base), (error: unknown) => {
    assert.ok(hasCode('CND_ERR_PLUGIN_VERSION')(error));
    assert.match((error as Error).message, /plugin future needs Conductor \^99/);
    return true;
  });
  // With a problem of another sort beside them, the config is reported as a whole.
  await assert.rejects(
    resolveConfig({ modules: { future }, plugins: { future: {}, 'rate-limit': { brust: 1 } } }, base),
    hasCode('CND_ERR_CONFIG_INVALID'),
  );
});

test('a start that throws is CND_ERR_PLUGIN_START, a stop that throws CND_ERR_PLUGIN_STOP, both naming the plugin', async () => {
  const broken = definePlugin({
    name: 'broken',
    kind: 'service',
    description: 'fails to start',
    optionsSchema: EMPTY,
    defaults: {},
    create: () => ({
      start() {
        throw new Error('no port');
      },
    }),
  });
  await assert.rejects(buildPipeline({ plugins: { sink: {}, broken: {} }, modules: { sink, broken } }), (error: unknown) => {
    assert.ok(hasCode('CND_ERR_PLUGIN_START')(error));
    assert.equal((error as ConductorError).plugin, 'broken');
    return true;
  });
  const stop = withTimeout('stop', 'broken', 1_000, () => {
    throw new Error('flush failed');
  });
  await assert.rejects(stop, (error: unknown) => hasCode('CND_ERR_PLUGIN_STOP')(error) && (error as ConductorError).plugin === 'broken');
});

test('a ledger record that fails its checksum is logged as CND_ERR_LEDGER_CORRUPT', async (t) => {
  const pipeline = await buildPipeline({ plugins: { sink: {} }, modules: { sink } });
  t.after(() => pipeline.close());
  const fed = await pipeline.feed('intent-1.json', scaling('cu-cp', 2));
  const intentId = fed.outcome!.intentId;
  pipeline.conductor.ledger.exec(`UPDATE intents SET status = 'submitting' WHERE intent_id = '${intentId}'`);
  assert.equal(pipeline.conductor.ledger.get(intentId), undefined);
  const logged = pipeline.logs.filter((record) => record['code'] === 'CND_ERR_LEDGER_CORRUPT');
  assert.deepEqual(
    logged.map((record) => record['intentId']),
    [intentId],
  );
});

test('a claim the coordination store cannot answer is CND_ERR_CLAIM, naming the plugin', async () => {
  const stages = createStageHooks();
  const events = createEventHooks();
  const context = {
    id: 'redis-coordination',
    log: silentLogger(),
    dataDir: '/nonexistent',
    config: {} as never,
    host: {} as never,
    mode: 'check' as const,
  };
  const instance = await redisCoordination.create(context, { ...redisCoordination.defaults } as Parameters<
    typeof redisCoordination.create
  >[1]);
  // Not started: there is no connection, as when redis went away.
  instance.apply?.(pluginHooks(context.id, ['service'], stages, events));
  await assert.rejects(stages.claim.promise('intent-1.json'), (error: unknown) => {
    assert.ok(hasCode('CND_ERR_CLAIM')(error));
    assert.equal((error as ConductorError).plugin, 'redis-coordination');
    return true;
  });
});

test('a backup that cannot be written is CND_ERR_BACKUP and exits 3 (undone)', async (t) => {
  const work = tempDir('conductor-backup-code-');
  const data = makeDataDir();
  t.after(() => [work, data.root].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const config = writeJsonConfig(work, opsConfig());
  const result = await runCli(['backup', '--config', config, '--data-dir', data.root, '--out', join(work, 'no-such-dir', 'b.tar.gz')]);
  assert.equal(result.code, EXIT.undone, result.stderr);
  assert.match(result.stderr, /CND_ERR_BACKUP: the backup was not written: .*ENOENT/);
});

test('a kubeconfig or a duration that cannot be used is a coded config error, not a plain Error', (t) => {
  const dir = tempDir('conductor-kubeconfig-code-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => readKubeconfig(join(dir, 'missing.yaml')), hasCode('CND_ERR_CONFIG_LOAD'));
  assert.throws(
    () => credentialsOf({ 'current-context': 'ghost', contexts: [] }, dir, 'test.yaml'),
    (error: unknown) => {
      assert.ok(hasCode('CND_ERR_CONFIG_INVALID')(error));
      assert.match((error as Error).message, /kubeconfig test\.yaml has no context named "ghost"/);
      return true;
    },
  );
  assert.throws(() => parseDuration('0h'), hasCode('CND_ERR_CONFIG_INVALID'));
  assert.throws(() => parseDuration('a week'), hasCode('CND_ERR_CONFIG_INVALID'));
});
