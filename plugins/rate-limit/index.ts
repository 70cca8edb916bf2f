// Paces submissions: a token bucket of `burst` tokens refilled at `requestsPerMinute`, from
// rate-limiter-flexible (a fixed window of `burst` points per burst/rate seconds, behind its
// FIFO queue so waiters are served in arrival order). Intents wait here; they are never dropped.
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import { definePlugin, untilAborted } from '../../core/index.ts';

interface Options {
  requestsPerMinute: number;
  burst: number;
}

export default definePlugin<Options>({
  name: 'rate-limit',
  kind: 'rate-limit',
  description: 'Token-bucket pacing of submissions (requests per minute, with a burst).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      requestsPerMinute: { type: 'number', exclusiveMinimum: 0 },
      burst: { type: 'integer', minimum: 1 },
    },
    required: ['requestsPerMinute', 'burst'],
  },
  defaults: { requestsPerMinute: 60, burst: 10 },
  create(context, options) {
    const limiter = new RateLimiterMemory({ points: options.burst, duration: (options.burst * 60) / options.requestsPerMinute });
    const queue = new RateLimiterQueue(limiter, { maxQueueSize: Number.MAX_SAFE_INTEGER });
    return {
      apply(hooks) {
        hooks.rateLimit.tapPromise(context.id, async (_intent, ctx) => {
          await untilAborted(queue.removeTokens(1), ctx.signal, 'waiting for the rate limit');
        });
      },
    };
  },
});
