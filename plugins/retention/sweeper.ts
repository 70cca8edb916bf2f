// The running retention plugin: one sweep at start, then one every `intervalMs` after the end of
// the previous one (`run` mode only). Each sweep removes, area by area, what is older than that
// area's age, and stops between areas (and between batches) once the plugin is stopping.
import { join } from 'node:path';
import type { EventHooks, PluginContext, PluginHooks, PluginInstance, PluginStatus } from '../../core/index.ts';
import { parseDuration } from './duration.ts';
import { sweepByAge, sweepFailed, type SweepOptions } from './sweep.ts';

const AREAS = ['processed', 'status', 'failed', 'ledger'] as const;
type Area = (typeof AREAS)[number];
type Counts = Record<Area, number>;

export interface RetentionOptions {
  maxAge: string;
  processedMaxAge?: string;
  statusMaxAge?: string;
  failedMaxAge?: string;
  ledgerMaxAge?: string;
  intervalMs: number;
  batchSize: number;
}

export class RetentionSweeper implements PluginInstance<'service'> {
  readonly #context: PluginContext;
  readonly #options: RetentionOptions;
  readonly #clock: () => number;
  /** Each area's age in ms; undefined keeps the area ("off"). */
  readonly #ages: Record<Area, number | undefined>;
  readonly #totals: Counts = { processed: 0, status: 0, failed: 0, ledger: 0 };
  #sweeps = 0;
  #lastSweepAt: string | undefined;
  #lastError: string | undefined;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  /** The event hooks, handed to apply: a sweep announces what it removed on `retention`. */
  #events: EventHooks | undefined;

  constructor(context: PluginContext, options: RetentionOptions, clock: () => number) {
    this.#context = context;
    this.#options = options;
    this.#clock = clock;
    this.#ages = {
      processed: parseDuration(options.processedMaxAge ?? options.maxAge),
      status: parseDuration(options.statusMaxAge ?? options.maxAge),
      failed: parseDuration(options.failedMaxAge ?? options.maxAge),
      ledger: parseDuration(options.ledgerMaxAge ?? options.maxAge),
    };
  }

  apply(hooks: PluginHooks<'service'>): void {
    this.#events = hooks.events;
  }

  start(): void {
    this.#stopping = false;
    // Not awaited: start returns at once and intake begins while the first sweep runs.
    this.#current = this.#runSweep().finally(() => this.#schedule());
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#current;
  }

  status(): PluginStatus {
    const lastSweepAt = this.#lastSweepAt;
    const lastError = this.#lastError;
    const last = { ...(lastSweepAt ? { lastSweepAt } : {}), ...(lastError ? { lastError } : {}) };
    return { ready: true, details: { sweeps: this.#sweeps, removed: { ...this.#totals }, ...last } };
  }

  #schedule(): void {
    if (this.#stopping || this.#context.mode !== 'run') return;
    this.#timer = setTimeout(() => {
      this.#current = this.#runSweep().finally(() => this.#schedule());
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async #sweep(): Promise<Counts> {
    const ages = this.#ages;
    const now = this.#clock();
    const removed: Counts = { processed: 0, status: 0, failed: 0, ledger: 0 };
    const stopping = () => this.#stopping;
    const optionsFor = (age: number): SweepOptions => ({ cutoff: now - age, batchSize: this.#options.batchSize, stopping });
    const dir = (area: string) => join(this.#context.dataDir, area);
    if (ages.processed !== undefined) removed.processed = await sweepByAge(dir('processed'), optionsFor(ages.processed));
    if (ages.status !== undefined && !stopping()) removed.status = await sweepByAge(dir('status'), optionsFor(ages.status));
    if (ages.failed !== undefined && !stopping()) removed.failed = await sweepFailed(dir('failed'), optionsFor(ages.failed));
    if (ages.ledger !== undefined && !stopping()) removed.ledger = this.#context.host.pruneLedger(now - ages.ledger);
    return removed;
  }

  async #runSweep(): Promise<void> {
    const { log } = this.#context;
    try {
      const removed = await this.#sweep();
      this.#sweeps += 1;
      const sweptAt = this.#clock();
      this.#lastSweepAt = new Date(sweptAt).toISOString();
      this.#lastError = undefined;
      for (const area of AREAS) this.#totals[area] += removed[area];
      this.#announce(removed, sweptAt);
      const count = AREAS.reduce((sum, area) => sum + removed[area], 0);
      if (count > 0) log.info({ event: 'retention', removed }, `retention removed ${count} entries older than their age`);
      else log.debug({ event: 'retention' }, 'retention: nothing old enough to remove');
    } catch (error) {
      // A sweep that fails (a permission, a disk error) is tried again at the next interval.
      this.#lastError = (error as Error).message;
      log.warn({ err: error, event: 'retention' }, `retention sweep failed: ${this.#lastError}`);
    }
  }

  /** One `retention` event per area that lost entries, for the audit log and the metrics. */
  #announce(removed: Counts, sweptAt: number): void {
    const { id } = this.#context;
    for (const area of AREAS) {
      const age = this.#ages[area];
      if (removed[area] > 0 && age !== undefined) {
        const olderThan = new Date(sweptAt - age).toISOString();
        this.#events?.retention.call({ area, removed: removed[area], olderThan, plugin: id });
      }
    }
  }
}
