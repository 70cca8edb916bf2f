// Bounds how many intents are in flight; waiters are served in arrival order.
import { ConductorError } from '../errors.ts';

export class Semaphore {
  #free: number;
  readonly #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #closed = false;

  constructor(size: number) {
    this.#free = size;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(new ConductorError('CND_ERR_SHUTDOWN', 'the pipeline is stopping'));
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.resolve();
    else this.#free += 1;
  }

  /** Refuses new and waiting acquirers (shutdown). */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ConductorError('CND_ERR_SHUTDOWN', 'the pipeline is stopping'));
  }
}

/** Runs work for one key at a time, in the order it was queued (per-target ordering). */
export class KeyedSerializer {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const tail = new Promise<void>((resolve) => (done = resolve));
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      done();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
