// The core's semantics, stage by stage (in the manner of tapable's HookTester): one hook kind
// per purpose, error attribution by interceptors, the ledger's exactly-once bookkeeping, and
// ordered, time-limited start and stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConductorError, definePlugin, type PluginDefinition, type PluginInstance, type TapEndEvent } from '../../core/index.ts';
import { createConductor } from '../../core/app.ts';
import { resolveConfig } from '../../core/config/validate.ts';
import { silentLogger } from '../../core/log.ts';
import { contentHash } from '../../core/intent/identity.ts';
import { testPipeline } from '../support/pipeline.ts';
import { scaling, tempDir } from '../support/data-dir.ts';

const EMPTY = { type: 'object', additionalProperties: false } as const;

function plugin(name: string, kind: PluginDefinition['kind'], instance: (id: string) => PluginInstance): PluginDefinition<any> {
  return definePlugin({ name, kind, description: name, optionsSchema: EMPTY, defaults: {}, create: (ctx) => instance(ctx.id) });
}

test('validate bails at the first rejection; sanitize is a waterfall; submit takes the first receipt; audit sees all', async (t) => {
  const calls: string[] = [];
  const modules = {
    'v-one': plugin('v-one', 'validate', (id) => ({
      apply: (h) => h.validate.tap(id, (i) => (calls.push('v-one'), i.replicas === 13 ? { message: 'unlucky' } : undefined)),
    })),
    'v-two': plugin('v-two', 'validate', (id) => ({ apply: (h) => h.validate.tap(id, () => void calls.push('v-two')) })),
    's-one': plugin('s-one', 'sanitize', (id) => ({ apply: (h) => h.sanitize.tap(id, (i) => ({ ...i, reason: `${i.reason ?? ''}a` })) })),
    's-two': plugin('s-two', 'sanitize', (id) => ({ apply: (h) => h.sanitize.tap(id, (i) => ({ ...i, reason: `${i.reason}b` })) })),
    'sink-skip': plugin('sink-skip', 'submit', (id) => ({
      apply: (h) => h.submit.tapPromise(id, async () => (calls.push('skip'), undefined)),
    })),
    'sink-take': plugin('sink-take', 'submit', (id) => ({
      apply: (h) => h.submit.tapPromise(id, async (i) => (calls.push(`take:${i.reason}`), { sink: id, ref: 'r1' })),
    })),
    'sink-never': plugin('sink-never', 'submit', (id) => ({
      apply: (h) => h.submit.tapPromise(id, async () => (calls.push('never'), { sink: id })),
    })),
    'audit-a': plugin('audit-a', 'audit', (id) => ({ apply: (h) => h.audit.tap(id, (o) => void calls.push(`audit-a:${o.status}`)) })),
    'audit-b': plugin('audit-b', 'audit', (id) => ({
      apply: (h) => h.audit.tapPromise(id, async (o) => void calls.push(`audit-b:${o.status}`)),
    })),
  };
  const p = await testPipeline(Object.fromEntries(Object.keys(modules).map((k) => [k, {}])), modules);
  t.after(() => p.close());

  const ok = await p.feed('intent-1.json', scaling('cu-cp', 2));
  assert.equal(ok.outcome?.status, 'succeeded');
  assert.deepEqual(ok.outcome?.receipt, { sink: 'sink-take', ref: 'r1' });
  assert.deepEqual(calls.splice(0), ['v-one', 'v-two', 'skip', 'take:ab', 'audit-a:succeeded', 'audit-b:succeeded']);
  assert.equal(ok.acked.length, 1);

  const refused = await p.feed('intent-2.json', scaling('cu-cp', 13));
  assert.equal(refused.outcome?.status, 'failed');
  assert.equal(refused.outcome?.code, 'CND_ERR_INTENT_INVALID');
  assert.equal(refused.outcome?.message, 'unlucky');
  assert.deepEqual(calls.splice(0), ['v-one', 'audit-a:failed', 'audit-b:failed']);
});

test('errors are attributed to the plugin that threw; transient ones are retried, then released', async (t) => {
  let attempts = 0;
  const ends: TapEndEvent[] = [];
  const modules = {
    flaky: plugin('flaky', 'submit', (id) => ({
      apply: (h) =>
        h.submit.tapPromise(id, async (intent) => {
          attempts += 1;
          if (intent.target === 'always-down') throw new Error('connection refused');
          if (intent.target === 'refuses') throw new ConductorError('CND_ERR_SUBMIT_PERMANENT', 'forbidden by the server');
          if (attempts === 1) throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'blip');
          return { sink: id };
        }),
    })),
  };
  const p = await testPipeline({ flaky: {} }, modules, { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2, budgetMs: 5_000 } });
  t.after(() => p.close());
  p.conductor.events.tapEnd.tap('test', (e) => void ends.push(e));

  const recovered = await p.feed('intent-a.json', scaling('up', 1));
  assert.equal(recovered.outcome?.status, 'succeeded');
  assert.equal(recovered.outcome?.attempts, 2);

  const permanent = await p.feed('intent-b.json', scaling('refuses', 1));
  assert.equal(permanent.outcome?.status, 'failed');
  assert.equal(permanent.outcome?.plugin, 'flaky');
  assert.equal(permanent.outcome?.stage, 'submit');

  const down = await p.feed('intent-c.json', scaling('always-down', 1));
  assert.equal(down.outcome, undefined, 'not terminal');
  assert.deepEqual(down.acked, []);
  assert.match(down.released[0]!, /CND_ERR_RETRY_EXHAUSTED/);
  const failedTap = ends.find((e) => e.error?.message === 'connection refused');
  assert.equal(failedTap?.plugin, 'flaky');
  assert.equal(failedTap?.error?.code, 'CND_ERR_INTERNAL');
  assert.equal(failedTap?.error?.plugin, 'flaky');
  assert.equal(p.conductor.pipeline.stats().deferred, 1);
});

test('the ledger makes re-delivery a duplicate and reuse of a correlation_id with new content a conflict', async (t) => {
  let submitted = 0;
  const modules = {
    sink: plugin('sink', 'submit', (id) => ({ apply: (h) => h.submit.tapPromise(id, async () => ((submitted += 1), { sink: id })) })),
  };
  const p = await testPipeline({ sink: {} }, modules);
  t.after(() => p.close());
  assert.equal((await p.feed('intent-a.json', scaling('x', 2))).outcome?.status, 'succeeded');
  assert.equal((await p.feed('intent-a.json', scaling('x', 2))).outcome?.status, 'duplicate');
  assert.equal((await p.feed('intent-b.json', scaling('x', 2, { correlation_id: 'c1' }))).outcome?.status, 'succeeded');
  assert.equal(
    (await p.feed('intent-c.json', scaling('x', 2, { correlation_id: 'c1' }))).outcome?.status,
    'duplicate',
    'same correlation id, same content, other file',
  );
  const conflict = await p.feed('intent-d.json', scaling('x', 9, { correlation_id: 'c1' }));
  assert.equal(conflict.outcome?.status, 'failed');
  assert.equal(conflict.outcome?.code, 'CND_ERR_INTENT_CONFLICT');
  assert.equal(submitted, 2);
  assert.equal(
    (await p.feed('intent-c.json', scaling('x', 2, { correlation_id: 'c1' }))).outcome?.status,
    'duplicate',
    'the conflict did not disturb the record',
  );
});

test('intents for one target run one at a time in arrival order; other targets run alongside', async (t) => {
  const log: string[] = [];
  const gates = new Map<string, () => void>();
  const modules = {
    sink: plugin('sink', 'submit', (id) => ({
      apply: (h) =>
        h.submit.tapPromise(id, async (intent) => {
          log.push(`start ${intent.target}:${intent.replicas}`);
          await new Promise<void>((resolve) => gates.set(`${intent.target}:${intent.replicas}`, resolve));
          log.push(`end ${intent.target}:${intent.replicas}`);
          return { sink: id };
        }),
    })),
  };
  const p = await testPipeline({ sink: {} }, modules, { concurrency: 4 });
  t.after(() => p.close());
  const runs = [
    p.feed('intent-1.json', scaling('a', 1)),
    p.feed('intent-2.json', scaling('a', 2)),
    p.feed('intent-3.json', scaling('b', 1)),
  ];
  const until = async (key: string) => {
    while (!gates.has(key)) await new Promise((r) => setImmediate(r));
  };
  await until('a:1');
  await until('b:1');
  assert.ok(!gates.has('a:2'), 'the second intent for a waits');
  gates.get('b:1')!();
  gates.get('a:1')!();
  await until('a:2');
  gates.get('a:2')!();
  await Promise.all(runs);
  assert.ok(log.indexOf('end a:1') < log.indexOf('start a:2'));
  assert.ok(log.indexOf('start b:1') < log.indexOf('end a:1'));
});

test('start runs downstream-first, stop upstream-first; stop is safe before start and twice', async () => {
  const order: string[] = [];
  const mk = (name: string, kind: PluginDefinition['kind']) =>
    plugin(name, kind, () => ({ start: () => void order.push(`start ${name}`), stop: () => void order.push(`stop ${name}`) }));
  const modules = {
    src: mk('src', 'source'),
    val: mk('val', 'validate'),
    snk: mk('snk', 'submit'),
    aud: mk('aud', 'audit'),
    svc: mk('svc', 'service'),
  };
  const resolved = await resolveConfig(
    { dataDir: tempDir(), modules, plugins: { src: {}, val: {}, snk: {}, aud: {}, svc: {} } },
    { source: 't', baseDir: '.' },
  );
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'once' });
  await conductor.start();
  await conductor.stop();
  await conductor.stop();
  assert.deepEqual(order, [
    'start svc',
    'start aud',
    'start snk',
    'start val',
    'start src',
    'stop src',
    'stop val',
    'stop snk',
    'stop aud',
    'stop svc',
  ]);
  for (const def of Object.values(modules)) {
    const instance = await def.create({} as never, {});
    await instance.stop?.(new AbortController().signal);
  }
});

test('a plugin that hangs at start fails with a timeout naming it, and what started is stopped', async () => {
  const order: string[] = [];
  const modules = {
    fine: plugin('fine', 'submit', () => ({ start: () => void order.push('start fine'), stop: () => void order.push('stop fine') })),
    hangs: plugin('hangs', 'source', () => ({ start: () => new Promise<void>(() => undefined) })),
  };
  const resolved = await resolveConfig(
    { dataDir: tempDir(), pluginTimeoutMs: 50, modules, plugins: { fine: {}, hangs: {} } },
    { source: 't', baseDir: '.' },
  );
  const conductor = await createConductor(resolved, { log: silentLogger(), mode: 'once' });
  await assert.rejects(
    conductor.start(),
    (e: ConductorError) =>
      e.code === 'CND_ERR_PLUGIN_TIMEOUT' && e.plugin === 'hangs' && /plugin hangs did not start within 50 ms/.test(e.message),
  );
  assert.deepEqual(order, ['start fine', 'stop fine']);
});

test('a validator returning false skips no one; a rejection and a claim error name their plugin', async (t) => {
  const calls: string[] = [];
  const modules = {
    lenient: plugin('lenient', 'validate', (id) => ({ apply: (h) => h.validate.tap(id, () => (calls.push('lenient'), false as never)) })),
    strict: plugin('strict', 'validate', (id) => ({
      apply: (h) => h.validate.tap(id, (i) => (calls.push('strict'), i.replicas > 5 ? { message: 'too many' } : undefined)),
    })),
    coordinator: plugin('coordinator', 'service', (id) => ({
      apply: (h) =>
        h.claim.tapPromise(id, async () => {
          throw new Error('redis went away');
        }),
    })),
  };
  const p = await testPipeline({ lenient: {}, strict: {}, coordinator: {} }, modules);
  t.after(() => p.close());
  const refused = await p.feed('intent-1.json', scaling('a', 9));
  assert.deepEqual(calls, ['lenient', 'strict']);
  assert.equal(refused.outcome?.status, 'failed');
  assert.equal(refused.outcome?.plugin, 'strict');
  await assert.rejects(
    p.conductor.pipeline.claim('intent-2.json'),
    (e: ConductorError) => e.plugin === 'coordinator' && e.code === 'CND_ERR_INTERNAL',
  );
});

test("a stage's context logger names the file and the intent id, made before or after the intent is parsed", async (t) => {
  const modules = {
    talker: plugin('talker', 'submit', (id) => ({
      apply: (h) => h.submit.tapPromise(id, async (_intent, ctx) => (ctx.log.info('from the sink'), { sink: id })),
    })),
  };
  const p = await testPipeline({ talker: {} }, modules);
  t.after(() => p.close());
  // One intent whose logger is first asked for at `received`, before its id is known.
  p.conductor.events.received.tap('test', (envelope, ctx) => {
    if (envelope.file === 'intent-early.json') ctx.log.info('received');
  });
  const late = await p.feed('intent-late.json', scaling('late', 1, { correlation_id: 'late-1' }));
  const early = await p.feed('intent-early.json', scaling('early', 1));
  const line = (file: string, msg: string) => p.logs.find((r) => r['file'] === file && r['msg'] === msg);
  assert.ok(late.outcome?.intentId !== undefined && early.outcome?.intentId !== undefined);
  assert.equal(line('intent-late.json', 'from the sink')?.['intentId'], late.outcome?.intentId);
  assert.equal(line('intent-early.json', 'from the sink')?.['intentId'], early.outcome?.intentId);
  assert.ok(line('intent-early.json', 'received') !== undefined, 'the line logged at received names the file');
  assert.notEqual(line('intent-early.json', 'received')?.['intentId'], early.outcome?.intentId, 'before parsing, the real id is not known');
});

test('nothing is in the ledger while the sink is called; a deferred intent keeps its attempts for the next pass, resumed', async (t) => {
  const seen: { attempt: number; resumed: boolean; recorded: string | undefined }[] = [];
  let down = true;
  let ledgerOf: (id: string) => string | undefined = () => undefined;
  const modules = {
    sink: plugin('sink', 'submit', (id) => ({
      apply: (h) =>
        h.submit.tapPromise(id, async (_intent, ctx) => {
          seen.push({ attempt: ctx.attempt, resumed: ctx.resumed, recorded: ledgerOf(ctx.intentId) });
          if (down) throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'unreachable');
          return { sink: id };
        }),
    })),
  };
  const p = await testPipeline({ sink: {} }, modules, { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2, budgetMs: 5_000 } });
  t.after(() => p.close());
  ledgerOf = (intentId) => p.conductor.ledger.get(intentId)?.status;

  const first = await p.feed('intent-a.json', scaling('a', 1));
  assert.equal(first.outcome, undefined, 'left for later');
  await p.conductor.ledger.flush();
  const intentId = p.deferred[0]!.intentId;
  assert.deepEqual([p.conductor.ledger.get(intentId)?.status, p.conductor.ledger.get(intentId)?.attempts], ['submitting', 2]);

  down = false;
  const second = await p.feed('intent-a.json', scaling('a', 1));
  assert.equal(second.outcome?.status, 'succeeded');
  assert.equal(second.outcome?.attempts, 3);
  assert.deepEqual(seen, [
    { attempt: 1, resumed: false, recorded: undefined },
    { attempt: 2, resumed: false, recorded: undefined },
    { attempt: 3, resumed: true, recorded: 'submitting' },
  ]);
});

test('the content hash is that of the sanitized intent, whether a sanitizer changed it or handed it back', async (t) => {
  const decomposed = 'cafe\u0301 scale-out'; // NFC makes it 'café scale-out'
  // Parsing already normalises what a file holds; a sanitizer before the shipped one can still
  // hand it text to normalise.
  const injector = plugin('injector', 'sanitize', (id) => ({
    apply: (h) => h.sanitize.tap(id, (intent) => (intent.target === 'injected' ? { ...intent, reason: decomposed } : intent)),
  }));
  const seen: { intent: Record<string, unknown>; contentHash: string | undefined }[] = [];
  const sink = plugin('sink', 'submit', (id) => ({
    apply: (h) =>
      h.submit.tapPromise(id, async (intent, ctx) => {
        seen.push({ intent: intent as unknown as Record<string, unknown>, contentHash: ctx.contentHash });
        return { sink: id };
      }),
  }));
  const p = await testPipeline({ injector: {}, sanitize: {}, sink: {} }, { injector, sink });
  t.after(() => p.close());

  assert.equal((await p.feed('intent-1.json', scaling('plain', 2, { reason: 'plain scale-out' }))).outcome?.status, 'succeeded');
  assert.equal((await p.feed('intent-2.json', scaling('injected', 3, { reason: 'plain' }))).outcome?.status, 'succeeded');
  assert.equal(seen.length, 2);
  assert.equal(seen[1]!.intent['reason'], decomposed.normalize('NFC'), 'the shipped sanitizer normalised what it was handed');
  for (const { intent, contentHash: hash } of seen) assert.equal(hash, contentHash(intent), `the hash of ${String(intent['target'])}`);
});
