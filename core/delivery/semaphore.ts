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
  /**
   * The keys in use, each with the wake-ups of the runs queued behind the current one. A key
   * nobody waits on costs a map entry and no promise: most keys (intent ids, targets) are used
   * by one run at a time.
   */
  readonly #queues = new Map<string, (() => void)[]>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const queue = this.#queues.get(key);
    // Not an async function: a run nobody waits behind costs its work's promise and one `then`.
    if (queue === undefined) {
      this.#queues.set(key, []);
      return this.#releasing(key, work);
    }
    return new Promise<void>((resolve) => queue.push(resolve)).then(() => this.#releasing(key, work));
  }

  /**
   * Runs `work` holding `key`, then hands the key to the next run in line (which finds the queue
   * still there), or frees it.
   */
  #releasing<T>(key: string, work: () => Promise<T>): Promise<T> {
    const release = () => {
      const next = this.#queues.get(key)!.shift();
      if (next === undefined) this.#queues.delete(key);
      else next();
    };
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      release();
      return Promise.reject(error as Error);
    }
    return running.then(
      (result) => {
        release();
        return result;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  }
}
