// Issue 13, defect 10: under moderate faults the default retry settings must serve. 101 intents
// against a Porch that answers 20 % of requests with a 5xx, 10 % with 429 + Retry-After, and
// applies 10 % of the writes but loses the answer: `conductor once` with the default retry
// policy delivers every intent exactly once and exits 0. A server that stays down still ends
// `once` with exit 3, in bounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.ts';
import { writeJsonConfig } from '../support/data-dir.ts';
import { NOISY_PORCH, assertDeliveredExactlyOnce, dataDirectory, dropScalingIntents, failedReasons, filesIn, startSim } from './support/harness.ts';

/** The porch pipeline with every core setting at its default (retry, concurrency, requeue). */
function defaultPorchConfig(dataDir: string, sink: Record<string, unknown>): Record<string, unknown> {
  return {
    dataDir,
    logLevel: 'warn',
    plugins: { 'fs-source': {}, 'schema-validate': {}, 'porch-sink': sink },
  };
}

test('101 intents through 20% 5xx, 10% 429 and 10% lost replies with the default config: all delivered once, exit 0', { timeout: 300_000 }, async (t) => {
  const sim = await startSim({ faults: NOISY_PORCH, seed: 13 });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const dropped = dropScalingIntents(dir.handoff, 101);
  const config = writeJsonConfig(dir.root, defaultPorchConfig(dir.root, { server: sim.url, approve: true }));
  const started = performance.now();
  const run = await runCli(['once', '--config', config]);
  t.diagnostic(`once exit ${run.code} after ${Math.round(performance.now() - started)} ms; faults: ${JSON.stringify(sim.faults.counts())}`);
  assert.equal(run.code, 0, `once exits 0; left in handoff: ${filesIn(dir.root, 'handoff').length}; ${run.stderr}${run.stdout.slice(-2_000)}`);
  assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
  assert.equal(filesIn(dir.root, 'handoff').length, 0, 'nothing left waiting');
  assert.equal(filesIn(dir.root, 'processed').length, 101);
  const counts = sim.faults.counts();
  assert.ok(counts['server-error'] > 0 && counts['rate-limit'] > 0 && counts['apply-then-fail'] > 0, 'every kind of fault was injected');
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
});

test('a Porch that stays down: once gives up with exit 3 in bounded time, the intents stay in handoff/', { timeout: 300_000 }, async (t) => {
  const sim = await startSim({ seed: 14 });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  sim.faults.set({ error5xxRate: 1, error5xxStatus: 503 });
  dropScalingIntents(dir.handoff, 5);
  const config = writeJsonConfig(dir.root, defaultPorchConfig(dir.root, { server: sim.url, approve: true }));
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 3, `once exits 3: ${run.stderr}${run.stdout.slice(-2_000)}`);
  assert.equal(filesIn(dir.root, 'handoff').length, 5, 'every intent still waits');
  assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
});
