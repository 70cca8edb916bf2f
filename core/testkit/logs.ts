// A logger that keeps its records in memory, so a test can assert on what a plugin (or the core
// on its behalf) logged — a stop timeout, a warning — instead of scraping output.
import pino from 'pino';
import type { Logger, LogLevel } from '../log.ts';
import { REDACTED_LOG_PATHS } from '../log.ts';

/** One pino record as JSON: `level` (10 trace … 60 fatal), `msg`, and the record's fields. */
export interface LogRecord {
  level: number;
  msg?: string;
  plugin?: string;
  err?: { code?: string; plugin?: string; message?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface CapturedLogs {
  log: Logger;
  /** Every record written so far, oldest first. */
  readonly records: LogRecord[];
}

export function captureLogs(level: LogLevel = 'debug'): CapturedLogs {
  const records: LogRecord[] = [];
  // The same redaction as the real logger, so a test sees what production would write.
  const log = pino(
    { level, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } },
    { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) },
  );
  return { log, records };
}
