// The retry helper and the circuit breaker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CircuitBreaker, ConductorError, backoffDelay, parseRetryAfter, withRetry, type RetryPolicy } from '../../core/index.ts';

const policy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 4, budgetMs: 1_000 };

test('full-jitter backoff stays within [0, min(max, initial·2^(n-1))] (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
      const p = { maxAttempts: 0, initialDelayMs: 100, maxDelayMs: 10_000, budgetMs: 60_000 };
      const delay = backoffDelay(attempt, p, () => r);
      assert.ok(delay >= 0 && delay <= Math.min(10_000, 100 * 2 ** (attempt - 1)));
    }),
  );
});

test('Retry-After in seconds or as a date', () => {
  assert.equal(parseRetryAfter('3'), 3_000);
  assert.equal(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000), 5_000);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('withRetry retries transient errors, stops at permanent ones, and reports exhaustion', async () => {
  let calls = 0;
  const value = await withRetry(async () => {
    calls += 1;
    if (calls < 3) throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'flaky');
    return 'ok';
  }, policy);
  assert.deepEqual([value, calls], ['ok', 3]);

  let permanentCalls = 0;
  await assert.rejects(
    withRetry(async () => {
      permanentCalls += 1;
      throw new ConductorError('CND_ERR_SUBMIT_PERMANENT', 'no');
    }, policy),
    (e: ConductorError) => e.code === 'CND_ERR_SUBMIT_PERMANENT',
  );
  assert.equal(permanentCalls, 1);

  await assert.rejects(
    withRetry(async () => {
      throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'down');
    }, policy),
    (e: ConductorError) => e.code === 'CND_ERR_RETRY_EXHAUSTED' && /5 attempt/.test(e.message),
  );
});

test('a throttle waits as long as the server asked', async () => {
  const delays: number[] = [];
  let calls = 0;
  await withRetry(
    async () => {
      calls += 1;
      if (calls === 1) throw new ConductorError('CND_ERR_SUBMIT_THROTTLED', 'slow down', { retryAfterMs: 30 });
      return 'ok';
    },
    policy,
    { onRetry: (_e, _a, delay) => delays.push(delay) },
  );
  assert.deepEqual(delays, [30]);
});

test('the circuit opens after consecutive failures, fails fast, then half-opens for one probe', async () => {
  let now = 0;
  const states: string[] = [];
  const breaker = new CircuitBreaker({
    name: 'sink',
    failureThreshold: 2,
    resetMs: 100,
    now: () => now,
    onStateChange: (s) => states.push(s),
  });
  const fail = () =>
    breaker.run(
      async () => Promise.reject(new Error('down')),
      () => true,
    );
  await assert.rejects(fail, /down/);
  await assert.rejects(fail, /down/);
  assert.equal(breaker.state, 'open');
  await assert.rejects(fail, (e: ConductorError) => e.code === 'CND_ERR_CIRCUIT_OPEN' && e.retryAfterMs === 100);
  now = 150;
  assert.equal(breaker.state, 'half-open');
  assert.equal(
    await breaker.run(
      async () => 'up',
      () => true,
    ),
    'up',
  );
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(states, ['open', 'half-open', 'closed']);
});
