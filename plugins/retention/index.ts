// Retention (issue 9): keeps processed/, status/, failed/ and the ledger from growing forever.
// In the background, every `intervalMs`, entries older than their area's age are removed — by
// modification time for files (see sweep.ts), through the host's ledger prune for ledger
// history (only settled intents are ever forgotten). handoff/ is never touched: what waits
// there is work, not history. The guide's `cleanup_after: 168h` is `maxAge: "168h"`.
//
// What a sweep removed is logged at info with counts per area and announced on the `retention`
// event, which the audit log and the metrics record; `status().details` shows the totals.
import { definePlugin, type OptionsOf, type PluginDefinition } from '../../core/index.ts';
import { RetentionSweeper } from './sweeper.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

/**
 * The plugin, reading the time from `clock`. The default export uses the real clock; tests build
 * their own with a clock they control and name it under `modules` in the config.
 */
export function createRetention(clock: () => number = Date.now): PluginDefinition<OptionsOf<typeof OPTIONS_SCHEMA>> {
  return definePlugin({
    name: 'retention',
    kind: 'service',
    description: 'Removes processed/, status/, failed/ entries and settled ledger records older than their configured age.',
    optionsSchema: OPTIONS_SCHEMA,
    docs: DOCS,
    create: (context, options) => new RetentionSweeper(context, options, clock),
  });
}

export default createRetention();
