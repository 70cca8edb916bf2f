// The audit log's hash chain. Every record carries `seq` (its 1-based line number), `prev` (the
// hash of the record before it, or GENESIS for the first) and `hash`: sha256 over the canonical
// JSON of the record without `hash`. Editing a line breaks its own hash; removing or reordering
// lines breaks the `prev` link of the line that now follows. Removing lines from the end breaks
// no link, so a small checkpoint file beside the log records the last seq and hash written.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { canonicalJson } from '../../core/index.ts';

/** The `prev` of the first record: no record came before it. */
export const GENESIS = '0'.repeat(64);

/** Where the chain stands: the last record written. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS };

export function hashRecord(recordWithoutHash: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(recordWithoutHash)).digest('hex');
}

/**
 * Links `fields` to the chain after `head`: returns the JSON line to append (without its
 * newline) and the new head. The record is taken through JSON first, so that what is hashed is
 * exactly what a reader parses back (undefined values dropped, dates as strings).
 */
export function linkRecord(head: ChainHead, fields: Record<string, unknown>): { line: string; head: ChainHead } {
  const record = JSON.parse(JSON.stringify({ ...fields, seq: head.seq + 1, prev: head.hash })) as Record<string, unknown>;
  const hash = hashRecord(record);
  return { line: JSON.stringify({ ...record, hash }), head: { seq: head.seq + 1, hash } };
}

/** The checkpoint file of a log: beside it, so a copied pair can be verified anywhere. */
export function checkpointPathOf(logPath: string): string {
  return `${logPath}.head`;
}

export function readCheckpoint(logPath: string): ChainHead | undefined {
  const path = checkpointPathOf(logPath);
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<ChainHead>;
    if (typeof value.seq === 'number' && Number.isInteger(value.seq) && value.seq >= 0 && typeof value.hash === 'string') {
      return { seq: value.seq, hash: value.hash };
    }
  } catch {
    // An unreadable checkpoint is treated as absent; verify says so.
  }
  return undefined;
}

/** Fixed width, so that each update overwrites the whole checkpoint in one small write. */
const CHECKPOINT_WIDTH = 127;

/**
 * The checkpoint, rewritten in place after every record: one write of a fixed-width line at
 * offset 0 (a temporary file and a rename would cost a disk flush per record on ext4). A write
 * torn by a crash leaves an unreadable checkpoint, which verify reports as absent.
 */
export class CheckpointWriter {
  readonly #fd: number;

  constructor(logPath: string) {
    this.#fd = openSync(checkpointPathOf(logPath), constants.O_RDWR | constants.O_CREAT, 0o644);
    ftruncateSync(this.#fd, CHECKPOINT_WIDTH + 1);
  }

  write(head: ChainHead): void {
    writeSync(this.#fd, `${JSON.stringify(head).padEnd(CHECKPOINT_WIDTH)}\n`, 0);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** The last non-empty line of a file, read from its end (the log may be large). */
export function lastLineOf(path: string): { line: string | undefined; cut: boolean } {
  if (!existsSync(path)) return { line: undefined, cut: false };
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let chunk = 64 * 1024;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const raw = buffer.toString('utf8');
      // A crash in the middle of a write leaves a last line without its newline.
      const cut = raw.length > 0 && !raw.endsWith('\n');
      const text = raw.replace(/\n+$/, '');
      const newline = text.lastIndexOf('\n');
      if (newline >= 0) return { line: text.slice(newline + 1), cut };
      if (start === 0) return { line: text.length > 0 ? text : undefined, cut };
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

export interface Resumed {
  head: ChainHead;
  /** The log ends in a cut line: a newline must be written before the next record. */
  cut: boolean;
  warning?: string;
}

/**
 * Where to continue the chain after a restart: the last line of the log, or the checkpoint when
 * it is further along (the log was cut short: continuing from the checkpoint keeps that visible
 * to verify instead of starting a clean new chain over the gap).
 */
export function resumeChain(logPath: string): Resumed {
  const checkpoint = readCheckpoint(logPath);
  const { line: last, cut } = lastLineOf(logPath);
  let fromLog: ChainHead | undefined;
  if (last !== undefined && !cut) {
    try {
      const record = JSON.parse(last) as Record<string, unknown>;
      if (typeof record['seq'] === 'number' && typeof record['hash'] === 'string') fromLog = { seq: record['seq'], hash: record['hash'] };
    } catch {
      // Handled below: an unchained last line.
    }
  }
  if (checkpoint !== undefined && checkpoint.seq > (fromLog?.seq ?? 0)) {
    const warning = cut
      ? 'the last line of the audit log was cut by a crash; verify will name it'
      : `the audit log ends before record ${checkpoint.seq} of its checkpoint; verify will report the gap`;
    return { head: checkpoint, cut, warning };
  }
  if (fromLog !== undefined) return { head: fromLog, cut };
  if (last !== undefined) return { head: EMPTY_CHAIN, cut, warning: 'the last line of the audit log is not a complete chained record; verify will report it' };
  return { head: EMPTY_CHAIN, cut };
}

export type VerifyResult = { ok: true; records: number; checkpoint: 'matched' | 'absent' } | { ok: false; records: number; line: number; reason: string };

/** Walks the whole log once, line by line, and names the first line that breaks the chain. */
export async function verifyChain(logPath: string): Promise<VerifyResult> {
  let expected: ChainHead = EMPTY_CHAIN;
  let lineNumber = 0;
  let hashAtCheckpoint: string | undefined;
  const checkpoint = readCheckpoint(logPath);
  const lines = createInterface({ input: createReadStream(logPath, { encoding: 'utf8' }), crlfDelay: Infinity });
  const fail = (reason: string): VerifyResult => {
    lines.close();
    return { ok: false, records: lineNumber - 1, line: lineNumber, reason };
  };
  for await (const text of lines) {
    lineNumber += 1;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return fail('not a JSON record (the line was edited or cut)');
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return fail('not a JSON object');
    const { hash, ...rest } = record;
    if (typeof hash !== 'string') return fail('no hash (the record is not part of the chain)');
    if (hashRecord(rest) !== hash) return fail('the hash does not match the content (the line was edited)');
    if (rest['prev'] !== expected.hash) {
      return fail(
        expected.seq === 0
          ? 'it does not start the chain (lines before it were removed)'
          : `it does not follow line ${lineNumber - 1} (a line was removed or the lines were reordered)`,
      );
    }
    if (rest['seq'] !== expected.seq + 1) return fail(`its sequence number is ${String(rest['seq'])}, expected ${expected.seq + 1}`);
    expected = { seq: expected.seq + 1, hash };
    if (checkpoint?.seq === expected.seq) hashAtCheckpoint = hash;
  }
  if (checkpoint !== undefined && checkpoint.seq > 0) {
    if (checkpoint.seq > lineNumber) {
      return { ok: false, records: lineNumber, line: lineNumber + 1, reason: `missing: the checkpoint records ${checkpoint.seq} records (lines were removed from the end)` };
    }
    if (hashAtCheckpoint !== checkpoint.hash) {
      return { ok: false, records: lineNumber, line: checkpoint.seq, reason: 'it does not match the checkpoint (the log was rewritten)' };
    }
  }
  return { ok: true, records: lineNumber, checkpoint: checkpoint === undefined ? 'absent' : 'matched' };
}
