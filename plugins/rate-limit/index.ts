// Paces submissions: a token bucket of `burst` tokens refilled at `requestsPerMinute`, kept as
// GCRA (gcra.ts): at most `burst` intents pass at once, then one per interval, waiters in the
// order they came. With `redisUrl`, the bucket lives in Redis and every replica reserves from it
// atomically (one Lua script on the server's clock). Intents wait here; they are never dropped.
//
// Not rate-limiter-flexible, which the first version used: its limiters are fixed windows (the
// "bursty" one two of them), so 60/min with a burst of 10 let 10 through every 10 s and rounding
// changed the rate; an exact bucket is the one-number algorithm below.
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ConductorError, definePlugin, untilAborted } from '../../core/index.ts';
import { cadenceOf, reserve, RESERVE_SCRIPT } from './gcra.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

/** Takes a place in the bucket and says how long to wait for it (ms). */
type Reserve = () => Promise<number>;

export default definePlugin({
  name: 'rate-limit',
  kind: 'rate-limit',
  description: 'Token-bucket pacing of submissions (requests per minute, with a burst), optionally shared through Redis.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const cadence = cadenceOf(options.requestsPerMinute, options.burst);
    const key = `${options.keyPrefix}:bucket`;
    let redis: Redis | undefined;
    let tat: number | undefined;
    // In memory: one process, one clock.
    let take: Reserve | undefined =
      options.redisUrl === undefined
        ? async () => {
            const next = reserve(tat, Date.now(), cadence);
            tat = next.tat;
            return next.waitMs;
          }
        : undefined;
    return {
      async start() {
        if (options.redisUrl === undefined) return;
        // Loaded only when a shared bucket is configured: ioredis is 45 modules and ~8 MB of RSS.
        const { Redis } = await import('ioredis');
        const client = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
        client.on('error', () => undefined);
        await client.connect();
        redis = client;
        const args = [String(cadence.interval), String(cadence.tolerance)];
        take = async () => Number(await client.eval(RESERVE_SCRIPT, 1, key, ...args));
      },
      async stop() {
        await redis?.quit().catch(() => redis?.disconnect());
        redis = undefined;
      },
      status: () =>
        options.redisUrl === undefined || redis?.status === 'ready'
          ? { ready: true }
          : { ready: false, message: `redis ${redis?.status ?? 'not started'}` },
      apply(hooks) {
        hooks.rateLimit.tapPromise(context.id, async (_intent, ctx) => {
          if (take === undefined) throw new ConductorError('CND_ERR_INTERNAL', 'the rate limiter is not started', { plugin: context.id });
          let waitMs: number;
          try {
            waitMs = await take();
          } catch (error) {
            // The shared bucket is unreachable: the intent waits for later rather than failing.
            throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `rate limiter unavailable: ${(error as Error).message}`, {
              plugin: context.id,
              intentId: ctx.intentId,
              cause: error,
            });
          }
          // A place given up on shutdown stays spent: the next waiter keeps its own, later place.
          if (waitMs > 0) await untilAborted(delay(waitMs, undefined, { signal: ctx.signal }), ctx.signal, 'waiting for the rate limit');
        });
      },
    };
  },
});
