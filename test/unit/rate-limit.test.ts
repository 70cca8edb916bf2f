// The rate limiter's bucket refills — in memory and shared through Redis (a window shorter than
// a second would make Redis keep the bucket forever, and pacing would stop for good).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { definePlugin } from '../../core/index.ts';
import { windowOf } from '../../plugins/rate-limit/index.ts';
import { testPipeline } from '../support/pipeline.ts';
import { scaling } from '../support/data-dir.ts';

const nullSink = definePlugin({
  name: 'null-sink',
  kind: 'submit',
  description: 'accepts everything',
  optionsSchema: { type: 'object', additionalProperties: false },
  defaults: {},
  create: (ctx) => ({ apply: (h) => h.submit.tapPromise(ctx.id, async () => ({ sink: ctx.id })) }),
});

test('windows are whole seconds that pace at the configured rate', () => {
  for (const [rpm, burst] of [[60, 10], [600, 50], [600_000, 1_000], [1, 1], [90, 3]] as const) {
    const { points, duration } = windowOf(rpm, burst);
    assert.ok(Number.isInteger(duration) && duration >= 1, `${rpm}/min: ${duration} s`);
    assert.ok(points >= burst, 'a window holds at least the burst');
    assert.ok(Math.abs(points / duration - rpm / 60) <= rpm / 60 / 2 + 1 / duration, `${rpm}/min: ${points} per ${duration} s`);
  }
});

test('a bucket shared through Redis refills: more intents than one window holds all pass', { timeout: 20_000 }, async (t) => {
  const keyPrefix = `conductor-test-rate-${process.pid}-${Date.now()}`;
  const p = await testPipeline({ 'rate-limit': { requestsPerMinute: 600, burst: 5, redisUrl: 'redis://127.0.0.1:6379', keyPrefix }, 'null-sink': {} }, { 'null-sink': nullSink });
  const redis = new Redis('redis://127.0.0.1:6379');
  t.after(async () => {
    await p.close();
    await redis.quit();
  });
  const { points } = windowOf(600, 5);
  const outcomes = await Promise.all(Array.from({ length: points + 3 }, (_, i) => p.feed(`intent-${i}.json`, scaling(`app-${i}`, 1))));
  assert.deepEqual(new Set(outcomes.map((o) => o.outcome?.status)), new Set(['succeeded']));
  const keys = await redis.keys(`${keyPrefix}*`);
  assert.ok(keys.length > 0);
  for (const key of keys) assert.ok((await redis.pttl(key)) > 0, `${key} expires`);
});
