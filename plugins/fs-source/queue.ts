// The names the filesystem source knows of, and the pump that admits them: names wait here (not
// their bytes) until the pipeline has a free place, so a large backlog waits on disk, not in
// memory. A name is in at most one of `waiting` and `active`; one seen again while active is
// noted in `touched` and offered once more when its admission is over.
import type { Claim, Logger } from '../../core/index.ts';

export interface AdmissionQueueOptions {
  /** The names this source reads (its `pattern`). */
  matches: RegExp;
  /** `once`: idle() resolves when the first listing has been admitted and everything is over. */
  once: boolean;
  /** Tells the pipeline how many names wait outside it. */
  reportBacklog: (waiting: number) => void;
  log: Logger;
}

export class AdmissionQueue {
  /** Names waiting for a place, in arrival order (a Set keeps order and drops repeats). */
  readonly waiting = new Set<string>();
  /** Names admitted and not yet done with (moved out of handoff/, let go, or dropped). */
  readonly active = new Set<string>();
  /** Names seen again while active: offered once more when they are done with. */
  readonly touched = new Set<string>();
  /** Claims held by this replica, given back when their file is done with. */
  readonly claims = new Map<string, Claim>();
  stopped = false;
  /** False until the first listing of handoff/ has been queued (`once` is not idle before). */
  listed = false;
  readonly idle: Promise<void>;
  readonly #options: AdmissionQueueOptions;
  #wake: (() => void) | undefined;
  #idleResolve: (() => void) | undefined;

  constructor(options: AdmissionQueueOptions) {
    this.#options = options;
    this.idle = new Promise<void>((resolve) => (this.#idleResolve = resolve));
  }

  /** A name seen in handoff/ (by the watcher or a listing). */
  offer(name: string): void {
    if (this.stopped || !this.#options.matches.test(name)) return;
    if (this.active.has(name)) {
      this.touched.add(name);
      return;
    }
    this.waiting.add(name);
    this.#reportBacklog();
    this.#wake?.();
  }

  /**
   * The admission of `name` is over (its file moved out, gone, or handed back for later): its
   * claim is given back, and a name seen again meanwhile is offered once more.
   */
  finish(name: string): void {
    this.active.delete(name);
    const claim = this.claims.get(name);
    this.claims.delete(name);
    void claim?.release().catch((error: unknown) => {
      this.#options.log.warn({ err: error, file: name }, 'could not release the claim');
    });
    if (this.touched.delete(name)) this.offer(name);
    this.checkIdle();
  }

  /** Gives up on a name without processing it (not terminal; a later scan may offer it again). */
  drop(name: string): void {
    this.active.delete(name);
    this.touched.delete(name);
    this.checkIdle();
  }

  checkIdle(): void {
    if (this.#options.once && this.listed && this.waiting.size === 0 && this.active.size === 0) this.#idleResolve?.();
  }

  /**
   * Replaces the waiting names with a listing of handoff/ (already in the order to admit), less
   * the active ones; names queued but not listed (they just arrived) keep their place after.
   */
  replaceWithListing(listing: readonly string[]): void {
    const listed = new Set(listing);
    const arrivedSince = [...this.waiting].filter((name) => !listed.has(name));
    this.waiting.clear();
    for (const name of listed) if (!this.active.has(name)) this.waiting.add(name);
    for (const name of arrivedSince) this.waiting.add(name);
    this.#reportBacklog();
    this.#wake?.();
  }

  /**
   * Admits the waiting names one after another until stopped, yielding to other work after
   * `batch` in a row. Returns when `admit` throws (the pipeline is stopping: acquire refused).
   */
  async pump(admit: (name: string) => Promise<void>, batch: number): Promise<void> {
    let inARow = 0;
    while (!this.stopped) {
      const next = this.waiting.values().next();
      if (next.done) {
        this.checkIdle();
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      this.waiting.delete(next.value);
      this.#reportBacklog();
      try {
        await admit(next.value);
      } catch {
        return;
      }
      if (++inARow >= batch) {
        inARow = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** No more offers or admissions; a pump waiting for a name returns. */
  stop(): void {
    this.stopped = true;
    this.#wake?.();
  }

  #reportBacklog(): void {
    this.#options.reportBacklog(this.waiting.size);
  }
}
