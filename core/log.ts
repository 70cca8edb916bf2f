// The one logger: pino JSON lines. Secrets are redacted by key wherever they appear in a log
// record, so a plugin that logs its options or a request cannot leak a token.
import pino from 'pino';
import { redactSecretValues } from './config/redact.ts';

export type Logger = pino.Logger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export const REDACTED_LOG_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
];

export interface LoggerOptions {
  level?: LogLevel;
  /** A file descriptor or path; stdout by default. */
  destination?: number | string;
  /** Fields on every record. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = pino.destination({ dest: options.destination ?? 1, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'conductor', ...options.base },
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      // Values the config took from the environment, under whatever key (config/redact.ts).
      hooks: { streamWrite: redactSecretValues },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** A logger that writes nothing; for tests and for commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
