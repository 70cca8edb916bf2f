// Issue 5, acceptance 3 (as issue 14 decided it): with a sink's circuit open, /ready names the
// sink under `degraded` and stays 200 (readiness is about the pod), while
// /healthz stays 200, and both are back to normal when the sink recovers. Also: /startup
// follows the start of the plugins, and liveness follows the event loop, not the sink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopWatch } from '../../plugins/health/event-loop.ts';
import { livenessAnswer } from '../../plugins/health/reports.ts';
import { get, getJson } from './support/http.ts';
import { freePort } from '../support/ports.ts';
import { sampleValue } from './support/metrics-text.ts';
import { makeDataDir, openPipeline } from './support/pipeline.ts';
import { gatedStart, switchableSink } from './support/test-plugins.ts';
import { waitFor } from '../support/wait.ts';

test('an open circuit is named under degraded while /ready stays 200 (the pod is fine), /healthz stays 200, and both recover', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const [healthPort, metricsPort] = [await freePort(), await freePort()];
  const sink = switchableSink();
  const conductor = await openPipeline({
    dataDir: dir.root,
    modules: { 'switchable-sink': sink.definition },
    plugins: {
      'switchable-sink': {},
      health: { port: healthPort, host: '127.0.0.1' },
      prometheus: { port: metricsPort, host: '127.0.0.1' },
    },
  });
  await conductor.start();
  t.after(() => conductor.stop());
  const base = `http://127.0.0.1:${healthPort}`;
  const circuit = async () =>
    sampleValue((await get(`http://127.0.0.1:${metricsPort}/metrics`)).text, 'conductor_sink_circuit_state', { sink: 'switchable-sink' });

  assert.equal((await getJson(`${base}/ready`)).status, 200);
  assert.equal((await getJson(`${base}/healthz`)).status, 200);
  assert.equal(await circuit(), 0);

  sink.setCircuit('open');
  // Readiness is about the pod (issue 14): the sink's outage is reported, not made the pod's.
  const ready = await getJson(`${base}/ready`);
  assert.equal(ready.status, 200);
  assert.equal(ready.body['status'], 'ready');
  assert.deepEqual(ready.body['degraded'], [
    { plugin: 'switchable-sink', message: 'circuit open: the server failed repeatedly', details: { circuit: 'open' } },
  ]);
  assert.equal((ready.body['plugins'] as Record<string, string>)['switchable-sink'], 'not ready');
  const live = await getJson(`${base}/healthz`);
  assert.equal(live.status, 200, 'liveness never depends on the sink');
  assert.equal(live.body['status'], 'ok');
  assert.equal(await circuit(), 2);

  sink.setCircuit('half-open');
  assert.equal(await circuit(), 1);

  sink.setCircuit('closed');
  assert.equal((await getJson(`${base}/ready`)).status, 200);
  assert.equal((await getJson(`${base}/healthz`)).status, 200);
  assert.equal(await circuit(), 0);
});

test('/startup and /ready answer 503 until every plugin has started, then 200', async (t) => {
  const dir = makeDataDir();
  t.after(dir.cleanup);
  const port = await freePort();
  const gated = gatedStart();
  const conductor = await openPipeline({
    dataDir: dir.root,
    modules: { 'gated-start': gated.definition },
    plugins: { 'gated-start': {}, health: { port, host: '127.0.0.1' } },
  });
  // Services start first: the probes answer while the other plugins are still starting.
  const starting = conductor.start();
  t.after(async () => {
    gated.open();
    await starting;
    await conductor.stop();
  });
  const base = `http://127.0.0.1:${port}`;
  const startup = await waitFor('the health port to answer', () => getJson(`${base}/startup`).catch(() => undefined));
  assert.equal(startup.status, 503);
  const ready = await getJson(`${base}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(ready.body['notReady'], [{ plugin: 'conductor', message: 'starting: not every plugin has started yet' }]);
  assert.equal((await getJson(`${base}/healthz`)).status, 200);

  gated.open();
  await starting;
  assert.equal((await getJson(`${base}/startup`)).status, 200);
  assert.equal((await getJson(`${base}/ready`)).status, 200);
  assert.equal((await get(`${base}/nope`)).status, 404);
});

test('liveness fails when the event loop was blocked past the limit, and recovers', async () => {
  const watch = new EventLoopWatch(20);
  watch.start();
  try {
    const blockedUntil = performance.now() + 300;
    while (performance.now() < blockedUntil) {
      // Synchronous work that keeps the event loop from turning.
    }
    const late = await waitFor('the watch to see the delay', () => (watch.delayMs > 200 ? watch.delayMs : 0));
    assert.equal(livenessAnswer(late, 100).status, 503);
    await waitFor('the loop to run on time again', () => watch.delayMs < 100);
    assert.equal(livenessAnswer(watch.delayMs, 100).status, 200);
  } finally {
    watch.stop();
  }
});

test('the health and metrics ports close on stop, and stop is safe before start and twice', async () => {
  const dir = makeDataDir();
  try {
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const conductor = await openPipeline({
      dataDir: dir.root,
      plugins: { health: { port: healthPort, host: '127.0.0.1' }, prometheus: { port: metricsPort, host: '127.0.0.1' } },
    });
    const signal = new AbortController().signal;
    for (const entry of conductor.plugins) await entry.instance.stop?.(signal);
    await conductor.start();
    assert.equal((await get(`http://127.0.0.1:${healthPort}/healthz`)).status, 200);
    assert.equal((await get(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200);
    await conductor.stop();
    for (const entry of conductor.plugins) await entry.instance.stop?.(signal);
    await assert.rejects(get(`http://127.0.0.1:${healthPort}/healthz`));
    await assert.rejects(get(`http://127.0.0.1:${metricsPort}/metrics`));
  } finally {
    dir.cleanup();
  }
});
