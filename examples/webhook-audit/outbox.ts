// Outcomes wait here for the webhook, so the pipeline never waits for it: the audit tap only
// adds to the queue. One sender takes them oldest first, each delivery retried by the core's
// withRetry. The queue is bounded; what does not fit is dropped, counted and logged — this is
// a notification channel, the durable record is the audit-log plugin's file. On close, what is
// queued is sent for a bounded time, then the rest is counted as undelivered.
import { withRetry, type Logger, type Outcome, type RetryPolicy } from '../../core/index.ts';

export interface OutboxCounts {
  queued: number;
  delivered: number;
  /** Given up on: refused by the receiver, or out of retries. */
  failed: number;
  /** Did not fit in the queue. */
  dropped: number;
}

export interface OutboxOptions {
  send(outcome: Outcome, signal: AbortSignal): Promise<void>;
  maxQueue: number;
  retry: RetryPolicy;
  log: Logger;
}

export class Outbox {
  readonly #options: OutboxOptions;
  readonly #pending: Outcome[] = [];
  readonly #abort = new AbortController();
  readonly #counts = { delivered: 0, failed: 0, dropped: 0 };
  #sender: Promise<void> | undefined;
  #sending = false;
  #full = false;
  #lastError: string | undefined;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  counts(): OutboxCounts {
    return { queued: this.#pending.length, ...this.#counts };
  }

  add(outcome: Outcome): void {
    if (this.#pending.length >= this.#options.maxQueue) {
      this.#counts.dropped += 1;
      // Once per overflow, not once per record: a dead webhook must not flood the log.
      if (!this.#full)
        this.#options.log.error({ maxQueue: this.#options.maxQueue }, 'webhook queue full: outcomes are dropped until it drains');
      this.#full = true;
      return;
    }
    this.#full = false;
    this.#pending.push(outcome);
    this.#wake();
  }

  /** Starts sending. */
  open(): void {
    this.#sending = true;
    this.#wake();
  }

  /**
   * Sends what is queued for up to `flushMs` (or until `signal` aborts), then stops sending
   * and cuts any delivery short. Resolves with how many outcomes were left undelivered.
   */
  async close(flushMs: number, signal: AbortSignal): Promise<number> {
    if (this.#sending && this.#sender !== undefined) await settledWithin(this.#sender, flushMs, signal);
    this.#sending = false;
    this.#abort.abort();
    await this.#sender;
    return this.#pending.length;
  }

  #wake(): void {
    if (!this.#sending || this.#sender !== undefined || this.#pending.length === 0) return;
    this.#sender = this.#drain().finally(() => {
      this.#sender = undefined;
      // An outcome added while the sender was finishing still gets one.
      if (!this.#abort.signal.aborted) this.#wake();
    });
  }

  async #drain(): Promise<void> {
    const signal = this.#abort.signal;
    const { send, retry, log } = this.#options;
    while (this.#pending.length > 0 && !signal.aborted) {
      const outcome = this.#pending[0]!;
      try {
        await withRetry(() => send(outcome, signal), retry, {
          signal,
          onRetry: (error, attempt, delayMs) =>
            log.debug({ intentId: outcome.intentId, attempt, delayMs, code: error.code }, `webhook delivery retried: ${error.message}`),
        });
        this.#counts.delivered += 1;
      } catch (error) {
        if (signal.aborted) return; // stopping: it stays queued and is counted as undelivered
        this.#counts.failed += 1;
        this.#lastError = (error as Error).message;
        log.warn({ err: error, intentId: outcome.intentId }, `webhook delivery given up: ${this.#lastError}`);
      }
      this.#pending.shift();
    }
  }
}

/** Waits for `promise`, but no longer than `ms` and not past `signal`. Never rejects. */
async function settledWithin(promise: Promise<unknown>, ms: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise.catch(() => undefined), limit]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort!);
  }
}
