// The webhook-audit plugin in a real pipeline built by Conductor's testkit, against a real
// HTTP receiver on 127.0.0.1: what it sends, how it retries, and that the pipeline never waits
// for the webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPipeline, sampleIntent, type TestPipeline } from '../../../core/testkit/index.ts';
import type { PluginStatus } from '../../../core/index.ts';
import webhookAudit from '../index.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';

const QUICK_RETRY = { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 20, budgetMs: 5_000 };

async function pipelineWith(
  receiver: Receiver,
  options: Record<string, unknown> = {},
  extra: Record<string, Record<string, unknown>> = {},
): Promise<TestPipeline> {
  return buildPipeline({
    modules: { 'webhook-audit': webhookAudit },
    plugins: { ...extra, 'webhook-audit': { url: receiver.url, retry: QUICK_RETRY, ...options } },
  });
}

function statusOf(pipeline: TestPipeline): PluginStatus {
  const entry = pipeline.conductor.plugins.find((plugin) => plugin.id === 'webhook-audit');
  assert.ok(entry?.instance.status, 'webhook-audit has status()');
  return entry.instance.status();
}

test('POSTs every terminal outcome as JSON, with the token and an idempotency key', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const pipeline = await pipelineWith(receiver, { token: 's3cret', headers: { 'x-team': 'ran' } }, { 'schema-validate': {} });
  t.after(() => pipeline.close());

  const ok = await pipeline.feed('intent-ok.json', sampleIntent({ target: 'cu-cp' }));
  const bad = await pipeline.feed('intent-bad.json', sampleIntent({ replicas: 0 }));
  const [first, second] = await receiver.arrivals(2);

  assert.equal(first?.method, 'POST');
  assert.equal(first.path, '/conductor/outcomes');
  assert.equal(first.headers['content-type'], 'application/json');
  assert.equal(first.headers['authorization'], 'Bearer s3cret');
  assert.equal(first.headers['x-team'], 'ran');
  assert.equal(first.json?.type, 'conductor.outcome');
  assert.equal(first.json?.source, 'webhook-audit');
  assert.deepEqual(first.json?.outcome, ok.outcome);
  assert.match(String(first.headers['idempotency-key']), new RegExp(`^${ok.outcome!.intentId}\\.\\d+$`));
  assert.equal(second?.json?.outcome?.['status'], 'failed');
  assert.equal(second.json?.outcome?.['code'], bad.outcome?.code);
  assert.equal(bad.outcome?.code, 'CND_ERR_INTENT_INVALID');
});

test('sends only the statuses it is told to', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const pipeline = await pipelineWith(receiver, { statuses: ['failed'] }, { 'schema-validate': {} });
  await pipeline.feed('intent-ok.json', sampleIntent());
  await pipeline.feed('intent-bad.json', sampleIntent({ replicas: 0 }));
  await pipeline.close();
  assert.deepEqual(
    receiver.received.map((request) => request.json?.outcome?.['file']),
    ['intent-bad.json'],
  );
});

test('retries a 5xx with backoff and a 429 after its Retry-After, keeping the idempotency key', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  receiver.answer((_request, index) => [{ status: 503 }, { status: 429, headers: { 'retry-after': '0' } }][index] ?? { status: 200 });
  const pipeline = await pipelineWith(receiver);
  t.after(() => pipeline.close());

  await pipeline.feed('intent-1.json', sampleIntent());
  const requests = await receiver.arrivals(3);
  await pipeline.close();

  assert.equal(new Set(requests.map((request) => request.headers['idempotency-key'])).size, 1);
  assert.deepEqual(statusOf(pipeline).details, { queued: 0, delivered: 1, failed: 0, dropped: 0 });
});

test('gives up at once on a record the receiver refuses (4xx), and says so in status()', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  receiver.answer(() => ({ status: 422 }));
  const pipeline = await pipelineWith(receiver);
  await pipeline.feed('intent-1.json', sampleIntent());
  await pipeline.close();

  assert.equal(receiver.received.length, 1);
  const status = statusOf(pipeline);
  assert.deepEqual(status.details, { queued: 0, delivered: 0, failed: 1, dropped: 0 });
  assert.match(status.message ?? '', /last delivery failed: webhook refused the record with 422/);
  const warning = pipeline.logs.find((record) => record.plugin === 'webhook-audit' && /given up/.test(record.msg ?? ''));
  assert.equal(warning?.err?.code, 'CND_ERR_SUBMIT_PERMANENT');
});

test('never holds up the pipeline: outcomes settle while the webhook does not answer', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  receiver.answer(() => 'hold');
  const pipeline = await pipelineWith(receiver, { flushTimeoutMs: 100, timeoutMs: 30_000 });

  const results = [
    await pipeline.feed('intent-1.json', sampleIntent({ target: 'a' })),
    await pipeline.feed('intent-2.json', sampleIntent({ target: 'b' })),
  ];
  await receiver.arrivals(1);

  assert.deepEqual(
    results.map((result) => result.outcome?.status),
    ['succeeded', 'succeeded'],
  );
  assert.equal(statusOf(pipeline).details?.['queued'], 2, 'both wait in the outbox; the first is in flight');

  // Stop gives the flush 100 ms, then cuts the held request and reports what was left.
  await pipeline.close();
  const report = pipeline.logs.find((record) => record.plugin === 'webhook-audit' && record['undelivered'] !== undefined);
  assert.equal(report?.['undelivered'], 2);
});

test('stop() sends what is queued before it returns', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  receiver.answer((_request, index) => (index === 0 ? 'hold' : { status: 204 }));
  const pipeline = await pipelineWith(receiver);
  for (const n of [1, 2, 3]) await pipeline.feed(`intent-${n}.json`, sampleIntent({ target: `t${n}` }));
  await receiver.arrivals(1);

  let closed = false;
  const closing = pipeline.close().then(() => (closed = true));
  assert.equal(closed, false);
  receiver.release();
  await closing;

  assert.deepEqual(
    receiver.received.map((request) => request.json?.outcome?.['file']),
    ['intent-1.json', 'intent-2.json', 'intent-3.json'],
  );
  assert.deepEqual(statusOf(pipeline).details, { queued: 0, delivered: 3, failed: 0, dropped: 0 });
});

test('drops what does not fit in its queue, counts it and logs it once', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  receiver.answer(() => 'hold');
  const pipeline = await pipelineWith(receiver, { maxQueue: 1, flushTimeoutMs: 0 });
  for (const n of [1, 2, 3]) await pipeline.feed(`intent-${n}.json`, sampleIntent({ target: `t${n}` }));
  await receiver.arrivals(1);
  await pipeline.close();

  assert.equal(statusOf(pipeline).details?.['dropped'], 2);
  assert.equal(pipeline.logs.filter((record) => /queue full/.test(record.msg ?? '')).length, 1);
});

test('preflight() says whether the webhook answers', async (t) => {
  const receiver = await startReceiver();
  const closed = await startReceiver();
  await closed.close();
  t.after(() => receiver.close());
  const preflightOf = async (url: string) => {
    const pipeline = await buildPipeline({
      modules: { 'webhook-audit': webhookAudit },
      plugins: { 'webhook-audit': { url } },
      start: false,
    });
    try {
      const instance = pipeline.conductor.plugins.find((plugin) => plugin.id === 'webhook-audit')!.instance;
      return await instance.preflight!(AbortSignal.timeout(10_000));
    } finally {
      await pipeline.close();
    }
  };
  assert.deepEqual(
    (await preflightOf(receiver.url)).map((check) => check.ok),
    [true],
  );
  const [down] = await preflightOf(closed.url);
  assert.equal(down?.ok, false);
  assert.match(down.message, /ECONNREFUSED|connect/i);
});
