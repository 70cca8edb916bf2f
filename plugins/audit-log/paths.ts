// Where the audit log is, and the audit key. Each writer needs a chain of its own: two processes
// appending to one file interleave their records and the chain breaks at once. A process that
// uses the default state directory (<dataDir>/state) holds the data directory's lock, so it is
// the data directory's only writer and the log keeps its plain name. A process with a state
// directory of its own is one of several sharing the data directory (replicas): its default log
// carries its host name and a short hash of its state directory, which are unique among them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';

export const DEFAULT_AUDIT_DIR = 'audit';
export const DEFAULT_AUDIT_PATH = `${DEFAULT_AUDIT_DIR}/audit.log`;

/** The audit log's absolute path: the `path` option (relative to the data directory) or the default. */
export function auditLogPath(config: { dataDir: string; stateDir: string }, path: string | undefined): string {
  if (path !== undefined) return resolve(config.dataDir, path);
  if (resolve(config.stateDir) === resolve(config.dataDir, 'state')) return resolve(config.dataDir, DEFAULT_AUDIT_PATH);
  const host = (process.env['HOSTNAME'] || hostname()).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63) || 'host';
  const state = createHash('sha256').update(resolve(config.stateDir)).digest('hex').slice(0, 8);
  return join(resolve(config.dataDir, DEFAULT_AUDIT_DIR), `audit-${host}-${state}.log`);
}

/** A chain's name in its anchors: the log's file name, unique within its directory. */
export function chainName(logPath: string): string {
  return basename(logPath);
}

/** The smallest key accepted: an HMAC key shorter than this is guessable. */
const MIN_KEY_BYTES = 16;

/** Reads the audit key (a mounted Secret): its bytes, a final newline removed. */
export function readAuditKey(file: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new Error(`${what} ${file}: ${(error as Error).message}`, { cause: error });
  }
  const key = bytes.at(-1) === 0x0a ? bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1) : bytes;
  if (key.length < MIN_KEY_BYTES) throw new Error(`${what} ${file}: the key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
  return key;
}
