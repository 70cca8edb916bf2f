// The rate-limit plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requestsPerMinute: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description: 'The sustained rate: intents let through per minute once the burst is spent.',
    },
    burst: {
      type: 'integer',
      minimum: 1,
      default: 10,
      description: 'At most this many intents pass at once before the pacing starts.',
    },
    redisUrl: {
      type: 'string',
      pattern: '^rediss?://',
      description: "A Redis URL to share one bucket between replicas. Unset: the bucket is this process's own.",
    },
    keyPrefix: {
      type: 'string',
      minLength: 1,
      default: 'conductor:rate',
      description: "The prefix of the shared bucket's Redis key.",
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    {
      name: 'rate-limit wait',
      via: 'hook',
      when: 'the time an intent waited here, as the `conductor_stage_duration_seconds{stage="rate-limit"}` metric',
    },
    {
      name: 'rate limiter unavailable',
      via: 'log',
      when: 'the shared bucket cannot be reached: the intent is deferred (`CND_ERR_SUBMIT_TRANSIENT`), never dropped',
    },
  ],
  example: { 'rate-limit': { requestsPerMinute: 600, burst: 50 } },
};
