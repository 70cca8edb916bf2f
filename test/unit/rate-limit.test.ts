// The rate limiter is a token bucket, exactly: the reservation arithmetic equals a bucket of
// `burst` tokens refilled continuously (property test against a plain simulation), and the
// running plugin — in memory and shared through Redis by two pipelines — never lets an intent
// pass before the bucket allows. Timing is only bounded from below here (a busy machine can
// delay an intent, never speed it up); the rates themselves are measured by bench/rate-limit-shape.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { cadenceOf, reserve } from '../../plugins/rate-limit/gcra.ts';
import { testPipeline } from '../support/pipeline.ts';
import { scaling } from '../support/data-dir.ts';
import { recordingSink } from '../observability/support/test-plugins.ts';

/** A plain token bucket served in arrival order: when does each request pass? */
function bucketReleases(arrivals: readonly number[], requestsPerMinute: number, burst: number): number[] {
  const interval = 60_000 / requestsPerMinute;
  let tokens = burst;
  let last = -Infinity;
  const releases: number[] = [];
  for (const arrival of arrivals) {
    const at = Math.max(arrival, releases.at(-1) ?? arrival);
    tokens = last === -Infinity ? burst : Math.min(burst, tokens + (at - last) / interval);
    last = at;
    if (tokens >= 1 - 1e-9) {
      tokens -= 1;
      releases.push(at);
    } else {
      const release = at + (1 - tokens) * interval;
      tokens = 0;
      last = release;
      releases.push(release);
    }
  }
  return releases;
}

function gcraReleases(arrivals: readonly number[], requestsPerMinute: number, burst: number): number[] {
  const cadence = cadenceOf(requestsPerMinute, burst);
  let tat: number | undefined;
  return arrivals.map((arrival) => {
    const next = reserve(tat, arrival, cadence);
    tat = next.tat;
    return arrival + next.waitMs;
  });
}

test('the reservation is a token bucket: every release equals the bucket simulation', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100_000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 200 }),
      (requestsPerMinute, burst, gaps) => {
        let t = 1_000_000;
        const arrivals = gaps.map((gap) => (t += gap));
        const expected = bucketReleases(arrivals, requestsPerMinute, burst);
        const actual = gcraReleases(arrivals, requestsPerMinute, burst);
        actual.forEach((release, i) => assert.ok(Math.abs(release - expected[i]!) < 1e-6, `request ${i}: ${release} vs ${expected[i]}`));
      },
    ),
    { numRuns: 500 },
  );
});

test('60/min burst 10: ten at once, then one a second — not ten every ten seconds', () => {
  const releases = gcraReleases(
    Array.from({ length: 25 }, () => 0),
    60,
    10,
  );
  assert.deepEqual(releases, [...Array.from({ length: 10 }, () => 0), ...Array.from({ length: 15 }, (_, i) => (i + 1) * 1000)]);
});

test('a full bucket after a pause passes `burst`, not everything that waited', () => {
  // One intent at 0, nineteen at 9.3 s: the bucket is full again (10), so 10 pass at 9.3 s and
  // the other 9 follow a second apart (the fixed window let all 19 through within 0.73 s).
  const releases = gcraReleases([0, ...Array.from({ length: 19 }, () => 9_300)], 60, 10);
  assert.equal(releases.filter((r) => r === 9_300).length, 10);
  assert.equal(releases.at(-1), 9_300 + 9_000);
});

test('rates are not rounded: 45/min burst 1 is one every 1333 ms, 6000/min burst 10 holds a burst of 10', () => {
  const slow = gcraReleases([0, 0, 0], 45, 1);
  assert.deepEqual(
    slow.map((r) => Math.round(r)),
    [0, 1333, 2667],
  );
  const fast = gcraReleases(
    Array.from({ length: 11 }, () => 0),
    6000,
    10,
  );
  assert.equal(fast.filter((r) => r === 0).length, 10);
  assert.equal(fast.at(-1), 10);
});

/**
 * No intent passed before the bucket allowed it: the k-th pass (from 0) comes at least
 * (k - burst + 1) intervals after the first request. A loaded machine only delays passes.
 */
function assertNeverEarly(passes: number[], firstRequest: number, requestsPerMinute: number, burst: number): void {
  const interval = 60_000 / requestsPerMinute;
  const sorted = [...passes].sort((a, b) => a - b);
  sorted.forEach((at, k) => {
    const earliest = firstRequest + Math.max(0, k - burst + 1) * interval;
    // 5 ms for the clocks (Date.now in the bucket, Redis TIME, performance.now here).
    assert.ok(at >= earliest - 5, `pass ${k} came ${(earliest - at).toFixed(1)} ms before the bucket allowed it`);
  });
}

test('in a running pipeline, 25 waiting intents pass no faster than the bucket', { timeout: 60_000 }, async (t) => {
  const sink = recordingSink();
  const p = await testPipeline(
    { 'rate-limit': { requestsPerMinute: 1200, burst: 10 }, 'recording-sink': {} },
    { 'recording-sink': sink.definition },
  );
  t.after(() => p.close());
  const first = performance.now();
  const outcomes = await Promise.all(Array.from({ length: 25 }, (_, i) => p.feed(`intent-${i}.json`, scaling(`app-${i}`, 1))));
  assert.deepEqual(new Set(outcomes.map((o) => o.outcome?.status)), new Set(['succeeded']));
  assert.equal(sink.seen.length, 25);
  assertNeverEarly(
    sink.seen.map((s) => s.at),
    first,
    1200,
    10,
  );
});

test('two pipelines sharing the bucket through Redis pass, together, no faster than one bucket', { timeout: 60_000 }, async (t) => {
  const keyPrefix = `conductor-test-rate-${process.pid}-${Date.now()}`;
  const options = {
    'rate-limit': { requestsPerMinute: 1200, burst: 10, redisUrl: 'redis://127.0.0.1:6379', keyPrefix },
    'recording-sink': {},
  };
  const sinks = [recordingSink(), recordingSink()];
  const pipelines = await Promise.all(sinks.map((sink) => testPipeline(options, { 'recording-sink': sink.definition })));
  const redis = new Redis('redis://127.0.0.1:6379');
  t.after(async () => {
    await Promise.all(pipelines.map((p) => p.close()));
    await redis.quit();
  });
  const first = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: 26 }, (_, i) => pipelines[i % 2]!.feed(`intent-${i}.json`, scaling(`app-${i}`, 1))),
  );
  assert.deepEqual(new Set(outcomes.map((o) => o.outcome?.status)), new Set(['succeeded']));
  assertNeverEarly(
    sinks.flatMap((sink) => sink.seen.map((s) => s.at)),
    first,
    1200,
    10,
  );
  // The bucket expires once it is full again, so an idle shared bucket leaves nothing behind.
  const keys = await redis.keys(`${keyPrefix}*`);
  assert.equal(keys.length, 1);
  assert.ok((await redis.pttl(keys[0]!)) > 0, 'the shared bucket expires');
});
