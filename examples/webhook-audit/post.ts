// One delivery: POST an outcome as JSON and say what the answer means, in Conductor's error
// taxonomy, so the core's retry helper knows what to do with it: 2xx delivered; 408, 429 and
// 5xx, network errors and timeouts are worth another try (Retry-After honoured); any other
// status is the receiver refusing this record, and retrying cannot help.
import type { Dispatcher } from 'undici';
import { ConductorError, parseRetryAfter, type Outcome } from '../../core/index.ts';

export interface PostTarget {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** The plugin instance id, named in every error. */
  plugin: string;
}

/** The body receivers get: the outcome as Conductor records it, and who sent it. */
export function payloadOf(outcome: Outcome, source: string): string {
  return JSON.stringify({ type: 'conductor.outcome', source, outcome });
}

/** The same record keeps the same key across retries, so a receiver can drop repeats. */
export function idempotencyKeyOf(outcome: Outcome): string {
  return `${outcome.intentId}.${Date.parse(outcome.finishedAt)}`;
}

export async function postOutcome(target: PostTarget, outcome: Outcome, signal: AbortSignal): Promise<void> {
  const where = { plugin: target.plugin, intentId: outcome.intentId, details: { url: target.url } };
  let statusCode: number;
  let retryAfter: string | string[] | undefined;
  try {
    const response = await target.dispatcher.request({
      origin: new URL(target.url).origin,
      path: pathOf(target.url),
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json', 'idempotency-key': idempotencyKeyOf(outcome) },
      body: payloadOf(outcome, target.plugin),
      signal: AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs)]),
    });
    statusCode = response.statusCode;
    retryAfter = response.headers['retry-after'];
    // Read to the end (and drop): an unread body holds the connection.
    await response.body.dump();
  } catch (error) {
    if (signal.aborted) throw new ConductorError('CND_ERR_SHUTDOWN', 'stopping before the webhook answered', { ...where, cause: error });
    throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `webhook not reached: ${(error as Error).message}`, { ...where, cause: error });
  }
  if (statusCode >= 200 && statusCode < 300) return;
  const status = { ...where, details: { ...where.details, status: statusCode } };
  if (statusCode === 429 || statusCode === 408 || statusCode === 503) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    if (retryAfterMs !== undefined) {
      throw new ConductorError('CND_ERR_SUBMIT_THROTTLED', `webhook answered ${statusCode}, retry after ${retryAfterMs} ms`, {
        ...status,
        retryAfterMs,
      });
    }
  }
  if (statusCode === 429 || statusCode === 408 || statusCode >= 500) {
    throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', `webhook answered ${statusCode}`, status);
  }
  throw new ConductorError('CND_ERR_SUBMIT_PERMANENT', `webhook refused the record with ${statusCode}`, status);
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
