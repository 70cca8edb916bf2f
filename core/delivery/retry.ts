// The shared retry helper: full-jitter exponential backoff within a budget, honouring a
// server's Retry-After. Used by the pipeline around `submit` and available to plugins that
// retry inner steps of their own.
import { ConductorError, toConductorError } from '../errors.ts';

export interface RetryPolicy {
  /** Attempts in one pass before the intent is released for later (0 = unlimited within budget). */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Total time one pass may spend retrying (waits included). */
  budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  budgetMs: 60_000,
};

/** Full jitter (AWS architecture blog): uniform in [0, min(max, initial · 2^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Retry-After as seconds or an HTTP date → milliseconds (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | string[] | undefined | null, now = Date.now()): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (header === undefined || header === null || header.trim() === '') return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The delay before the next attempt for this error, or undefined when it must not be retried. */
export function delayFor(error: ConductorError, attempt: number, policy: RetryPolicy): number | undefined {
  if (error.kind === 'permanent') return undefined;
  if (error.kind === 'throttle' && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.budgetMs);
  return Math.max(error.retryAfterMs ?? 0, backoffDelay(attempt, policy));
}

/** Resolves after `ms`, or rejects with CND_ERR_SHUTDOWN when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ConductorError('CND_ERR_SHUTDOWN', 'stopping'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ConductorError('CND_ERR_SHUTDOWN', 'stopping'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  signal?: AbortSignal;
  onRetry?: (error: ConductorError, attempt: number, delayMs: number) => void;
  /** The attempt number to start counting from (e.g. attempts made before a restart). */
  firstAttempt?: number;
}

/**
 * Runs `fn` until it succeeds, throws a permanent error, or the policy is spent; then throws
 * the last error (a spent budget as CND_ERR_RETRY_EXHAUSTED with the last error as cause).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const started = Date.now();
  let attempt = options.firstAttempt ?? 1;
  const firstAttempt = attempt;
  for (;;) {
    try {
      return await fn(attempt);
    } catch (thrown) {
      const error = toConductorError(thrown);
      const delay = delayFor(error, attempt, policy);
      if (delay === undefined) throw error;
      const attemptsSpent = attempt - firstAttempt + 1;
      const outOfAttempts = policy.maxAttempts > 0 && attemptsSpent >= policy.maxAttempts;
      const outOfTime = Date.now() - started + delay > policy.budgetMs;
      if (outOfAttempts || outOfTime) {
        throw new ConductorError('CND_ERR_RETRY_EXHAUSTED', `gave up after ${attemptsSpent} attempt(s): ${error.message}`, {
          plugin: error.plugin,
          intentId: error.intentId,
          stage: error.stage,
          cause: error,
        });
      }
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
      attempt += 1;
    }
  }
}

/**
 * Waits for `promise`, or rejects with CND_ERR_SHUTDOWN as soon as `signal` aborts. The abort
 * listener is removed again, so many waits on one long-lived signal do not pile up listeners.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what = 'waiting'): Promise<T> {
  if (signal.aborted) return Promise.reject(new ConductorError('CND_ERR_SHUTDOWN', `stopping while ${what}`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ConductorError('CND_ERR_SHUTDOWN', `stopping while ${what}`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
