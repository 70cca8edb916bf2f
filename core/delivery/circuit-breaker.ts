// A per-sink circuit breaker: after `failureThreshold` consecutive transient failures it opens
// and fails fast for `resetMs`, then lets one probe through (half-open). Its state is what a
// sink reports to readiness and metrics.
import { ConductorError } from '../errors.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  name: string;
  failureThreshold?: number;
  resetMs?: number;
  now?: () => number;
  onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  readonly name: string;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;
  readonly #threshold: number;
  readonly #resetMs: number;
  readonly #now: () => number;
  readonly #onStateChange: ((state: CircuitState) => void) | undefined;
  lastError: string | undefined;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.#threshold = options.failureThreshold ?? 5;
    this.#resetMs = options.resetMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#resetMs) this.#set('half-open');
    return this.#state;
  }

  /** Runs `fn` through the breaker. Only transient failures (`isFailure`) count against it. */
  async run<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.#probeInFlight)) {
      const retryAfterMs = Math.max(0, this.#resetMs - (this.#now() - this.#openedAt));
      throw new ConductorError('CND_ERR_CIRCUIT_OPEN', `circuit for ${this.name} is open: ${this.lastError ?? 'too many failures'}`, {
        plugin: this.name,
        retryAfterMs,
      });
    }
    const probing = state === 'half-open';
    if (probing) this.#probeInFlight = true;
    try {
      const result = await fn();
      this.#failures = 0;
      if (this.#state !== 'closed') this.#set('closed');
      return result;
    } catch (error) {
      if (isFailure(error)) {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.#failures += 1;
        if (probing || this.#failures >= this.#threshold) {
          this.#openedAt = this.#now();
          this.#set('open');
        }
      }
      throw error;
    } finally {
      if (probing) this.#probeInFlight = false;
    }
  }

  #set(state: CircuitState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onStateChange?.(state);
  }
}
