// Writes a backup of a data directory that a running `conductor run` keeps changing, without
// stopping it or taking its lock. Each file is read once, hashed as it is archived, and listed
// in the manifest with that hash.
//
// Why the copy is consistent. A file leaves handoff/ only after its intent reached a terminal
// state: the ledger says `succeeded` only after the sink returned (for git: after the branch
// moved to the commit), and the file moves only after that. The backup therefore reads, in order:
//
//   1. the ledger (one SQLite read transaction, VACUUM INTO);
//   2. handoff/;
//   3. the repository's refs, then its objects (see gitSources);
//   4. processed/, failed/, status/, audit/ (a log's `.head` checkpoint before the log).
//
// An intent whose file was gone from handoff/ when (2) read it had been committed before, so the
// refs read in (3) reach its commit: it is not lost. A ledger that says `succeeded` was read in
// (1), before (3), so the commit it speaks of is in the copied history: after a restore, the
// ledger never claims a commit the repository lacks. Whatever changed after its step was read
// is simply newer than the backup; after a restore it is either in handoff/ (offered again; the
// sink recognises a commit it already has by its Conductor-Intent-Id trailer) or not in the
// backup at all.
import { createReadStream, createWriteStream, promises as fs, constants } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { ConductorError } from '../errors.ts';
import { CONDUCTOR_VERSION } from '../version.ts';
import { areaSources, gitSources, modeOf, snapshotLedger, type GitState, type Source } from './collect.ts';
import {
  LEDGER_MEMBER,
  MANIFEST_MEMBER,
  MANIFEST_SUM_MEMBER,
  MARKER_MEMBER,
  markerNow,
  type Manifest,
  type ManifestEntry,
} from './format.ts';
import { TAR_END, fileHeader, padding } from './tar.ts';

export interface BackupOptions {
  dataDir: string;
  /** Where the ledger is (`config.stateDir`). */
  stateDir: string;
  destination: Writable;
  /** False for standard output, which must not be closed. */
  endDestination: boolean;
  /** A directory for the temporary ledger snapshot (not one the backup carries). */
  scratchDir: string;
}

const CHUNK = 256 * 1024;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

type Copied = 'copied' | 'vanished' | { skipped: string };

export async function writeBackup(options: BackupOptions): Promise<Manifest> {
  const writer = new BackupWriter(options);
  // The manifest comes before the members it lists, so that a restore can hold each member to
  // it as it streams (its size, the count, the total) and stop at the first excess. Its
  // checksums are of bytes hashed while they are archived, so the data members are compressed
  // into a private spool file first; the archive is then the leading members (one gzip member)
  // followed by the spool (another): a gzip stream may hold several members, read as one.
  const spool = join(options.scratchDir, `.conductor-backup-spool-${process.pid}-${randomBytes(4).toString('hex')}.gz`);
  try {
    await pipeline(() => writer.dataMembers(), createGzip(), createWriteStream(spool, { flags: 'wx', mode: 0o600 }));
    async function* archive(): AsyncGenerator<Buffer> {
      const head: Buffer[] = [];
      for await (const block of writer.leadingMembers()) head.push(block);
      yield gzipSync(Buffer.concat(head));
      yield* createReadStream(spool) as AsyncIterable<Buffer>;
    }
    await pipeline(archive, options.destination, { end: options.endDestination });
  } finally {
    await fs.rm(spool, { force: true });
  }
  if (writer.manifest === undefined) throw new ConductorError('CND_ERR_INTERNAL', 'the backup ended before its manifest was written');
  return writer.manifest;
}

/** The archive's members as tar blocks, and the manifest that lists what they held. */
class BackupWriter {
  readonly #options: BackupOptions;
  readonly #marker = markerNow(CONDUCTOR_VERSION);
  readonly #files: ManifestEntry[] = [];
  readonly #skipped: Manifest['skipped'] = [];
  #vanished = 0;
  #ledger: Manifest['ledger'] = null;
  #git: GitState | null = null;
  manifest: Manifest | undefined;

  constructor(options: BackupOptions) {
    this.#options = options;
  }

  /** Every data member, in the order that makes the copy consistent (see above), and the tar end. */
  async *dataMembers(): AsyncGenerator<Buffer> {
    const { dataDir } = this.#options;
    // 1. The ledger, before anything whose state it describes.
    yield* this.#ledgerSnapshot();
    // 2. The inbox. 3. The repository (refs, then objects). 4. The rest.
    yield* this.#copyAll(areaSources(dataDir, 'handoff'));
    yield* this.#copyAll(gitSources(dataDir, (state) => (this.#git = state)));
    for (const area of ['processed', 'failed', 'status'] as const) yield* this.#copyAll(areaSources(dataDir, area));
    // The audit log's checkpoint is rewritten after each line is appended: read before the log,
    // it never claims a record the copied log does not have.
    yield* this.#copyAll(areaSources(dataDir, 'audit', (relative) => relative.endsWith('.head')));
    yield TAR_END;
  }

  /** The marker, the manifest and its checksum: the archive's first three members. */
  async *leadingMembers(): AsyncGenerator<Buffer> {
    const marker = this.#marker;
    yield* this.#bytesMember(MARKER_MEMBER, json(marker), 0o644, Date.parse(marker.createdAt));
    const listing = { files: this.#files, skipped: this.#skipped, vanished: this.#vanished };
    this.manifest = { ...marker, ledger: this.#ledger, git: this.#git, ...listing };
    const manifestBytes = json(this.manifest);
    const now = Date.now();
    yield* this.#bytesMember(MANIFEST_MEMBER, manifestBytes, 0o644, now, false);
    yield* this.#bytesMember(MANIFEST_SUM_MEMBER, Buffer.from(`${sha256(manifestBytes)}  ${MANIFEST_MEMBER}\n`), 0o644, now, false);
  }

  async *#ledgerSnapshot(): AsyncGenerator<Buffer> {
    const { scratchDir, stateDir } = this.#options;
    const scratchLedger = join(scratchDir, `.conductor-backup-ledger-${process.pid}-${randomBytes(4).toString('hex')}.sqlite`);
    try {
      this.#ledger = snapshotLedger(join(stateDir, 'ledger.sqlite'), scratchLedger) ?? null;
      if (this.#ledger !== null) {
        const copied = yield* this.#fileMember(LEDGER_MEMBER, scratchLedger);
        if (copied !== 'copied') throw new ConductorError('CND_ERR_BACKUP', 'the ledger snapshot vanished before it was archived');
      }
    } finally {
      await fs.rm(scratchLedger, { force: true });
    }
  }

  async *#copyAll(sources: AsyncIterable<Source>): AsyncGenerator<Buffer> {
    for await (const source of sources) {
      if (source.kind === 'bytes') {
        yield* this.#bytesMember(source.member, source.bytes, source.mode, source.mtimeMs);
        continue;
      }
      const result = yield* this.#fileMember(source.member, source.path);
      if (result === 'vanished') this.#vanished += 1;
      else if (result !== 'copied') this.#skipped.push({ path: source.member, reason: result.skipped });
    }
  }

  async *#bytesMember(member: string, bytes: Buffer, mode: number, mtimeMs: number, listed = true): AsyncGenerator<Buffer> {
    yield fileHeader(member, bytes.length, mode, mtimeMs);
    yield bytes;
    const pad = padding(bytes.length);
    if (pad.length > 0) yield pad;
    if (listed) this.#files.push({ path: member, size: bytes.length, sha256: sha256(bytes), mode, mtimeMs });
  }

  /** Reads the file once through a descriptor that cannot follow a link or block on a FIFO. */
  async *#fileMember(member: string, path: string): AsyncGenerator<Buffer, Copied> {
    const opened = await openPlainFile(path);
    if (opened === 'vanished' || 'skipped' in opened) return opened;
    const { handle } = opened;
    try {
      const stats = await handle.stat();
      const kind = specialKind(stats);
      if (kind !== undefined) return { skipped: `a ${kind} is not copied` };
      // The size at open is what is archived: a log that grows meanwhile is cut at a line it
      // had then; no writer here shrinks a file, so reading less is an error.
      const size = stats.size;
      const hash = createHash('sha256');
      yield fileHeader(member, size, modeOf(stats), stats.mtimeMs);
      for (let offset = 0; offset < size;) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - offset));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
        if (bytesRead === 0) {
          throw new ConductorError(
            'CND_ERR_BACKUP',
            `${member} shrank from ${size} to ${offset} bytes while it was read; take the backup again`,
          );
        }
        const piece = chunk.subarray(0, bytesRead);
        hash.update(piece);
        offset += bytesRead;
        yield piece;
      }
      const pad = padding(size);
      if (pad.length > 0) yield pad;
      this.#files.push({ path: member, size, sha256: hash.digest('hex'), mode: modeOf(stats), mtimeMs: stats.mtimeMs });
      return 'copied';
    } finally {
      await handle.close();
    }
  }
}

/** Opens a regular file for reading; anything else (a link, a FIFO, a directory) is skipped, not opened. */
async function openPlainFile(path: string): Promise<{ handle: fs.FileHandle } | Exclude<Copied, 'copied'>> {
  try {
    const kind = specialKind(await fs.lstat(path));
    if (kind !== undefined) return { skipped: `a ${kind} is not copied` };
    return { handle: await fs.open(path, READ_FLAGS) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'vanished';
    if (code === 'ELOOP') return { skipped: 'a symlink is not copied' };
    throw error;
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 1)}\n`);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function specialKind(stats: {
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
}): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isDirectory()) return 'directory';
  return 'device';
}
