// A plugin taps only what its kinds own: `apply` gets the stage hooks of the declared kinds and
// the events, nothing else. Reaching for another stage is a type error where the kind is known
// (the @ts-expect-error lines below fail `tsc` the day it compiles) and, whatever the types
// said, a CND_ERR_PLUGIN_INVALID naming the plugin when the pipeline is built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConductorError, definePlugin, type PluginDefinition, type PluginKind } from '../../core/index.ts';
import { buildPipeline } from '../../core/testkit/index.ts';
import { scaling } from '../support/data-dir.ts';

const EMPTY = { type: 'object', additionalProperties: false } as const;

/** A submit plugin, so that the pipelines below have the sink every config needs. */
const sink = definePlugin({
  name: 'sink',
  kind: 'submit',
  description: 'accepts every intent',
  optionsSchema: EMPTY,
  defaults: {},
  create: (context) => ({ apply: (hooks) => hooks.submit.tap(context.id, () => ({ sink: context.id, ref: 'r' })) }),
});

/** A plugin of `kind` that records the names its facade lists, and does `tap` with it. */
function probe(kind: PluginKind | PluginKind[], seen: string[][], tap: (hooks: Record<string, unknown>, id: string) => void = () => {}) {
  return definePlugin({
    name: 'probe',
    kind,
    description: 'looks at its hooks',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({
      apply(hooks) {
        seen.push(Object.keys(hooks).sort());
        tap(hooks as unknown as Record<string, unknown>, context.id);
      },
    }),
  });
}

async function build(definition: PluginDefinition<any>) {
  return buildPipeline({ plugins: { sink: {}, probe: {} }, modules: { sink, probe: definition } });
}

test('a validate plugin sees the validate stage and the events, and nothing else', async (t) => {
  const seen: string[][] = [];
  const pipeline = await build(probe('validate', seen));
  t.after(() => pipeline.close());
  assert.deepEqual(seen, [['events', 'validate']]);
});

test('a plugin declaring several kinds sees each of their stages', async (t) => {
  const seen: string[][] = [];
  const pipeline = await build(probe(['validate', 'sanitize', 'audit'], seen));
  t.after(() => pipeline.close());
  assert.deepEqual(seen, [['audit', 'events', 'sanitize', 'validate']]);
});

test('claim belongs to services; a rate-limit plugin sees rateLimit', async (t) => {
  const seen: string[][] = [];
  const service = await build(probe('service', seen));
  t.after(() => service.close());
  const rateLimit = await build(probe('rate-limit', seen));
  t.after(() => rateLimit.close());
  assert.deepEqual(seen, [
    ['claim', 'events'],
    ['events', 'rateLimit'],
  ]);
});

test('a validate plugin that taps submit fails at registration with CND_ERR_PLUGIN_INVALID naming it', async () => {
  const tapped: string[] = [];
  const rogue = probe('validate', [], (hooks, id) => {
    (hooks['submit'] as { tap(name: string, fn: () => unknown): void }).tap(id, () => void tapped.push('submit'));
  });
  await assert.rejects(build(rogue), (error: unknown) => {
    assert.ok(error instanceof ConductorError);
    assert.equal(error.code, 'CND_ERR_PLUGIN_INVALID');
    assert.equal(error.plugin, 'probe');
    assert.match(error.message, /plugin probe \(kind validate\) may not tap the submit hook: only a plugin of kind submit may/);
    return true;
  });
  assert.deepEqual(tapped, []);
});

test('the event hooks a plugin taps in apply are called as intents move', async (t) => {
  const settled: string[] = [];
  const observer = definePlugin({
    name: 'probe',
    kind: 'service',
    description: 'counts outcomes',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({ apply: ({ events }) => events.settled.tap(context.id, (outcome) => void settled.push(outcome.status)) }),
  });
  const pipeline = await build(observer);
  t.after(() => pipeline.close());
  const fed = await pipeline.feed('intent-1.json', scaling('cu-cp', 2));
  assert.equal(fed.outcome?.status, 'succeeded');
  assert.deepEqual(settled, ['succeeded']);
});

test('tapping a stage the kind does not own is a type error', () => {
  // Type-level only: tsc checks these lines (npm run typecheck); nothing is built here.
  const validator = definePlugin({
    name: 'typed-validator',
    kind: 'validate',
    description: 'tries to be a sink',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({
      apply(hooks) {
        hooks.validate.tap(context.id, () => undefined);
        hooks.events.settled.tap(context.id, () => undefined);
        // @ts-expect-error a validate plugin is not handed the submit hook
        hooks.submit.tap(context.id, () => ({ sink: context.id }));
        // @ts-expect-error nor the claim hook, which belongs to services
        void hooks.claim;
      },
    }),
  });
  const both = definePlugin({
    name: 'typed-both',
    kind: ['validate', 'sanitize'],
    description: 'validates and sanitizes',
    optionsSchema: EMPTY,
    defaults: {},
    create: (context) => ({
      apply(hooks) {
        hooks.validate.tap(context.id, () => undefined);
        hooks.sanitize.tap(context.id, (intent) => intent);
        // @ts-expect-error neither kind owns audit
        void hooks.audit;
      },
    }),
  });
  assert.deepEqual([validator.kind, both.kind], ['validate', ['validate', 'sanitize']]);
});
