// The model of the delivery protocol (model/delivery.pml) is checked exhaustively in the suite:
// the protocol as built has no violation over at least 10,000 states, and the two variants the
// issues describe — sinks matching an effect by intent id alone, and no order rule — are found
// out. spin and gcc are required (.ci/run installs them): without them this test fails, saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The acceptance floor of issue 13 (the checker enforces it too). */
const MIN_STATES_FOR_TESTS = 10_000;
const CHECK = fileURLToPath(new URL('../../model/check.ts', import.meta.url));

function modelCheck(...args: string[]): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const out = `${run.stdout}${run.stderr}`;
  assert.notEqual(run.status, 2, `model-check could not run (spin and gcc are needed: apt-get install -y spin gcc):\n${out}`);
  return { code: run.status, out };
}

test('model check: the delivery protocol holds exactly once, newest wins and status agreement in every state', { timeout: 300_000 }, () => {
  const { code, out } = modelCheck();
  assert.equal(code, 0, out);
  const states = Number(/(\d+) states stored/.exec(out)?.[1]);
  assert.ok(states >= MIN_STATES_FOR_TESTS, `at least ${MIN_STATES_FOR_TESTS} states explored, not ${states}:\n${out}`);
  assert.match(out, /0 error\(s\)/);
});

test(
  'model check without the content hash finds issue 13 defect 1: a reused correlation_id reported succeeded, its content never applied',
  { timeout: 120_000 },
  () => {
    const { code, out } = modelCheck('--without-content-hash');
    assert.equal(code, 1, out);
    assert.match(out, /counterexample: checking EXACTLY_ONCE for f1 \(status succeeded\)/, out);
  },
);

test('model check without the order rule finds issue 18 defect 4: an older intent wins the target', { timeout: 120_000 }, () => {
  const { code, out } = modelCheck('--without-order-rule');
  assert.equal(code, 1, out);
  assert.match(out, /counterexample: checking NEWEST_WINS/, out);
});
