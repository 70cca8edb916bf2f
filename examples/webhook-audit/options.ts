// The plugin's options: their JSON Schema (closed, so a typo is an error naming the key), with
// the description and default of each option — the one place an option is written: the options
// type below and the defaults Conductor merges before create() runs are derived from it.
import { RETRY_POLICY_SCHEMA, type OptionsOf, type RetryPolicy } from '../../core/index.ts';

/** A delivery is retried a few times over half a minute: a webhook blip loses nothing. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 5_000, budgetMs: 30_000 };

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // No default: there is no sensible one, so the config must name it.
    url: { type: 'string', pattern: '^https?://', description: 'Where each outcome is POSTed.' },
    token: {
      type: 'string',
      minLength: 1,
      description: 'Sent as `authorization: Bearer <token>`. A key named `token` is redacted wherever config is printed.',
    },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      propertyNames: { pattern: '^[A-Za-z0-9-]+$' },
      default: {},
      description: 'Further request headers (no secrets here: use `token`).',
    },
    statuses: {
      type: 'array',
      items: { enum: ['succeeded', 'failed', 'duplicate'] },
      uniqueItems: true,
      default: ['succeeded', 'failed', 'duplicate'],
      description: 'Which outcomes to send.',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: 600_000,
      default: 5_000,
      description: "One request's limit: connect, headers and body.",
    },
    // The core's own retry schema, so every plugin's `retry` reads the same.
    retry: {
      ...RETRY_POLICY_SCHEMA,
      default: DEFAULT_RETRY,
      description: 'Retries of one delivery (0 attempts: unlimited within the budget); a key given alone is merged over these.',
    },
    maxQueue: {
      type: 'integer',
      minimum: 1,
      default: 1_000,
      description: 'Outcomes waiting to be sent at most; beyond it new ones are dropped and counted.',
    },
    flushTimeoutMs: {
      type: 'integer',
      minimum: 0,
      default: 5_000,
      description: "How long stop() keeps sending what is queued (keep it below the core's pluginTimeoutMs).",
    },
  },
  required: ['url'],
} as const;

/** The options create() receives, defaults merged. */
export type WebhookAuditOptions = OptionsOf<typeof OPTIONS_SCHEMA>;
