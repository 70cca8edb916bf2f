// The rate limiter's shape, measured (issue: "test the shape, not only the total"): 25 intents
// waiting at once behind 60/min with a burst of 10, through a real pipeline, once in one process
// and once split over two pipelines sharing the bucket through Redis (127.0.0.1:6379). Prints,
// for each, how many passed in the first second, the most that passed in any 2 s after it, and
// how many were through after 16 s; exits 1 when a figure misses its bound.
//   node bench/rate-limit-shape.ts [--json]
import { definePlugin } from '../core/index.ts';
import { buildPipeline, sampleIntent } from '../core/testkit/index.ts';

const RATE = { requestsPerMinute: 60, burst: 10 };
const COUNT = 25;

function recordingSink(passes: number[]) {
  return definePlugin({
    name: 'recording-sink',
    kind: 'submit',
    description: 'accepts everything and notes when',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create: (ctx) => ({
      apply: (h) =>
        h.submit.tapPromise(ctx.id, async () => {
          passes.push(performance.now());
          return { sink: ctx.id };
        }),
    }),
  });
}

async function measure(replicas: 1 | 2): Promise<Record<string, number | boolean>> {
  const passes: number[] = [];
  const limiter =
    replicas === 1 ? RATE : { ...RATE, redisUrl: 'redis://127.0.0.1:6379', keyPrefix: `conductor-bench-rate-${process.pid}-${Date.now()}` };
  const pipelines = await Promise.all(
    Array.from({ length: replicas }, () =>
      buildPipeline({
        plugins: { 'rate-limit': limiter, 'recording-sink': {} },
        modules: { 'recording-sink': recordingSink(passes) },
        mode: 'once',
      }),
    ),
  );
  const start = performance.now();
  await Promise.all(
    Array.from({ length: COUNT }, (_, i) => pipelines[i % replicas]!.feed(`intent-${i}.json`, sampleIntent({ target: `app-${i}` }))),
  );
  await Promise.all(pipelines.map((p) => p.close()));
  const at = passes.map((t) => (t - start) / 1000).sort((a, b) => a - b);
  const firstSecond = at.filter((t) => t < 1).length;
  let mostIn2s = 0;
  for (const from of at.filter((t) => t >= 1)) mostIn2s = Math.max(mostIn2s, at.filter((t) => t >= from && t < from + 2).length);
  const within16s = at.filter((t) => t <= 16).length;
  return { replicas, firstSecond, mostIn2sAfter: mostIn2s, within16s, met: firstSecond <= 11 && mostIn2s <= 3 && within16s >= 18 };
}

const results = [await measure(1), await measure(2)];
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
else {
  console.log('replicas | first second (<= 11) | most in any 2 s after it (<= 3) | through in 16 s (>= 18) | met');
  for (const r of results)
    console.log(`${r['replicas']} | ${r['firstSecond']} | ${r['mostIn2sAfter']} | ${r['within16s']} | ${r['met'] ? 'yes' : 'no'}`);
}
process.exitCode = results.every((r) => r['met']) ? 0 : 1;
