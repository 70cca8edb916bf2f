// Paces submissions: a token bucket of `burst` tokens refilled at `requestsPerMinute`, from
// rate-limiter-flexible (a window of `burst` points per burst/rate seconds, behind its FIFO
// queue so waiters are served in arrival order). With `redisUrl`, the bucket lives in Redis and
// is shared by every replica. Intents wait here; they are never dropped.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type * as Flexible from 'rate-limiter-flexible';
import { ConductorError, definePlugin, untilAborted } from '../../core/index.ts';

// The limiters we use, each from its own file: the package's index loads all of its 24 stores
// (36 modules, a tenth of the start time) for the two or three needed here.
const require = createRequire(import.meta.url);
const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof Flexible.RateLimiterMemory;
const RateLimiterQueue = require('rate-limiter-flexible/lib/RateLimiterQueue.js') as typeof Flexible.RateLimiterQueue;
type RateLimiterQueue = Flexible.RateLimiterQueue;
type RateLimiterAbstract = Flexible.RateLimiterAbstract;

interface Options {
  requestsPerMinute: number;
  burst: number;
  /** A Redis URL to share one bucket between replicas. */
  redisUrl?: string;
  keyPrefix: string;
}

/**
 * The fixed window that paces like the bucket: `burst` points per burst/rate seconds. Windows
 * are whole seconds (at least one), because the Redis store expires keys in whole seconds — a
 * shorter one would round to "never expires" and the shared bucket would never refill. When the
 * rate is so high that one second holds more than `burst`, the window holds that second's worth.
 */
export function windowOf(requestsPerMinute: number, burst: number): { points: number; duration: number } {
  const perSecond = requestsPerMinute / 60;
  const duration = Math.max(1, Math.round(burst / perSecond));
  return { points: Math.max(burst, Math.round(perSecond * duration)), duration };
}

export default definePlugin<Options>({
  name: 'rate-limit',
  kind: 'rate-limit',
  description: 'Token-bucket pacing of submissions (requests per minute, with a burst), optionally shared through Redis.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      requestsPerMinute: { type: 'number', exclusiveMinimum: 0 },
      burst: { type: 'integer', minimum: 1 },
      redisUrl: { type: 'string', pattern: '^rediss?://' },
      keyPrefix: { type: 'string', minLength: 1 },
    },
    required: ['requestsPerMinute', 'burst', 'keyPrefix'],
  },
  defaults: { requestsPerMinute: 60, burst: 10, keyPrefix: 'conductor:rate' },
  create(context, options) {
    const window = windowOf(options.requestsPerMinute, options.burst);
    let redis: Redis | undefined;
    let queue: RateLimiterQueue | undefined;
    const build = (limiter: RateLimiterAbstract) => new RateLimiterQueue(limiter, { maxQueueSize: Number.MAX_SAFE_INTEGER });
    if (options.redisUrl === undefined) queue = build(new RateLimiterMemory(window));
    return {
      async start() {
        if (options.redisUrl === undefined) return;
        // Loaded only when a shared bucket is configured: ioredis is 45 modules and ~8 MB of RSS.
        const { Redis } = await import('ioredis');
        redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
        redis.on('error', () => undefined);
        await redis.connect();
        const RateLimiterRedis = require('rate-limiter-flexible/lib/RateLimiterRedis.js') as typeof Flexible.RateLimiterRedis;
        queue = build(new RateLimiterRedis({ storeClient: redis, keyPrefix: options.keyPrefix, ...window }));
      },
      async stop() {
        await redis?.quit().catch(() => redis?.disconnect());
        redis = undefined;
      },
      status: () => (options.redisUrl === undefined || redis?.status === 'ready' ? { ready: true } : { ready: false, message: `redis ${redis?.status ?? 'not started'}` }),
      apply(hooks) {
        hooks.rateLimit.tapPromise(context.id, async (_intent, ctx) => {
          if (queue === undefined) throw new ConductorError('CND_ERR_INTERNAL', 'the rate limiter is not started', { plugin: context.id });
          try {
            await untilAborted(queue.removeTokens(1), ctx.signal, 'waiting for the rate limit');
          } catch (error) {
            if (error instanceof ConductorError) throw error;
            // The shared bucket is unreachable: the intent waits for later rather than failing.
            throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `rate limiter unavailable: ${(error as Error).message}`, { plugin: context.id, cause: error });
          }
        });
      },
    };
  },
});
