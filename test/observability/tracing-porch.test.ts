// Issue 5, acceptance 2 with the real sink: intents submitted to the Porch API simulator by the
// porch-sink, traced by the otel plugin. The local OTLP/HTTP receiver gets one trace per intent
// with a span per stage, and every request the simulator saw for an intent carried that
// intent's trace id in its W3C traceparent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { waitFor } from '../support/wait.ts';
import { buildConductor, dataDirectory, dropScalingIntents, filesIn, porchConfig, startSim } from '../porch/support/harness.ts';

test('one trace per intent through the Porch sink; the simulator saw the same trace ids', { timeout: 120_000 }, async (t) => {
  const sim = await startSim({ seed: 5, recordTraceparent: true });
  const receiver = await startOtlpReceiver();
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    await receiver.close();
    dir.cleanup();
  });
  const config = porchConfig(dir.root, { server: sim.url, approve: true });
  (config['plugins'] as Record<string, unknown>)['otel'] = {
    endpoint: receiver.endpoint,
    serviceName: 'conductor-test',
    scheduledDelayMs: 50,
  };
  const dropped = dropScalingIntents(dir.handoff, 5, 'traced');
  const conductor = await buildConductor(config, 'once');
  await conductor.start();
  await conductor.idle();
  await conductor.stop();
  assert.equal(filesIn(dir.root, 'processed').length, 5);

  const traceOf = (file: string) =>
    (JSON.parse(readFileSync(join(dir.root, 'status', file.replace(/\.json$/, '.status.json')), 'utf8')) as { traceId: string }).traceId;
  const traceIds = dropped.map((d) => traceOf(d.file));
  assert.equal(new Set(traceIds).size, 5, 'one trace per intent, written into each status file');

  await waitFor(
    'the spans exported',
    () => traceIds.every((id) => receiver.spans().some((s) => s.traceId === id && s.parentSpanId === '')),
    20_000,
  );
  for (const id of traceIds) {
    const names = receiver
      .spans()
      .filter((s) => s.traceId === id)
      .map((s) => s.name)
      .sort();
    for (const stage of ['validate', 'submit', 'audit'])
      assert.ok(
        names.some((n) => n.includes(stage)),
        `trace ${id} has a ${stage} span (${names.join(', ')})`,
      );
  }
  // Every request the flow made carried a traceparent whose trace id is one of the intents'.
  const seen = sim.traceparents().map((header) => header.split('-')[1]);
  assert.ok(seen.length >= 5 * 4, `the simulator saw ${seen.length} traced requests`);
  for (const id of traceIds) assert.ok(seen.includes(id), `the simulator saw trace ${id}`);
  assert.deepEqual(
    seen.filter((id) => !traceIds.includes(id!)),
    [],
    'no request carried a foreign trace id',
  );
});
