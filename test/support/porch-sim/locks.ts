// The per-object in-flight lock (docs/porch.md §In-flight lock): every mutating call takes a non-blocking
// TryLock; a second caller gets 409 at once. Node runs handlers one at a time, so a write only
// overlaps another while it waits inside the lock: the MutationGate provides that wait, either
// as a fixed latency or as a hold that a test releases explicitly (no sleeps needed).

export class InFlightLocks {
  private readonly held = new Set<string>();

  tryAcquire(key: string): boolean {
    if (this.held.has(key)) return false;
    this.held.add(key);
    return true;
  }

  release(key: string): void {
    this.held.delete(key);
  }

  heldKeys(): string[] {
    return [...this.held];
  }
}

/** A test's grip on writes: they wait inside their lock until `release()`. */
export interface MutationHold {
  /** How many writes are waiting right now. */
  readonly waiting: number;
  /** Resolves once at least `count` writes are waiting inside their lock. */
  whenWaiting(count?: number): Promise<void>;
  /** Let every waiting (and future) write go on. */
  release(): void;
}

interface Waiter {
  count: number;
  resolve: () => void;
}

export class MutationGate {
  private latencyMs = 0;
  private releaseHold: (() => void) | undefined;
  private holdPromise: Promise<void> | undefined;
  private waitingCount = 0;
  private waiters: Waiter[] = [];

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  hold(): MutationHold {
    if (this.holdPromise === undefined) {
      this.holdPromise = new Promise<void>((resolve) => {
        this.releaseHold = resolve;
      });
    }
    const waiting = () => this.waitingCount;
    return {
      get waiting() {
        return waiting();
      },
      whenWaiting: (count = 1) => {
        if (this.waitingCount >= count) return Promise.resolve();
        return new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
      },
      release: () => {
        this.releaseHold?.();
        this.releaseHold = undefined;
        this.holdPromise = undefined;
      },
    };
  }

  /** Called by a write after it took its lock and before it changes state. */
  async pass(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const held = this.holdPromise;
    if (held === undefined) return;
    this.waitingCount += 1;
    const ready = this.waiters.filter((w) => w.count <= this.waitingCount);
    this.waiters = this.waiters.filter((w) => w.count > this.waitingCount);
    for (const w of ready) w.resolve();
    try {
      await held;
    } finally {
      this.waitingCount -= 1;
    }
  }
}
