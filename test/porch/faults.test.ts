// Issue 3, acceptance 1: against a Porch that fails a fifth of all requests with a 5xx, answers
// a tenth with 429 + Retry-After, and applies a tenth of the writes but loses the reply, 500
// intents each end as exactly one Published PackageRevision in their own workspace, with the
// right replicas, and nothing lands in failed/. The real CLI runs it (`conductor once`), so the
// simulator and Conductor each have a core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.ts';
import { writeJsonConfig } from '../support/data-dir.ts';
import {
  NOISY_PORCH,
  assertDeliveredExactlyOnce,
  dropScalingIntents,
  failedReasons,
  filesIn,
  porchConfig,
  startSim,
  dataDirectory,
} from './support/harness.ts';

test('500 intents through 20% 5xx, 10% 429 and 10% lost replies: each exactly one Published revision, none failed', async (t) => {
  const sim = await startSim({ faults: NOISY_PORCH, seed: 3 });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const dropped = dropScalingIntents(dir.handoff, 500);

  // Many intents in flight, so that the 1 s Retry-After waits overlap instead of adding up.
  const config = writeJsonConfig(
    dir.root,
    porchConfig(dir.root, { server: sim.url, approve: true, concurrency: 32 }, { concurrency: 100 }),
  );
  const started = performance.now();
  const run = await runCli(['once', '--config', config]);
  assert.equal(run.code, 0, `once exits 0: ${run.stderr}${run.stdout.slice(-2_000)}`);
  t.diagnostic(
    `500 intents in ${Math.round(performance.now() - started)} ms; faults injected: ${JSON.stringify(sim.faults.counts())}; requests: ${sim.requests().length}`,
  );

  assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
  assert.equal(filesIn(dir.root, 'failed').length, 0);
  assert.equal(filesIn(dir.root, 'handoff').length, 0, 'nothing left waiting');
  assert.equal(filesIn(dir.root, 'processed').length, 500);
  const counts = sim.faults.counts();
  assert.ok(counts['server-error'] > 0 && counts['rate-limit'] > 0 && counts['apply-then-fail'] > 0, 'every kind of fault was injected');
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
  // Lost replies were resumed by reading, not by repeating: four writes per intent, no more.
  assert.equal(sim.writeCount(), 500 * 4, 'create, write resources, propose, approve — once each');
});
