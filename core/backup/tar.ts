// The tar side of the archive: header blocks for the writer, and a reader that stages each
// member to disk while hashing it. The `tar` package (npm's own, maintained with it) encodes and
// parses the blocks — ustar headers, pax records for long names, header checksums — and
// node:zlib does the gzip, so this module only decides which bytes go in and checks what comes
// out. The writer streams members itself instead of letting `tar` read files from disk, because
// the checksum in the manifest must be of exactly the bytes that went into the archive, read
// once, while files keep changing.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Header, Parser, Pax, type ReadEntry } from 'tar';

const BLOCK = 512;

/**
 * Two empty blocks end a tar archive; more follow, as tar's own record padding does. zlib checks
 * the gzip checksum only at the end of the stream, and a reader loses the output of the call that
 * fails it (up to 16 KiB): with 32 KiB of zeros last, what is lost is padding, and the manifest
 * has been read — so a flipped byte that only the gzip checksum catches can still be traced to
 * its member by the member checksums.
 */
export const TAR_END = Buffer.alloc(64 * BLOCK);

/** The header block(s) of a regular file member: a pax record first when the name needs it. */
export function fileHeader(path: string, size: number, mode: number, mtimeMs: number): Buffer {
  // Whole seconds in the ustar header; the exact mtime travels in the manifest.
  const mtime = new Date(Math.floor(mtimeMs / 1000) * 1000);
  const header = new Header({ path, mode, size, mtime, type: 'File', uid: 0, gid: 0, uname: '', gname: '' });
  const needsPax = header.encode();
  if (header.block === undefined) throw new Error(`cannot encode a tar header for ${path}`);
  return needsPax ? Buffer.concat([new Pax({ path, size, mtime }).encode(), header.block]) : header.block;
}

/** Zero bytes that round a member's body up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

export interface StagedMember {
  path: string;
  size: number;
  sha256: string;
  /** Where its bytes were written. */
  file: string;
}

export interface ReadOptions {
  /** Members are written under this directory, by their (checked) names. */
  stagingDir: string;
  /**
   * Why a member is refused (the reader stops at once, before a byte of it is written), or
   * undefined to accept it; may throw. `size` is what its header says: the parser never yields
   * more than that.
   */
  refuseName(path: string, index: number, size: number): string | undefined;
  /** Called with each complete member, in order; may throw to stop reading. */
  onMember?(member: StagedMember, index: number): void;
}

/** Where reading stopped, so that an error can name the member the damage was found in. */
export class ArchiveReadError extends Error {
  /** The member being read when it happened. */
  readonly member: string | undefined;
  /** The last member read whole before it happened. */
  readonly after: string | undefined;
  /** Which layer refused: the compressed stream, or the tar blocks inside it. */
  readonly layer: 'gzip' | 'tar';
  /** The members read whole before it happened (their checksums may tell more). */
  readonly members: readonly StagedMember[];
  /** How many bytes of the archive had been read (0: the input was empty). */
  readonly bytesRead: number;
  constructor(
    message: string,
    where: { member?: string | undefined; members: readonly StagedMember[]; layer: 'gzip' | 'tar'; bytesRead: number },
  ) {
    super(message);
    this.member = where.member;
    this.members = where.members;
    this.after = where.members.at(-1)?.path;
    this.layer = where.layer;
    this.bytesRead = where.bytesRead;
  }
}

/**
 * Reads a gzip-compressed tar from `input`, writing each member under the staging directory and
 * hashing it on the way. Strict: a header that fails its checksum, a cut-off archive or a corrupt
 * compressed stream is an error, reported with the member it was found in. The stream is
 * decompressed here, and every byte it yields handed to the tar parser at once, so that when it
 * breaks, everything before the break has been parsed and the error can say where it was.
 */
export async function readArchive(input: Readable, options: ReadOptions): Promise<StagedMember[]> {
  const members: StagedMember[] = [];
  let current: { path: string; fd: number; hash: ReturnType<typeof createHash>; size: number } | undefined;
  let refusal: Error | undefined;
  let bytesRead = 0;
  const parser = new Parser({ strict: true });

  const stop = (error: Error) => {
    refusal ??= error;
    parser.abort(error);
  };

  parser.on('entry', (entry: ReadEntry) => {
    if (refusal !== undefined) return entry.resume();
    const index = members.length;
    let problem: string | undefined;
    try {
      problem =
        entry.type !== 'File' ? `a ${entry.type} entry is not a file member` : options.refuseName(entry.path, index, entry.size ?? 0);
    } catch (error) {
      entry.resume();
      return stop(error as Error);
    }
    if (problem !== undefined) {
      entry.resume();
      return stop(
        new ArchiveReadError(`unexpected member ${entry.path}: ${problem}`, { member: entry.path, members, layer: 'tar', bytesRead }),
      );
    }
    const file = join(options.stagingDir, entry.path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let fd: number;
    try {
      // 'wx': a name seen twice is refused rather than overwritten.
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      entry.resume();
      const code = (error as NodeJS.ErrnoException).code;
      const message = code === 'EEXIST' ? `member ${entry.path} appears twice` : (error as Error).message;
      return stop(new ArchiveReadError(message, { member: entry.path, members, layer: 'tar', bytesRead }));
    }
    current = { path: entry.path, fd, hash: createHash('sha256'), size: 0 };
    const member = current;
    entry.on('data', (chunk: Buffer) => {
      member.hash.update(chunk);
      member.size += chunk.length;
      writeSync(member.fd, chunk);
    });
    entry.on('end', () => {
      closeSync(member.fd);
      if (current === member) current = undefined;
      const done: StagedMember = { path: member.path, size: member.size, sha256: member.hash.digest('hex'), file };
      members.push(done);
      try {
        options.onMember?.(done, index);
      } catch (error) {
        stop(error as Error);
      }
    });
  });

  const failure = await feedParser(input, parser, (chunk) => (bytesRead += chunk.length));

  if (current !== undefined) closeSync(current.fd);
  // A refusal of ours (a bad name, a foreign marker) is the cause; tar only reports the abort.
  if (refusal !== undefined) throw refusal;
  if (failure !== undefined) {
    throw new ArchiveReadError(describeError(failure.error), { member: current?.path, members, layer: failure.layer, bytesRead });
  }
  return members;
}

type ReadFailure = { error: Error; layer: 'gzip' | 'tar' };

/**
 * Decompresses `input` into the tar parser until the parser ends or either layer fails; `count`
 * sees every compressed byte read. A refused archive is not decompressed to its end.
 */
function feedParser(input: Readable, parser: Parser, count: (chunk: Buffer) => void): Promise<ReadFailure | undefined> {
  return new Promise<ReadFailure | undefined>((resolve) => {
    const gunzip = createGunzip();
    let finished = false;
    const finish = (result: ReadFailure | undefined) => {
      if (finished) return;
      finished = true;
      // Stop reading: a refused archive is not decompressed to its end (the counter below
      // would otherwise keep the input flowing).
      input.off('data', count);
      input.unpipe(gunzip);
      input.pause();
      gunzip.destroy();
      resolve(result);
    };
    parser.on('error', (error: Error) => finish({ error, layer: 'tar' }));
    parser.on('end', () => finish(undefined));
    gunzip.on('error', (error: Error) => finish({ error, layer: 'gzip' }));
    input.on('error', (error: Error) => finish({ error, layer: 'gzip' }));
    input.on('data', count);
    gunzip.on('data', (chunk: Buffer) => {
      if (!finished && parser.write(chunk) === false) {
        gunzip.pause();
        parser.once('drain', () => gunzip.resume());
      }
    });
    gunzip.on('end', () => {
      if (!finished) parser.end();
    });
    input.pipe(gunzip);
  });
}

function describeError(error: Error): string {
  const code = (error as { code?: string }).code;
  const message = error.message.replace(/^TAR_[A-Z_]+: /, '');
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
