// Liveness of the process is the liveness of its event loop: a timer that should fire every
// `sampleMs` measures how late it fires. A loop stuck in synchronous work shows as a large
// delay on the first tick after it comes back; a dead loop answers no probe at all.
export class EventLoopWatch {
  readonly #sampleMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastTick = 0;
  #delayMs = 0;

  constructor(sampleMs: number) {
    this.#sampleMs = sampleMs;
  }

  /** How late the last tick fired, in milliseconds. */
  get delayMs(): number {
    return this.#delayMs;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastTick = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#delayMs = Math.max(0, now - this.#lastTick - this.#sampleMs);
      this.#lastTick = now;
    }, this.#sampleMs);
    // The watch must not keep the process alive on its own.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#delayMs = 0;
  }
}
