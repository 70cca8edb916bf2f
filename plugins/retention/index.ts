// Retention (issue 9): keeps processed/, status/, failed/ and the ledger from growing forever.
// In the background, every `intervalMs`, entries older than their area's age are removed — by
// modification time for files (see sweep.ts), through the host's ledger prune for ledger
// history (only settled intents are ever forgotten). handoff/ is never touched: what waits
// there is work, not history. The guide's `cleanup_after: 168h` is `maxAge: "168h"`.
//
// What a sweep removed is logged at info with counts per area. There is no core event for it
// yet, so the audit log and the metrics cannot record it (see the operations notes in the
// README); `status().details` shows the totals meanwhile.
import { definePlugin, type PluginDefinition } from '../../core/index.ts';
import { DURATION_PATTERN } from './duration.ts';
import { RetentionSweeper } from './sweeper.ts';

interface Options {
  /** The age for every area that names none of its own; "off" keeps everything. */
  maxAge: string;
  processedMaxAge?: string;
  statusMaxAge?: string;
  failedMaxAge?: string;
  ledgerMaxAge?: string;
  /** Time between the end of one sweep and the start of the next (the first runs at start). */
  intervalMs: number;
  /** Directory entries handled between two yields to the event loop. */
  batchSize: number;
}

const DURATION = { type: 'string', pattern: DURATION_PATTERN } as const;

/**
 * The plugin, reading the time from `clock`. The default export uses the real clock; tests build
 * their own with a clock they control and name it under `modules` in the config.
 */
export function createRetention(clock: () => number = Date.now): PluginDefinition<Options> {
  return definePlugin<Options>({
    name: 'retention',
    kind: 'service',
    description: 'Removes processed/, status/, failed/ entries and settled ledger records older than their configured age.',
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAge: DURATION,
        processedMaxAge: DURATION,
        statusMaxAge: DURATION,
        failedMaxAge: DURATION,
        ledgerMaxAge: DURATION,
        intervalMs: { type: 'integer', minimum: 10, maximum: 86_400_000 },
        batchSize: { type: 'integer', minimum: 1, maximum: 100_000 },
      },
      required: ['maxAge', 'intervalMs', 'batchSize'],
    },
    defaults: { maxAge: '168h', intervalMs: 600_000, batchSize: 500 },
    create: (context, options) => new RetentionSweeper(context, options, clock),
  });
}

export default createRetention();
