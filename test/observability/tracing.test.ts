// Issue 5, acceptance 2: the spans exported over OTLP/HTTP reach a local receiver — one trace
// per intent, a span for each stage that ran — and the trace id a sink sees in ctx.trace (the
// W3C traceparent it sends, as the Porch sink will) is the trace's, as are the ids in the
// status files and the audit log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CONDUCTOR_VERSION } from '../../core/index.ts';
import { freePort } from '../support/ports.ts';
import { startOtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import {
  dropIntent,
  FAST,
  makeDataDir,
  openPipeline,
  readJsonLines,
  readStatusFiles,
  scaling,
  startAndSettle,
} from './support/pipeline.ts';
import { flakySink, recordingSink } from './support/test-plugins.ts';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

test('one trace per intent, a span per stage that ran, and the sink sends the same trace id', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const sink = recordingSink();
  const flaky = flakySink(['app-3']);
  dropIntent(dir.handoff, 'intent-1.json', scaling('app-1', 1));
  dropIntent(dir.handoff, 'intent-2.json', scaling('app-2', 2));
  dropIntent(dir.handoff, 'intent-3.json', scaling('app-3', 3));
  dropIntent(dir.handoff, 'intent-invalid.json', scaling('app-4', -1));
  dropIntent(dir.handoff, 'intent-garbled.json', 'not json at all');

  const conductor = await openPipeline({
    dataDir: dir.root,
    ...FAST,
    modules: { 'recording-sink': sink.definition, 'flaky-sink': flaky.definition },
    plugins: {
      'fs-source': { debounceMs: 0 },
      'schema-validate': {},
      'flaky-sink': {},
      'recording-sink': {},
      'audit-log': {},
      otel: { endpoint: receiver.endpoint, instanceId: 'conductor-test-0', resourceAttributes: { 'deployment.environment': 'test' } },
    },
  });
  await startAndSettle(conductor, 5);
  // Stopping flushes the batch of spans to the receiver.
  await conductor.stop();

  assert.ok(receiver.contentTypes.length > 0, 'the exporter posted to /v1/traces');
  for (const type of receiver.contentTypes) assert.equal(type, 'application/json');
  const spans = receiver.spans();
  const traces = Map.groupBy(spans, (span) => span.traceId);
  assert.equal(traces.size, 5, 'one trace per intent');

  const byFile = new Map<string, { root: ReceivedSpan; stages: ReceivedSpan[] }>();
  for (const [traceId, members] of traces) {
    const roots = members.filter((span) => span.parentSpanId === '');
    assert.equal(roots.length, 1, `trace ${traceId} has one root span`);
    const root = roots[0]!;
    assert.equal(root.name, 'intent');
    assert.deepEqual(
      [
        root.resource['service.name'],
        root.resource['service.version'],
        root.resource['service.instance.id'],
        root.resource['deployment.environment'],
      ],
      ['conductor', CONDUCTOR_VERSION, 'conductor-test-0', 'test'],
    );
    const stages = members.filter((span) => span !== root);
    for (const span of stages) assert.equal(span.parentSpanId, root.spanId, `${span.name} is a child of the intent's span`);
    byFile.set(String(root.attributes['conductor.file']), { root, stages });
  }

  const stageNames = (file: string) =>
    byFile
      .get(file)!
      .stages.map((span) => span.name)
      .sort();
  const fullRun = ['audit', 'rate-limit', 'sanitize', 'submit', 'validate'];
  assert.deepEqual(stageNames('intent-1.json'), fullRun);
  assert.deepEqual(stageNames('intent-2.json'), fullRun);
  // app-3 failed once at submit and was retried: one submit span per attempt, the first in error.
  assert.deepEqual(stageNames('intent-3.json'), [...fullRun, 'submit'].sort());
  const submits = byFile.get('intent-3.json')!.stages.filter((span) => span.name === 'submit');
  assert.deepEqual(submits.map((span) => span.attributes['conductor.attempt']).sort(), [1, 2]);
  assert.equal(submits.find((span) => span.attributes['conductor.attempt'] === 1)!.status.code, 2, 'the failed attempt is an error span');
  // Refused by the schema: validate, then the audit of the failure. Unparseable: only the audit.
  assert.deepEqual(stageNames('intent-invalid.json'), ['audit', 'validate']);
  assert.deepEqual(stageNames('intent-garbled.json'), ['audit']);
  assert.equal(byFile.get('intent-invalid.json')!.root.attributes['conductor.outcome'], 'failed');
  assert.equal(byFile.get('intent-invalid.json')!.root.status.code, 2);
  assert.equal(byFile.get('intent-1.json')!.root.attributes['conductor.outcome'], 'succeeded');

  // What the sink saw (what the Porch sink sends as `traceparent`): the trace of that intent,
  // with the submit span as parent.
  assert.equal(sink.seen.length, 3);
  for (const seen of sink.seen) {
    const match = TRACEPARENT.exec(seen.traceparent ?? '');
    assert.ok(match, `a W3C traceparent: ${seen.traceparent}`);
    const intent = byFile.get(seen.file)!;
    assert.equal(match[1], intent.root.traceId);
    assert.equal(seen.traceId, intent.root.traceId);
    const lastSubmit = intent.stages.filter((span) => span.name === 'submit').at(-1)!;
    assert.equal(match[2], lastSubmit.spanId);
    assert.equal(intent.root.attributes['conductor.intent.id'], seen.intentId);
  }

  // The status files and the audit log carry the same trace ids.
  const traceOf = (file: string) => byFile.get(file)!.root.traceId;
  for (const status of readStatusFiles(dir.root)) {
    if (status.file === 'intent-garbled.json') continue; // see below
    assert.equal(status.traceId, traceOf(status.file), `status of ${status.file}`);
  }
  const outcomes = readJsonLines(join(dir.root, 'audit', 'audit.log')).filter((record) => record['event'] === 'outcome');
  assert.equal(outcomes.length, 5);
  for (const record of outcomes) {
    if (record['file'] === 'intent-garbled.json') continue;
    assert.equal(record['traceId'], traceOf(String(record['file'])), `audit record of ${String(record['file'])}`);
  }
  // An intent that never parsed has its trace, but the core builds its outcome before its
  // first stage event (audit), so its status file and audit record have no trace id yet.
});

test('the otel plugin can stop before it started, and twice', async () => {
  const dir = makeDataDir();
  try {
    const conductor = await openPipeline({ dataDir: dir.root, plugins: { otel: { endpoint: 'http://127.0.0.1:9' } } });
    const otel = conductor.plugins.find((entry) => entry.id === 'otel')!.instance;
    const signal = new AbortController().signal;
    await otel.stop?.(signal);
    await conductor.start();
    await conductor.stop();
    await otel.stop?.(signal);
  } finally {
    dir.cleanup();
  }
});

test('a collector that does not answer is logged once, and the stop still finishes', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const sink = recordingSink();
  const closedPort = await freePort();
  const logFile = join(dir.root, 'conductor.log');
  dropIntent(dir.handoff, 'intent-1.json', scaling('app-1', 1));
  dropIntent(dir.handoff, 'intent-2.json', scaling('app-2', 1));
  const conductor = await openPipeline(
    {
      dataDir: dir.root,
      ...FAST,
      modules: { 'recording-sink': sink.definition },
      plugins: {
        'fs-source': { debounceMs: 0 },
        'recording-sink': {},
        otel: { endpoint: `http://127.0.0.1:${closedPort}`, scheduledDelayMs: 10, exportTimeoutMs: 1_000 },
      },
    },
    { logFile, logLevel: 'info' },
  );
  await startAndSettle(conductor, 2);
  await conductor.stop();
  const warnings = readJsonLines(logFile).filter(
    (line) => line['msg'] === 'trace export failed; spans are dropped until the collector answers',
  );
  assert.equal(warnings.length, 1, 'one warning while the collector stays away');
  assert.equal(warnings[0]!['plugin'], 'otel');
  // Every intent still got its trace id, exported or not.
  assert.ok(sink.seen.every((seen) => TRACEPARENT.test(seen.traceparent ?? '')));
});
