// Issue 3, acceptance 3: the real CLI is killed with SIGKILL ten times while it submits 500
// intents to the noisy Porch of acceptance 1, each time after a random number of further
// writes reached the server (synchronised on the simulator's state, not on time); a final
// `conductor once` then finishes. Acceptance 1 must still hold: one Published revision per
// intent, created once, right replicas, nothing failed, and no write applied twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runCli, startCli } from '../support/cli.ts';
import { writeJsonConfig } from '../support/data-dir.ts';
import { waitFor } from '../support/wait.ts';
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

const INTENTS = 500;
const KILLS = 10;
const SEED = Number(process.env['PORCH_KILL_SEED'] ?? Date.now() % 100_000);

test(`kill -9 ten times during 500 submissions, then a restart: still exactly once (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  const sim = await startSim({ faults: NOISY_PORCH, seed: SEED });
  const dir = dataDirectory();
  t.after(async () => {
    await sim.close();
    dir.cleanup();
  });
  const dropped = dropScalingIntents(dir.handoff, INTENTS);
  const config = writeJsonConfig(
    dir.root,
    porchConfig(dir.root, { server: sim.url, approve: true, concurrency: 32 }, { concurrency: 100, logLevel: 'info' }),
  );
  // 4 writes per intent; the kills spread over roughly the first two thirds of them.
  const steps = fc.sample(fc.integer({ min: 1, max: Math.floor((INTENTS * 4 * 2) / 3 / KILLS) }), { numRuns: KILLS, seed: SEED });
  let kills = 0;
  for (const step of steps) {
    const running = startCli(['run', '--config', config]);
    // Count from the moment this process is up, so that late writes of the previous one (still
    // in the server when it died) do not decide when this one is killed.
    await waitFor(
      'the CLI to start',
      () => running.output().stdout.includes('"msg":"conductor started"') || running.child.exitCode !== null,
      60_000,
      2,
    );
    const target = sim.writeCount() + step;
    await waitFor(`${target} writes at the simulator`, () => sim.writeCount() >= target || running.child.exitCode !== null, 120_000, 2);
    if (running.child.kill('SIGKILL')) kills += 1;
    const exited = await running.exited;
    assert.equal(
      exited.signal,
      'SIGKILL',
      `run was killed, not ended on its own (code ${exited.code}): ${exited.stderr}${exited.stdout.slice(-2_000)}`,
    );
  }
  assert.equal(kills, KILLS);
  const writesBeforeRestart = sim.writeCount();
  t.diagnostic(`${kills} kills after ${steps.join(', ')} writes; ${writesBeforeRestart} writes before the final run`);

  const finalStarted = performance.now();
  const final = await runCli(['once', '--config', config]);
  t.diagnostic(`final once: ${Math.round(performance.now() - finalStarted)} ms`);
  assert.equal(final.code, 0, `once exits 0: ${final.stderr}${final.stdout.slice(-2_000)}`);
  assert.deepEqual(failedReasons(dir.root), [], 'nothing failed');
  assert.equal(filesIn(dir.root, 'handoff').length, 0);
  // A kill between linking into processed/ and unlinking from handoff/ leaves a second copy
  // (`<stem>.1.json`) for the restart to settle: count intents, not copies.
  const processed = new Set(filesIn(dir.root, 'processed').map((name) => name.replace(/(\.\d+)?\.json$/, '')));
  assert.equal(processed.size, INTENTS);
  assertDeliveredExactlyOnce(sim, dropped, 'Published');
  assert.equal(sim.writeCount(), INTENTS * 4, 'no write was applied twice, across ten crashes');
});
