// The audit log's hash chain. Every record carries `seq` (its 1-based line number), `prev` (the
// hash of the record before it, or GENESIS for the first) and `hash`: sha256 over the canonical
// JSON of the record without `hash`. Editing a line breaks its own hash; removing or reordering
// lines breaks the `prev` link of the line that now follows. Removing lines from the end breaks
// no link, so a small checkpoint file beside the log records the last seq and hash written.
//
// The checkpoint lives beside the log, so whoever can write the data volume can cut the tail and
// rewrite it, or re-chain the whole file. Two things reach further (SECURITY.md says how far):
// - a key (HMAC): records written with one carry `mac: "hmac-sha256"` and their `hash` is an
//   HMAC-SHA256 under the key, which an attacker without the key cannot recompute;
// - anchors: where the chain stood (`<log name>@<seq>:<hash>`), recorded by the sinks with each
//   effect (a commit trailer, an annotation), which verify compares with the log.
import { createHmac, hash } from 'node:crypto';
import {
  closeSync,
  constants,
  createReadStream,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import { AUDIT_ANCHOR_PATTERN, canonicalJson } from '../../core/index.ts';

/** The `prev` of the first record: no record came before it. */
export const GENESIS = '0'.repeat(64);

/** Where the chain stands: the last record written. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS };

/** The value of `mac` in a record whose hash is an HMAC under the audit key. */
export const MAC_ALGORITHM = 'hmac-sha256';

export function hashRecord(recordWithoutHash: Record<string, unknown>, key?: Buffer): string {
  return digestOf(canonicalJson(recordWithoutHash), key);
}

/** Where a chain stood, as the sinks record it: which log, which record, its hash. */
export interface Anchor {
  chain: string;
  seq: number;
  hash: string;
  /** Where it was found (a commit, a file line), for messages. */
  source: string;
}

export function formatAnchor(chain: string, head: ChainHead): string {
  return `${chain}@${head.seq}:${head.hash}`;
}

export function parseAnchor(text: string, source: string): Anchor | undefined {
  const trimmed = text.trim();
  if (!AUDIT_ANCHOR_PATTERN.test(trimmed)) return undefined;
  const match = /^(.+)@(\d+):([0-9a-f]{64})$/.exec(trimmed);
  if (match === null) return undefined;
  return { chain: match[1]!, seq: Number(match[2]), hash: match[3]!, source };
}

/**
 * Links `fields` to the chain after `head`: returns the JSON line to append (without its
 * newline) and the new head. What is hashed is exactly what a reader parses back: the record as
 * JSON reads it (undefined values dropped, dates as strings). A record of plain JSON values —
 * what the trail writes — reads back as it is, so it is hashed and written without the round
 * trip through JSON (about a quarter of the cost of a line); anything else takes the round trip.
 * test/unit/audit-chain.test.ts holds both to the round trip's result.
 */
export function linkRecord(head: ChainHead, fields: Record<string, unknown>, key?: Buffer): { line: string; head: ChainHead } {
  const seq = head.seq + 1;
  const unlinked = key === undefined ? { ...fields, seq, prev: head.hash } : { ...fields, mac: MAC_ALGORITHM, seq, prev: head.hash };
  // First, as before: what JSON cannot write (a cycle, a BigInt) fails here, as it always did.
  const text = JSON.stringify(unlinked);
  if (Object.hasOwn(fields, 'hash') || !readsBackAsIs(unlinked)) return linkRoundTripped(text, seq, key);
  const hash = digestOf(canonicalJson(unlinked), key);
  // `hash` is a key of its own, so it goes last: the line JSON.stringify makes of the record with it.
  return { line: `${text.slice(0, -1)},"hash":"${hash}"}`, head: { seq, hash } };
}

/** The general path: the record through JSON first, then hashed and written. */
function linkRoundTripped(text: string, seq: number, key: Buffer | undefined): { line: string; head: ChainHead } {
  const record = JSON.parse(text) as Record<string, unknown>;
  const hash = hashRecord(record, key);
  return { line: JSON.stringify({ ...record, hash }), head: { seq, hash } };
}

function digestOf(canonical: string, key: Buffer | undefined): string {
  return key === undefined ? hash('sha256', canonical, 'hex') : createHmac('sha256', key).update(canonical).digest('hex');
}

/**
 * True when JSON gives `value` back as it is — strings, numbers, booleans, null, arrays and plain
 * objects of those — so that its canonical JSON is that of what a reader parses. False for
 * undefined or a function (also as an array hole), a `toJSON` (as dates have), a boxed primitive
 * or another instance: for those only the round trip through JSON says what a reader gets.
 */
function readsBackAsIs(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number': // a non-finite number is written null, and read back as null
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if ('toJSON' in value) return false;
  if (Array.isArray(value)) {
    // By index, not `every`: a hole reads as undefined here, as it must (JSON writes it null).
    for (let i = 0; i < value.length; i += 1) if (!readsBackAsIs(value[i])) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every(readsBackAsIs);
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
    this.#fd = openSync(checkpointPathOf(logPath), constants.O_RDWR | constants.O_CREAT, 0o600);
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
  if (last !== undefined)
    return { head: EMPTY_CHAIN, cut, warning: 'the last line of the audit log is not a complete chained record; verify will report it' };
  return { head: EMPTY_CHAIN, cut };
}

export interface VerifyOptions {
  /** The audit key: keyed records' MACs are checked, and the chain must end keyed. */
  key?: Buffer;
  /** Anchors of this log (their `chain` is its name): each must name a record the log holds. */
  anchors?: readonly Anchor[];
}

export type VerifyResult =
  | {
      ok: true;
      records: number;
      checkpoint: 'matched' | 'absent';
      /** Records written with a key; with no key given, their MACs were not checked. */
      keyed: number;
      /** Anchors compared with the log. */
      anchored: number;
    }
  | { ok: false; records: number; line: number; reason: string };

/** Where a walk through the log stands: the head so far and what it has seen on the way. */
interface ChainWalk {
  expected: ChainHead;
  lineNumber: number;
  keyed: number;
  /** The hash of the record at the checkpoint's seq, once the walk has passed it. */
  hashAtCheckpoint: string | undefined;
}

/** What every line is compared with: the key, the checkpoint, and the anchors by seq. */
interface ChainEvidence {
  key: Buffer | undefined;
  checkpoint: ChainHead | undefined;
  anchors: Map<number, Anchor[]>;
}

function anchorsBySeq(list: readonly Anchor[]): Map<number, Anchor[]> {
  const anchors = new Map<number, Anchor[]>();
  for (const anchor of list) anchors.set(anchor.seq, [...(anchors.get(anchor.seq) ?? []), anchor]);
  return anchors;
}

/** Why a record's MAC or hash does not hold, or undefined when it does; counts keyed records. */
function integrityBreak(rest: Record<string, unknown>, hash: string, walk: ChainWalk, key: Buffer | undefined): string | undefined {
  if (rest['mac'] === MAC_ALGORITHM) {
    walk.keyed += 1;
    if (key !== undefined && hashRecord(rest, key) !== hash) {
      return 'its MAC does not match under the audit key (the line was edited or the log re-chained)';
    }
    return undefined;
  }
  if (rest['mac'] !== undefined) return `unknown mac ${JSON.stringify(rest['mac'])}`;
  if (walk.keyed > 0 && key !== undefined) return 'it is not keyed, after keyed records (the log was re-chained without the key)';
  if (hashRecord(rest) !== hash) return 'the hash does not match the content (the line was edited)';
  return undefined;
}

/** Why a line does not extend the chain, or undefined when it does (the walk then moves past it). */
function lineBreak(text: string, walk: ChainWalk, evidence: ChainEvidence): string | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'not a JSON record (the line was edited or cut)';
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a JSON object';
  const { hash, ...rest } = record;
  if (typeof hash !== 'string') return 'no hash (the record is not part of the chain)';
  const broken = integrityBreak(rest, hash, walk, evidence.key);
  if (broken !== undefined) return broken;
  const { expected } = walk;
  if (rest['prev'] !== expected.hash) {
    return expected.seq === 0
      ? 'it does not start the chain (lines before it were removed)'
      : `it does not follow line ${walk.lineNumber - 1} (a line was removed or the lines were reordered)`;
  }
  if (rest['seq'] !== expected.seq + 1) return `its sequence number is ${String(rest['seq'])}, expected ${expected.seq + 1}`;
  walk.expected = { seq: expected.seq + 1, hash };
  if (evidence.checkpoint?.seq === walk.expected.seq) walk.hashAtCheckpoint = hash;
  for (const anchor of evidence.anchors.get(walk.expected.seq) ?? []) {
    if (anchor.hash !== hash) return `it does not match the anchor in ${anchor.source} (the log was rewritten)`;
  }
  return undefined;
}

/** After the last line: whether the key, the anchors and the checkpoint agree with where the log ends. */
function endBreak(walk: ChainWalk, evidence: ChainEvidence): VerifyResult | undefined {
  const { lineNumber } = walk;
  const { checkpoint, anchors } = evidence;
  if (evidence.key !== undefined && lineNumber > 0 && walk.keyed === 0) {
    return {
      ok: false,
      records: lineNumber,
      line: lineNumber,
      reason: 'no record is keyed, but a key was given (the log was re-chained without the key)',
    };
  }
  const furthest = [...anchors.keys()].reduce((max, seq) => Math.max(max, seq), 0);
  if (furthest > lineNumber) {
    const anchor = anchors.get(furthest)![0]!;
    return {
      ok: false,
      records: lineNumber,
      line: lineNumber + 1,
      reason: `missing: the anchor in ${anchor.source} records ${furthest} records, the log holds ${lineNumber} (lines were removed from the end)`,
    };
  }
  if (checkpoint !== undefined && checkpoint.seq > 0) {
    if (checkpoint.seq > lineNumber) {
      return {
        ok: false,
        records: lineNumber,
        line: lineNumber + 1,
        reason: `missing: the checkpoint records ${checkpoint.seq} records (lines were removed from the end)`,
      };
    }
    if (walk.hashAtCheckpoint !== checkpoint.hash) {
      return { ok: false, records: lineNumber, line: checkpoint.seq, reason: 'it does not match the checkpoint (the log was rewritten)' };
    }
  }
  return undefined;
}

/** Walks the whole log once, line by line, and names the first line that breaks the chain. */
export async function verifyChain(logPath: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const checkpoint = readCheckpoint(logPath);
  const evidence: ChainEvidence = { key: options.key, checkpoint, anchors: anchorsBySeq(options.anchors ?? []) };
  const walk: ChainWalk = { expected: EMPTY_CHAIN, lineNumber: 0, keyed: 0, hashAtCheckpoint: undefined };
  const lines = createInterface({ input: createReadStream(logPath, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of lines) {
    walk.lineNumber += 1;
    const reason = lineBreak(text, walk, evidence);
    if (reason !== undefined) {
      lines.close();
      return { ok: false, records: walk.lineNumber - 1, line: walk.lineNumber, reason };
    }
  }
  const atEnd = endBreak(walk, evidence);
  if (atEnd !== undefined) return atEnd;
  const anchored = [...evidence.anchors.values()].reduce((n, list) => n + list.length, 0);
  return { ok: true, records: walk.lineNumber, checkpoint: checkpoint === undefined ? 'absent' : 'matched', keyed: walk.keyed, anchored };
}
