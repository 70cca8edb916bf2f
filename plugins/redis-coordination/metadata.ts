// The redis-coordination plugin's options schema — each option's description and default, the
// one place an option is written (its type and the README derive from it) — and what its README
// says beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: {
      type: 'string',
      pattern: '^rediss?://',
      default: 'redis://127.0.0.1:6379',
      description: 'The Redis server the claims are kept in.',
    },
    keyPrefix: {
      type: 'string',
      minLength: 1,
      default: 'conductor',
      description: 'The prefix of the claim keys (`<keyPrefix>:claim:<file>`).',
    },
    leaseMs: {
      type: 'integer',
      minimum: 100,
      default: 15_000,
      description: 'How long a claim lasts unless renewed (renewed every third of it while the intent is in flight).',
    },
    replicaId: {
      type: 'string',
      minLength: 1,
      description: 'Identifies this replica in the claims it holds. Unset: the host name and the process id.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'alpha',
  events: [
    {
      name: 'claim',
      via: 'hook',
      when: 'a file is claimed (SET NX PX) before it is read, renewed while in flight and given back when it settles',
    },
    {
      name: 'lost the claim on a file in flight',
      via: 'log',
      when: 'a renewal found the claim gone; the sink keeps the intent from being applied twice (warn)',
    },
  ],
  example: { 'redis-coordination': { url: 'redis://redis:6379', leaseMs: 15_000 } },
  notes: 'Leases only spread the work between replicas: correctness still rests on the idempotent sinks.',
};
