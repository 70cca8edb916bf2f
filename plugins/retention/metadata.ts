// The retention plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';
import { DURATION_PATTERN } from './duration.ts';

const DURATION = { type: 'string', pattern: DURATION_PATTERN } as const;

/** An area's own age; `maxAge` when unset. */
const areaAge = (area: string) =>
  ({ ...DURATION, description: `The age for ${area}; \`off\` keeps it whole. Unset: \`maxAge\`.` }) as const;

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxAge: {
      ...DURATION,
      default: '168h',
      description:
        "The age for every area that names none of its own (the guide's `cleanup_after`), like `168h`, `30m`, `7d`, " +
        '`1h30m`; `off` keeps everything.',
    },
    processedMaxAge: areaAge('processed/'),
    statusMaxAge: areaAge('status/'),
    failedMaxAge: areaAge('failed/ (an original and its `.error.json` go together)'),
    ledgerMaxAge: areaAge('settled ledger records'),
    intervalMs: {
      type: 'integer',
      minimum: 10,
      maximum: 86_400_000,
      default: 600_000,
      description: 'Time between the end of one sweep and the start of the next (the first runs at start).',
    },
    batchSize: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      default: 500,
      description: 'Directory entries handled between two yields to the event loop.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'alpha',
  events: [
    {
      name: 'retention',
      via: 'hook',
      when: 'a sweep removed entries: per area, the count and the age (the audit log records it; the metrics count it)',
    },
    {
      name: 'retention removed N entries older than their age',
      via: 'log',
      when: 'after a sweep that removed something (info, `event: "retention"`)',
    },
    { name: 'retention sweep failed', via: 'log', when: 'a sweep failed; the next one runs on time (warn)' },
  ],
  example: { retention: { maxAge: '168h', failedMaxAge: '30d' } },
  notes: 'handoff/ is never touched: what waits there is work, not history. Only settled intents are forgotten by the ' + 'ledger.',
};
