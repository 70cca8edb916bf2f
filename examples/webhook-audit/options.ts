// The plugin's options: their type, their JSON Schema (closed, so a typo is an error naming
// the key) and their defaults. Conductor validates the merged options before create() runs.
import { RETRY_POLICY_SCHEMA, type OutcomeStatus, type RetryPolicy } from '../../core/index.ts';

export interface WebhookAuditOptions {
  /** Where each outcome is POSTed. */
  url: string;
  /** Sent as `authorization: Bearer <token>`. A key named `token` is redacted wherever config is printed. */
  token?: string;
  /** Further request headers (no secrets here: use `token`). */
  headers: Record<string, string>;
  /** Which outcomes to send. */
  statuses: OutcomeStatus[];
  /** One request's limit: connect, headers and body. */
  timeoutMs: number;
  /** Retries of one delivery (merged over the defaults below, key by key). */
  retry?: Partial<RetryPolicy>;
  /** Outcomes waiting to be sent at most; beyond it new ones are dropped and counted. */
  maxQueue: number;
  /** How long stop() keeps sending what is queued (keep it below the core's pluginTimeoutMs). */
  flushTimeoutMs: number;
}

/** A delivery is retried a few times over half a minute: a webhook blip loses nothing. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 5_000, budgetMs: 30_000 };

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: '^https?://' },
    token: { type: 'string', minLength: 1 },
    headers: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z0-9-]+$' } },
    statuses: { type: 'array', items: { enum: ['succeeded', 'failed', 'duplicate'] }, uniqueItems: true },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
    // The core's own retry schema, so every plugin's `retry` reads the same.
    retry: RETRY_POLICY_SCHEMA,
    maxQueue: { type: 'integer', minimum: 1 },
    flushTimeoutMs: { type: 'integer', minimum: 0 },
  },
  required: ['url', 'headers', 'statuses', 'timeoutMs', 'maxQueue', 'flushTimeoutMs'],
};

/** No `url`: there is no sensible default, so the config must name one. */
export const DEFAULT_OPTIONS: Omit<WebhookAuditOptions, 'url'> = {
  headers: {},
  statuses: ['succeeded', 'failed', 'duplicate'],
  timeoutMs: 5_000,
  maxQueue: 1_000,
  flushTimeoutMs: 5_000,
};
