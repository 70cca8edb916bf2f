// The data directory contract (docs/architecture.md §Data directory): handoff/ is the inbox; every entry whose name
// matches ends in processed/ or failed/, with status/ telling its latest outcome. Reads are
// confined to handoff/ and never block or follow links; moves never overwrite.
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  promises as fs,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ConductorError } from '../errors.ts';
import { stemOf } from '../intent/identity.ts';
import { DIR_MODE, FILE_MODE, restrictMovedOutFile } from './modes.ts';
import type { Outcome } from '../intent/types.ts';
import { crashPoint } from '../delivery/crash-points.ts';

/** What identifies the exact bytes that were read, to notice a rewrite before the move. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** sha256 of the bytes read: a rewrite that keeps size and mtime (rsync --inplace --times) changes it. */
  digest?: string;
}

export type ReadResult =
  { kind: 'read'; bytes: Uint8Array; identity: FileIdentity } | { kind: 'refused'; error: ConductorError } | { kind: 'gone' };

export interface ErrorRecord {
  file: string;
  intentId: string;
  stage: string;
  code: string;
  message: string;
  attempts: number;
  failedAt: string;
  plugin?: string;
  /** The intent's trace (when traced), to find its spans from the failure. */
  traceId?: string;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export class DataDir {
  readonly root: string;
  readonly handoff: string;
  readonly processed: string;
  readonly failed: string;
  readonly status: string;
  readonly out: string;

  constructor(root: string) {
    this.root = root;
    this.handoff = join(root, 'handoff');
    this.processed = join(root, 'processed');
    this.failed = join(root, 'failed');
    this.status = join(root, 'status');
    this.out = join(root, 'out');
  }

  ensure(): void {
    refuseLinkedAreas(this.root);
    for (const dir of [this.handoff, this.processed, this.failed, this.status]) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    // Temporaries (writeAtomic, failed copies) whose writer died before its rename. Only this
    // host's: replicas in other pods share these directories, and their pids mean nothing here.
    for (const dir of [this.status, this.failed]) {
      for (const name of readdirSync(dir)) {
        const pid = ownTemporaryPid(name);
        if (pid !== undefined && !processAlive(pid)) rmSync(join(dir, name), { force: true });
      }
    }
  }

  /**
   * Reads one entry of `dir` (handoff/ by default) by base name, refusing anything that is not
   * a regular file within `maxBytes` — without opening it when lstat already says so, and with
   * O_NOFOLLOW | O_NONBLOCK when opening, so a swapped-in link or FIFO can neither redirect nor
   * block the read.
   */
  async read(name: string, maxBytes: number, dir = this.handoff): Promise<ReadResult> {
    if (!isPlainName(name)) return refused(name, 'the name is not a plain file name', 'path-traversal');
    const path = join(dir, name);
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
      throw error;
    }
    const special = specialKind(stats);
    if (special !== undefined) return refused(name, `a ${special} is not an intent file; it was not opened`, special);
    if (stats.size > maxBytes) return refused(name, `the file has ${stats.size} bytes, more than the limit of ${maxBytes}`, 'oversize');
    let fd: number;
    try {
      fd = openSync(path, READ_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { kind: 'gone' };
      if (code === 'ELOOP') return refused(name, 'a symbolic link is not an intent file; it was not followed', 'symlink');
      throw error;
    }
    try {
      const opened = fstatSync(fd);
      const kind = specialKind(opened);
      if (kind !== undefined) return refused(name, `a ${kind} is not an intent file`, kind);
      if (opened.size > maxBytes) return refused(name, `the file has ${opened.size} bytes, more than the limit of ${maxBytes}`, 'oversize');
      const buffer = Buffer.allocUnsafe(Math.min(opened.size, maxBytes) + 1);
      let length = 0;
      for (;;) {
        const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) return refused(name, `the file grew past the limit of ${maxBytes} bytes while being read`, 'oversize');
      }
      const bytes = buffer.subarray(0, length);
      return { kind: 'read', bytes, identity: { ...identityOf(opened), digest: digestOf(bytes) } };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Gives an entry of handoff/ whose name is not valid UTF-8 (`raw`, as readdir returned it) a
   * name a string can hold: each bad byte becomes U+FFFD, with a `.<n>` suffix when that name
   * is taken (never overwriting). Returns the new name.
   */
  async renameUnreadable(raw: Buffer): Promise<string> {
    const lossy = raw.toString('utf8');
    const source = Buffer.concat([Buffer.from(`${this.handoff}/`), raw]);
    const directory = (await fs.lstat(source)).isDirectory();
    for (let n = 0; n < 10_000; n += 1) {
      const target = n === 0 ? lossy : fittedName(stemOf(lossy), `.${n}${lossy.endsWith('.json') ? '.json' : ''}`);
      const destination = join(this.handoff, target);
      if (await exists(destination)) continue;
      if (directory) {
        await fs.rename(source, destination);
        return target;
      }
      try {
        await fs.link(source, destination);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      await fs.unlink(source);
      return target;
    }
    throw new ConductorError('CND_ERR_INTERNAL', `no free name for ${lossy} in ${this.handoff}`);
  }

  /** True when the entry in handoff/ is still the one that was read. */
  async unchanged(name: string, identity: FileIdentity): Promise<boolean> {
    try {
      const now = identityOf(lstatSync(join(this.handoff, name)));
      if (!(now.ino === identity.ino && now.dev === identity.dev && now.size === identity.size && now.mtimeMs === identity.mtimeMs))
        return false;
      if (identity.digest === undefined) return true;
      const again = await this.read(name, identity.size);
      return again.kind === 'read' && digestOf(again.bytes) === identity.digest;
    } catch {
      return false;
    }
  }

  async writeStatus(outcome: Outcome): Promise<void> {
    const status = {
      file: outcome.file,
      intentId: outcome.intentId,
      status: outcome.status,
      stage: outcome.stage,
      message: outcome.message,
      attempts: outcome.attempts,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      ...(outcome.code === undefined ? {} : { code: outcome.code }),
      ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }),
      ...(outcome.traceId === undefined ? {} : { traceId: outcome.traceId }),
    };
    await writeAtomic(join(this.status, statusNameOf(outcome.file)), `${JSON.stringify(status, null, 2)}\n`);
  }

  /**
   * Moves the entry of a terminal intent out of `from` (handoff/ by default): to processed/, or
   * to failed/ beside its `<stem>.error.json` (written first, so a crash never leaves a failure
   * without its reason). Returns the name it now has.
   */
  async moveOut(name: string, outcome: Outcome, from = this.handoff, failedBytes?: Uint8Array): Promise<string> {
    if (outcome.status !== 'failed') return this.#moveUnique(join(from, name), this.processed, name);
    const record = errorRecordOf(outcome);
    const writeRecord = async (target: string) => {
      await writeAtomic(join(this.failed, errorNameOf(target)), `${JSON.stringify(record, null, 2)}\n`);
    };
    if (failedBytes !== undefined) return this.#copyUnique(join(from, name), failedBytes, name, writeRecord);
    return this.#moveUnique(join(from, name), this.failed, name, writeRecord);
  }

  /**
   * Writes `bytes` (what was read and failed) into failed/ under a free name, then removes the
   * original: a producer still writing into the original cannot change the failed copy.
   */
  async #copyUnique(source: string, bytes: Uint8Array, name: string, before: (target: string) => Promise<void>): Promise<string> {
    const temporary = join(this.failed, temporaryName());
    writeFileSync(temporary, bytes, { flag: 'wx' });
    try {
      const mtime = lstatSync(source).mtime;
      utimesSync(temporary, mtime, mtime);
    } catch {
      // The original's time is a courtesy; the bytes are what matters.
    }
    try {
      return await this.#moveUnique(temporary, this.failed, name, before, () => unlinkSync(source));
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  async #moveUnique(
    source: string,
    dir: string,
    name: string,
    before?: (target: string) => Promise<void>,
    /** For a copy (`source` a temporary): removes the original once the copy has its name. */
    removeOriginal?: () => void,
  ): Promise<string> {
    const stats = lstatSync(source);
    for (let n = 0; n < 10_000; n += 1) {
      const target = n === 0 ? name : fittedName(stemOf(name), `.${n}${name.endsWith('.json') ? '.json' : ''}`);
      const destination = join(dir, target);
      const sidecarTaken = before !== undefined && (await exists(join(dir, errorNameOf(target))));
      if (sidecarTaken || (await exists(destination))) {
        // A move cut short between link and unlink left this very file under the name (for a copy,
        // the same bytes): finish it.
        if (!stats.isDirectory() && (sameFile(destination, stats) || (removeOriginal !== undefined && sameBytes(destination, source)))) {
          unlinkSync(source);
          removeOriginal?.();
          return target;
        }
        continue;
      }
      await before?.(target);
      crashPoint('move-out.before-link');
      if (stats.isDirectory()) {
        renameSync(source, destination);
        return target;
      }
      try {
        // link + unlink never replaces an existing name, unlike rename.
        linkSync(source, destination);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        // A file this process may not link (another user's unreadable file, with the kernel's
        // protected_hardlinks): renamed instead, the name having just been found free.
        if (code !== 'EPERM') throw error;
        renameSync(source, destination);
        restrictMovedOutFile(destination);
        removeOriginal?.();
        return target;
      }
      crashPoint('move-out.linked');
      unlinkSync(source);
      restrictMovedOutFile(destination);
      removeOriginal?.();
      return target;
    }
    throw new ConductorError('CND_ERR_INTERNAL', `no free name for ${name} in ${dir}`);
  }
}

/** The `<stem>.error.json` beside a failed entry (docs/architecture.md §Data directory). */
export function errorRecordOf(outcome: Outcome): ErrorRecord {
  return {
    file: outcome.file,
    intentId: outcome.intentId,
    stage: outcome.stage,
    code: outcome.code ?? 'CND_ERR_INTERNAL',
    message: outcome.message,
    attempts: outcome.attempts,
    failedAt: outcome.finishedAt,
    ...(outcome.plugin === undefined ? {} : { plugin: outcome.plugin }),
    ...(outcome.traceId === undefined ? {} : { traceId: outcome.traceId }),
  };
}

/** The longest file name Linux file systems take, in bytes. */
const NAME_MAX = 255;

/**
 * `<stem><suffix>`, or, when that would be longer than NAME_MAX bytes, the stem cut short and
 * marked with a hash of the whole stem: a 255-byte intent name still gets its own sidecars.
 */
export function fittedName(stem: string, suffix: string): string {
  const room = NAME_MAX - Buffer.byteLength(suffix);
  if (Buffer.byteLength(stem) <= room) return `${stem}${suffix}`;
  const mark = `~${createHash('sha256').update(stem).digest('hex').slice(0, 16)}`;
  const chars = [...stem];
  while (Buffer.byteLength(chars.join('')) > room - mark.length) chars.pop();
  return `${chars.join('')}${mark}${suffix}`;
}

/** `status/<stem>.status.json`, fitted to NAME_MAX. */
export const statusNameOf = (file: string): string => fittedName(stemOf(file), '.status.json');
/** `failed/<stem>.error.json`, fitted to NAME_MAX. */
export const errorNameOf = (file: string): string => fittedName(stemOf(file), '.error.json');

export function isPlainName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function identityOf(stats: Stats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

function specialKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  return 'device';
}

function refused(name: string, message: string, securityEvent: string): ReadResult {
  return {
    kind: 'refused',
    error: new ConductorError('CND_ERR_FILE_REJECTED', `${name}: ${message}`, { stage: 'source', details: { securityEvent } }),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export async function writeAtomic(path: string, content: string): Promise<void> {
  // Short, beside the target: the target's own name may already be NAME_MAX bytes long.
  const temporary = join(dirname(path), temporaryName());
  writeFileSync(temporary, content, { mode: FILE_MODE });
  crashPoint('file.temp-written');
  renameSync(temporary, path);
}

/** The areas of a data directory Conductor writes in or deletes from (docs/architecture.md §Data directory). */
export const DATA_DIR_AREAS = ['handoff', 'processed', 'failed', 'status', 'out', 'audit', 'state'] as const;

/**
 * Refuses a data directory one of whose areas is a symbolic link: every write, move and
 * retention deletion would go through it to wherever it points. The data directory itself may
 * be a link (a mount point elsewhere); what is in it may not.
 */
export function refuseLinkedAreas(root: string): void {
  for (const area of DATA_DIR_AREAS) {
    let linked = false;
    try {
      linked = lstatSync(join(root, area)).isSymbolicLink();
    } catch {
      continue; // Absent: created as a plain directory.
    }
    if (linked) {
      throw new ConductorError(
        'CND_ERR_DATA_DIR_UNSAFE',
        `${join(root, area)} is a symbolic link: Conductor would write and delete through it outside the data directory; make ${area}/ a plain directory`,
        { path: join(root, area) },
      );
    }
  }
}

/** `.tmp-<host>-<pid>-<random>`: who wrote it, so that a restart can tell its own leftovers. */
function temporaryName(): string {
  return `.tmp-${HOST_TAG}-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/** The host, as a name segment (a pod's name in Kubernetes). */
const HOST_TAG = hostname().replace(/[^A-Za-z0-9_.]/g, '_');

/** The writer's pid when a temporary was written on this host, else undefined. */
function ownTemporaryPid(name: string): number | undefined {
  const prefix = `.tmp-${HOST_TAG}-`;
  if (!name.startsWith(prefix)) return undefined;
  const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
  return pid === undefined ? undefined : Number(pid);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sameFile(path: string, stats: Stats): boolean {
  const other = lstatSync(path, { throwIfNoEntry: false });
  return other !== undefined && other.ino === stats.ino && other.dev === stats.dev;
}

function sameBytes(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}
