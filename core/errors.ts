// Named errors with stable codes (in the manner of Fastify's createError): every error that
// leaves a component says what happened (code), how to treat it (kind), and where (plugin,
// intent id, stage). The kind drives delivery: permanent → failed/, transient → retry,
// throttle → wait as told.

export type ErrorKind = 'permanent' | 'transient' | 'throttle';

/**
 * How a command that stops on the error exits (the codes are the CLI's EXIT): `usage` (2) when
 * nothing was touched because the command line, the config or the data directory is wrong;
 * `undone` (3) when work was left for later and running again may finish it.
 */
export type ExitClass = 'usage' | 'undone';

/** Every code Conductor raises, with its default kind, the exit it leads to and a one-line meaning. */
export const ERROR_CODES = {
  CND_ERR_USAGE: { kind: 'permanent', exit: 'usage', meaning: 'the command line is not understood' },
  CND_ERR_CONFIG_NOT_FOUND: { kind: 'permanent', exit: 'usage', meaning: 'no config file was found or the named one does not exist' },
  CND_ERR_CONFIG_LOAD: { kind: 'permanent', exit: 'usage', meaning: 'the config file could not be loaded' },
  CND_ERR_CONFIG_INVALID: { kind: 'permanent', exit: 'usage', meaning: 'the config does not satisfy its schema' },
  CND_ERR_PLUGIN_UNKNOWN: { kind: 'permanent', exit: 'usage', meaning: 'a plugin named in the config cannot be found' },
  CND_ERR_PLUGIN_INVALID: {
    kind: 'permanent',
    exit: 'usage',
    meaning: 'a module does not export a valid plugin definition, or a plugin taps a hook its kind does not own',
  },
  CND_ERR_PLUGIN_DEPENDENCY: { kind: 'permanent', exit: 'usage', meaning: 'a plugin depends on a plugin that is not configured' },
  CND_ERR_PLUGIN_VERSION: { kind: 'permanent', exit: 'usage', meaning: 'a plugin does not support this Conductor version' },
  CND_ERR_PLUGIN_TIMEOUT: { kind: 'transient', exit: 'undone', meaning: 'a plugin did not start or stop in time' },
  CND_ERR_PLUGIN_START: { kind: 'transient', exit: 'undone', meaning: 'a plugin failed to start' },
  CND_ERR_PLUGIN_STOP: { kind: 'transient', exit: 'undone', meaning: 'a plugin failed to stop cleanly' },
  CND_ERR_FILE_REJECTED: { kind: 'permanent', exit: 'undone', meaning: 'the entry in handoff/ is not a regular file within limits' },
  CND_ERR_FILE_UNREADABLE: {
    kind: 'transient',
    exit: 'undone',
    meaning: 'an entry in handoff/ could not be read (permissions, I/O); it stays for later and fails once the retry budget is spent',
  },
  CND_ERR_INTENT_ENCODING: { kind: 'permanent', exit: 'undone', meaning: 'the intent bytes are not valid UTF-8' },
  CND_ERR_INTENT_PARSE: { kind: 'permanent', exit: 'undone', meaning: 'the intent is not one strict JSON object' },
  CND_ERR_INTENT_INVALID: { kind: 'permanent', exit: 'undone', meaning: 'the intent does not satisfy the intent schema' },
  CND_ERR_INTENT_REJECTED: { kind: 'permanent', exit: 'undone', meaning: 'the intent was refused by a policy (sanitizer, security rule)' },
  CND_ERR_INTENT_CONFLICT: { kind: 'permanent', exit: 'undone', meaning: 'a correlation_id was reused with different content' },
  CND_ERR_INTENT_SUPERSEDED: {
    kind: 'permanent',
    exit: 'undone',
    meaning: 'the sink already holds a newer intent for this target; this one is settled as superseded',
  },
  CND_ERR_BLUEPRINT: {
    kind: 'permanent',
    exit: 'undone',
    meaning: 'a new target needs a blueprint package, and none is configured or it is unusable',
  },
  CND_ERR_SUBMIT_TRANSIENT: {
    kind: 'transient',
    exit: 'undone',
    meaning: 'the sink could not be reached or answered with a retryable error',
  },
  CND_ERR_SUBMIT_THROTTLED: { kind: 'throttle', exit: 'undone', meaning: 'the sink asked to slow down' },
  CND_ERR_SUBMIT_PERMANENT: { kind: 'permanent', exit: 'undone', meaning: 'the sink refused the intent and retrying cannot help' },
  CND_ERR_CIRCUIT_OPEN: { kind: 'transient', exit: 'undone', meaning: 'the sink circuit breaker is open' },
  CND_ERR_RETRY_EXHAUSTED: { kind: 'transient', exit: 'undone', meaning: 'the retry budget ran out; the intent stays in handoff/' },
  CND_ERR_LEDGER: { kind: 'transient', exit: 'undone', meaning: 'the ledger could not be read or written' },
  CND_ERR_LEDGER_CORRUPT: { kind: 'permanent', exit: 'undone', meaning: 'a ledger record failed its checksum and was quarantined' },
  CND_ERR_CLAIM: {
    kind: 'transient',
    exit: 'undone',
    meaning:
      'a claim between replicas could not be taken or given back (the coordination store is unreachable); the item is offered again later',
  },
  CND_ERR_LOCKED: { kind: 'permanent', exit: 'usage', meaning: 'another process owns this data directory' },
  CND_ERR_DATA_DIR_UNSAFE: {
    kind: 'permanent',
    exit: 'usage',
    meaning: 'an area of the data directory is a symbolic link; Conductor does not write or delete through one',
  },
  CND_ERR_BACKUP: {
    kind: 'transient',
    exit: 'undone',
    meaning: 'a backup could not be written (a file shrank while read, the disk is full, …)',
  },
  CND_ERR_BACKUP_DAMAGED: {
    kind: 'permanent',
    exit: 'undone',
    meaning: 'a backup archive failed a checksum or its structure is broken; restore refused it',
  },
  CND_ERR_BACKUP_FOREIGN: {
    kind: 'permanent',
    exit: 'undone',
    meaning: 'the file is not a Conductor backup, or one of a format this version cannot read',
  },
  CND_ERR_RESTORE_NOT_EMPTY: {
    kind: 'permanent',
    exit: 'undone',
    meaning: 'restore refused to overwrite a data directory that holds files (see --force)',
  },
  CND_ERR_SHUTDOWN: { kind: 'transient', exit: 'undone', meaning: 'the pipeline is stopping; the intent stays in handoff/' },
  CND_ERR_INTERNAL: { kind: 'transient', exit: 'undone', meaning: 'an unexpected error inside Conductor or a plugin' },
} as const satisfies Record<string, { kind: ErrorKind; exit: ExitClass; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ConductorErrorOptions {
  /** The plugin (instance id) that raised or was running when it happened. */
  plugin?: string;
  intentId?: string;
  stage?: string;
  /** Overrides the code's default kind (e.g. a sink maps one HTTP status to transient). */
  kind?: ErrorKind;
  /** For throttles: how long the sink asked us to wait. */
  retryAfterMs?: number;
  /** For config errors: the dotted path of the offending key. */
  path?: string;
  /** Any further machine-readable facts (HTTP status, file, …). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ConductorError extends Error {
  override readonly name = 'ConductorError';
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  plugin: string | undefined;
  intentId: string | undefined;
  stage: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly path: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ConductorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kind = options.kind ?? ERROR_CODES[code].kind;
    this.plugin = options.plugin;
    this.intentId = options.intentId;
    this.stage = options.stage;
    this.retryAfterMs = options.retryAfterMs;
    this.path = options.path;
    this.details = options.details;
  }

  get retryable(): boolean {
    return this.kind !== 'permanent';
  }

  /** A plain object for logs, error.json files and JSON output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      ...(this.plugin === undefined ? {} : { plugin: this.plugin }),
      ...(this.intentId === undefined ? {} : { intentId: this.intentId }),
      ...(this.stage === undefined ? {} : { stage: this.stage }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isConductorError(value: unknown): value is ConductorError {
  return value instanceof ConductorError;
}

/**
 * Brings any thrown value into the taxonomy. Unknown errors are `CND_ERR_INTERNAL` and
 * transient: a bug in a sink must not turn a valid intent into a permanent failure.
 */
export function toConductorError(value: unknown, context: ConductorErrorOptions = {}): ConductorError {
  if (value instanceof ConductorError) {
    value.plugin ??= context.plugin;
    value.intentId ??= context.intentId;
    value.stage ??= context.stage;
    return value;
  }
  const message = value instanceof Error ? value.message : String(value);
  return new ConductorError('CND_ERR_INTERNAL', message, { ...context, cause: value });
}

/** The conventional way for validate/sanitize plugins to refuse an intent. */
export function rejectIntent(
  message: string,
  options: ConductorErrorOptions & { code?: 'CND_ERR_INTENT_INVALID' | 'CND_ERR_INTENT_REJECTED'; securityEvent?: string } = {},
): ConductorError {
  const { code = 'CND_ERR_INTENT_REJECTED', securityEvent, details, ...rest } = options;
  return new ConductorError(code, message, {
    ...rest,
    kind: 'permanent',
    details: securityEvent === undefined ? details : { ...details, securityEvent },
  });
}
