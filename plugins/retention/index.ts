// Retention (issue 9): keeps processed/, status/, failed/ and the ledger from growing forever.
// In the background, every `intervalMs`, entries older than their area's age are removed — by
// modification time for files (see sweep.ts), through the host's ledger prune for ledger
// history (only settled intents are ever forgotten). handoff/ is never touched: what waits
// there is work, not history. The guide's `cleanup_after: 168h` is `maxAge: "168h"`.
//
// What a sweep removed is logged at info with counts per area. There is no core event for it
// yet, so the audit log and the metrics cannot record it (see the operations notes in the
// README); `status().details` shows the totals meanwhile.
import { join } from 'node:path';
import { definePlugin, type EventHooks, type OptionsOf, type PluginDefinition } from '../../core/index.ts';
import { parseDuration } from './duration.ts';
import { sweepByAge, sweepFailed, type SweepOptions } from './sweep.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';

const AREAS = ['processed', 'status', 'failed', 'ledger'] as const;
type Area = (typeof AREAS)[number];
type Counts = Record<Area, number>;

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
    create(context, options) {
      const { host, log } = context;
      const ages: Record<Area, number | undefined> = {
        processed: parseDuration(options.processedMaxAge ?? options.maxAge),
        status: parseDuration(options.statusMaxAge ?? options.maxAge),
        failed: parseDuration(options.failedMaxAge ?? options.maxAge),
        ledger: parseDuration(options.ledgerMaxAge ?? options.maxAge),
      };
      const totals: Counts = { processed: 0, status: 0, failed: 0, ledger: 0 };
      let sweeps = 0;
      let lastSweepAt: string | undefined;
      let lastError: string | undefined;
      let stopping = false;
      let timer: NodeJS.Timeout | undefined;
      let current: Promise<void> | undefined;
      /** The event hooks, handed to apply: a sweep announces what it removed on `retention`. */
      let events: EventHooks | undefined;

      const sweep = async (): Promise<Counts> => {
        const now = clock();
        const removed: Counts = { processed: 0, status: 0, failed: 0, ledger: 0 };
        const optionsFor = (age: number): SweepOptions => ({ cutoff: now - age, batchSize: options.batchSize, stopping: () => stopping });
        const dir = (area: string) => join(context.dataDir, area);
        if (ages.processed !== undefined) removed.processed = await sweepByAge(dir('processed'), optionsFor(ages.processed));
        if (ages.status !== undefined && !stopping) removed.status = await sweepByAge(dir('status'), optionsFor(ages.status));
        if (ages.failed !== undefined && !stopping) removed.failed = await sweepFailed(dir('failed'), optionsFor(ages.failed));
        if (ages.ledger !== undefined && !stopping) removed.ledger = host.pruneLedger(now - ages.ledger);
        return removed;
      };

      const runSweep = async () => {
        try {
          const removed = await sweep();
          sweeps += 1;
          const sweptAt = clock();
          lastSweepAt = new Date(sweptAt).toISOString();
          lastError = undefined;
          const count = AREAS.reduce((sum, area) => sum + removed[area], 0);
          for (const area of AREAS) totals[area] += removed[area];
          for (const area of AREAS) {
            const age = ages[area];
            if (removed[area] > 0 && age !== undefined) {
              events?.retention.call({ area, removed: removed[area], olderThan: new Date(sweptAt - age).toISOString(), plugin: context.id });
            }
          }
          if (count > 0) log.info({ event: 'retention', removed }, `retention removed ${count} entries older than their age`);
          else log.debug({ event: 'retention' }, 'retention: nothing old enough to remove');
        } catch (error) {
          // A sweep that fails (a permission, a disk error) is tried again at the next interval.
          lastError = (error as Error).message;
          log.warn({ err: error, event: 'retention' }, `retention sweep failed: ${lastError}`);
        }
      };

      const schedule = () => {
        if (stopping || context.mode !== 'run') return;
        timer = setTimeout(() => {
          current = runSweep().finally(schedule);
        }, options.intervalMs);
        timer.unref();
      };

      return {
        apply(hooks) {
          events = hooks.events;
        },
        start() {
          stopping = false;
          // Not awaited: start returns at once and intake begins while the first sweep runs.
          current = runSweep().finally(schedule);
        },
        async stop() {
          stopping = true;
          if (timer !== undefined) clearTimeout(timer);
          await current;
        },
        status: () => ({
          ready: true,
          details: { sweeps, removed: { ...totals }, ...(lastSweepAt ? { lastSweepAt } : {}), ...(lastError ? { lastError } : {}) },
        }),
      };
    },
  });
}

export default createRetention();
