// The core part of the config schema; each plugin's options schema is checked in addition,
// under `plugins.<id>` (see validate.ts).
export const PLUGIN_ID_PATTERN = '^[a-z][a-z0-9]*(-[a-z0-9]+)*(/[a-z0-9][a-z0-9-]*)?$';

export const CORE_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['plugins'],
  properties: {
    dataDir: { type: 'string', minLength: 1 },
    stateDir: { type: 'string', minLength: 1 },
    logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] },
    concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    shutdownTimeoutMs: { type: 'integer', minimum: 0 },
    pluginTimeoutMs: { type: 'integer', minimum: 1 },
    requeueDelayMs: { type: 'integer', minimum: 0 },
    retry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAttempts: { type: 'integer', minimum: 0 },
        initialDelayMs: { type: 'integer', minimum: 0 },
        maxDelayMs: { type: 'integer', minimum: 0 },
        budgetMs: { type: 'integer', minimum: 0 },
      },
    },
    ledger: {
      type: 'object',
      additionalProperties: false,
      properties: { sync: { enum: ['normal', 'full'] } },
    },
    modules: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' },
      additionalProperties: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
    },
    plugins: {
      type: 'object',
      propertyNames: { pattern: PLUGIN_ID_PATTERN },
      additionalProperties: { type: 'object' },
    },
  },
} as const;

/**
 * A shared options fragment (as the OTel Collector's configretry): a plugin whose options include
 * a retry policy embeds this schema, so every plugin's `retry` reads like the core's own.
 */
export const RETRY_POLICY_SCHEMA = CORE_CONFIG_SCHEMA.properties.retry;

export const CORE_DEFAULTS = {
  dataDir: './data',
  logLevel: 'info',
  concurrency: 4,
  shutdownTimeoutMs: 4_000,
  pluginTimeoutMs: 10_000,
  requeueDelayMs: 5_000,
  ledger: { sync: 'normal' },
} as const;
