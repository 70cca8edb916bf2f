// The testkit itself: its rules catch what they claim to catch, its I/O trap sees and then
// lets go, buildPipeline feeds and cleans up — and, end to end, the conformance suite fails
// each deliberately broken plugin at the rule it breaks (fixtures/broken-plugins.conformance.ts).
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ConductorError, definePlugin } from '../../core/index.ts';
import { buildPipeline, sampleIntent } from '../../core/testkit/index.ts';
import { definitionProblems, orderProblems, schemaProblems, statusProblems, tapErrorProblems } from '../../core/testkit/checks.ts';
import { activeHandles, grownHandles, trapIo } from '../../core/testkit/io-trap.ts';
import { probeName } from '../../core/testkit/wrappers.ts';

const CLOSED = { type: 'object', additionalProperties: false } as const;

describe('the rules', () => {
  it('definitions: kebab name, known kinds, a description, a satisfiable conductor range', () => {
    const valid = definePlugin({
      name: 'fine',
      kind: 'audit',
      description: 'fine',
      optionsSchema: CLOSED,
      defaults: {},
      create: () => ({}),
    });
    assert.deepEqual(definitionProblems(valid), []);
    const spec = {
      name: 'wrong',
      kind: ['sink' as never],
      description: ' ',
      optionsSchema: CLOSED,
      defaults: {},
      conductor: '^99',
      create: () => ({}),
    };
    // definePlugin itself refuses an unknown kind; the suite still names every problem of a
    // definition that reached it some other way.
    assert.throws(() => definePlugin(spec), /plugin wrong: kind must be one or more of/);
    assert.deepEqual(
      definitionProblems(spec).filter((p) => !/definePlugin\(\)/.test(p)),
      [
        'kind "sink" is not one of source, validate, sanitize, rate-limit, submit, audit, service',
        'description is empty',
        'conductor "^99" excludes this Conductor (0.1.0)',
      ],
    );
    assert.match(definitionProblems({ ...valid })[0] ?? '', /not the value definePlugin\(\) returned/);
  });

  it('schemas: closed at every level, strict-mode clean', () => {
    assert.deepEqual(schemaProblems({ ...CLOSED, properties: { map: { type: 'object', additionalProperties: { type: 'string' } } } }), []);
    assert.deepEqual(schemaProblems({ ...CLOSED, properties: { nested: { type: 'object', properties: {} } } }), [
      'options.nested accepts any key: give it properties with additionalProperties: false, or additionalProperties: <schema> for a map',
    ]);
    assert.match(schemaProblems({ ...CLOSED, properties: { port: { type: 'integer', minimun: 1 } } }).join(), /strict mode: .*minimun/);
    assert.match(schemaProblems({ type: 'object' }).join(), /additionalProperties: false/);
  });

  it('status and tap errors', () => {
    assert.deepEqual(statusProblems({ ready: false, message: 'warming up' }, 'now'), []);
    assert.deepEqual(statusProblems({ ready: 1 }, 'now'), ['status() now: ready is number, not a boolean']);
    const raw = new ConductorError('CND_ERR_INTERNAL', 'oops', { plugin: 'p/x' });
    assert.deepEqual(tapErrorProblems(raw, 'p/x', { classified: false }), []);
    assert.equal(tapErrorProblems(raw, 'p/x', { classified: true }).length, 1);
    assert.deepEqual(tapErrorProblems(new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'x', { plugin: 'q' }), 'p/x', { classified: true }), [
      'the error names plugin q, not p/x',
    ]);
  });

  it('order: downstream stages start before it and stop after it', () => {
    const kinds = ['service', 'audit', 'submit', 'rate-limit', 'sanitize', 'validate', 'source'] as const;
    const journal = [
      ...kinds.slice(0, 2).map((k) => `start ${probeName(k)}`),
      'start me',
      ...kinds.slice(2).map((k) => `start ${probeName(k)}`),
    ];
    assert.deepEqual(orderProblems(journal, 'me', ['submit'], probeName, 'start'), []);
    assert.deepEqual(orderProblems(journal, 'me', ['service'], probeName, 'start'), [
      'me was started after the audit stage; expected before it',
    ]);
    const stops = journal.map((line) => line.replace('start', 'stop')).reverse();
    assert.deepEqual(orderProblems(stops, 'me', ['submit'], probeName, 'stop'), []);
  });
});

test('the I/O trap records calls while it is set, and puts the originals back', async () => {
  const fs = await import('node:fs');
  const { readFileSync } = fs;
  const server = createServer();
  const { calls } = await trapIo(async () => {
    fs.readFileSync(fileURLToPath(import.meta.url));
    await fs.promises.stat(fileURLToPath(import.meta.url));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  server.close();
  assert.deepEqual(calls.slice(0, 1), [{ what: 'fs.readFileSync', target: fileURLToPath(import.meta.url) }]);
  assert.ok(calls.some((call) => call.what === 'fs.promises.stat'));
  assert.ok(calls.some((call) => call.what === 'net.Server.listen'));
  assert.equal(readFileSync, fs.readFileSync, 'the original is back after the trap');
  const before = activeHandles();
  const timer = setTimeout(() => undefined, 60_000);
  assert.deepEqual(grownHandles(before, activeHandles()), ['Timeout +1']);
  clearTimeout(timer);
});

test('buildPipeline: feed, outcomes, deferred, and a close that cleans up', async () => {
  let attempts = 0;
  const flaky = definePlugin({
    name: 'flaky',
    kind: 'submit',
    description: 'refuses intents for target "down"',
    optionsSchema: CLOSED,
    defaults: {},
    create: (context) => ({
      apply: (hooks) =>
        hooks.submit.tapPromise(context.id, async (intent) => {
          attempts += 1;
          if (intent.target === 'down') throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'unreachable');
          return { sink: context.id, ref: `r${attempts}` };
        }),
    }),
  });
  const pipeline = await buildPipeline({
    plugins: { 'schema-validate': {}, flaky: {} },
    modules: { flaky },
    config: { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2, budgetMs: 1_000 } },
  });
  const ok = await pipeline.feed('intent-1.json', sampleIntent());
  const down = await pipeline.feed('intent-2.json', sampleIntent({ target: 'down' }));
  const bytes = await pipeline.feed('intent-3.json', new TextEncoder().encode('{"not": "an intent"'));

  assert.equal(ok.outcome?.status, 'succeeded');
  assert.deepEqual(ok.acked, [ok.outcome]);
  assert.equal(down.outcome, undefined);
  assert.match(down.released[0] ?? '', /^CND_ERR_RETRY_EXHAUSTED: /);
  assert.equal(bytes.outcome?.code, 'CND_ERR_INTENT_PARSE');
  assert.deepEqual(
    (await pipeline.waitForOutcomes(2)).map((outcome) => outcome.file),
    ['intent-1.json', 'intent-3.json'],
  );
  assert.deepEqual(
    pipeline.deferred.map((event) => event.file),
    ['intent-2.json'],
  );

  await pipeline.close();
  await pipeline.close();
  assert.equal(existsSync(pipeline.dataDir), false);
});

test("buildPipeline refuses a bad config with the core's message", async () => {
  await assert.rejects(buildPipeline({ plugins: { 'rate-limit': { burst: 0 } } }), /plugins\.rate-limit\.burst: must be >= 1/);
});

test('the conformance suite fails each broken plugin at the rule it breaks, and a conformant one nowhere', async () => {
  const fixture = fileURLToPath(new URL('./fixtures/broken-plugins.conformance.ts', import.meta.url));
  // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of to us.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', fixture], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let tap = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (tap += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1);

  const failures: Record<string, string[]> = {};
  let suite = '';
  for (const line of tap.split('\n')) {
    const heading = /^# Subtest: conformance: (.+)$/.exec(line);
    if (heading) suite = heading[1]!;
    const failed = /^\s+not ok \d+ - (.+?)(?: # .*)?$/.exec(line);
    if (
      failed &&
      !/^(definition|factory|timeouts|in a running pipeline|errors thrown|answers preflight|plan\(\) and history)/.test(failed[1]!)
    )
      (failures[suite] ??= []).push(failed[1]!);
  }
  assert.deepEqual(failures, {
    'io-in-factory': ['create() does no I/O, opens no handle and returns quickly'],
    'misnamed-taps': ['adds every tap under its instance id, so errors and metrics name it'],
    'raw-thrower': ['takes an intent through the stages it serves; what its taps throw is classified and names it'],
    'fragile-stop': [
      'survives stop() before start() and stop() twice',
      'stops within 5000 ms, before every stage downstream of it; stop() again is harmless; status() still answers',
    ],
    'leaky-stop': ['leaves no timer, socket, server or watcher running once stopped'],
    'effectful-plan': [
      'plans in shape, the same twice, without effect; a submit then comes out as planned, and is a duplicate planned again',
    ],
    'open-options': ['has an options schema that compiles in ajv strict mode and closes every object'],
    'bad-status': [
      'answers status() before start with {ready: boolean}',
      'answers status() once started with {ready: boolean}',
      'stops within 5000 ms, before every stage downstream of it; stop() again is harmless; status() still answers',
    ],
  });
  assert.match(tap, /it did I\/O: fs\.readFileSync\(/);
  assert.match(tap, /it left a handle running: Timeout \+1/);
  assert.match(tap, /the instance has "stopp"/);
  assert.match(tap, /a second plan of the same intent differs: the first one changed something/);
  assert.match(tap, /ok \d+ - in a running pipeline: not started in this environment \(it needs a server this machine does not have\)/);
  assert.ok(readFileSync(fixture, 'utf8').includes("runConformance(\n  plugin('good-plugin'"), 'the control plugin is in the fixture');
});
