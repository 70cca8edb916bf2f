// Writing files so that a crash never leaves a torn one: the content goes to a temporary name
// and is renamed into place (rename is atomic), so a reader finds the old file or the new one.
// With `full` durability the content is also fsynced before the rename and the directory after
// it, so the file survives a power loss too; without it, the page cache holds it until the
// kernel writes it back (it survives a process crash, not necessarily a power loss).
import { promises as fs, closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { crashPoint, type CrashPointName } from '../../core/index.ts';

export interface Durability {
  /** fsync files and their directories before an effect is acknowledged. */
  readonly full: boolean;
  /** Directories whose entries changed, fsynced together by `flush` (once each). */
  readonly dirs: Set<string>;
}

export function durability(full: boolean): Durability {
  return { full, dirs: new Set() };
}

/** The temporary name for `path`: the suffix start removes when the process that wrote it died mid-way. */
export function temporaryName(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/** Writes `data` to `temporary` (fsynced with full durability), then renames it to `path`. */
export interface WriteOptions {
  durability?: Durability;
  /** The file's permission bits (the umask still applies). */
  mode?: number;
  /** The directory that gains the entry, fsynced by `flush` with full durability. */
  dir?: string;
  /** Test-only: the crash point between the temporary file and its rename (core/delivery/crash-points.ts). */
  crashPoint?: CrashPointName;
}

export function writeThenRename(temporary: string, path: string, data: Uint8Array | string, options: WriteOptions = {}): void {
  const fd = openSync(temporary, 'wx', options.mode ?? 0o644);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    if (options.durability?.full) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (options.crashPoint !== undefined) crashPoint(options.crashPoint);
  renameSync(temporary, path);
  if (options.durability?.full && options.dir !== undefined) options.durability.dirs.add(options.dir);
}

/**
 * The same, asynchronous: for working-tree files, whose rename over an existing file can wait
 * on the disk (ext4 starts writing the new data back), which should not stall the event loop.
 */
export async function writeThenRenameAsync(temporary: string, path: string, data: string, options: WriteOptions = {}): Promise<void> {
  const handle = await fs.open(temporary, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    if (options.durability?.full) await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, path);
  if (options.durability?.full && options.dir !== undefined) options.durability.dirs.add(options.dir);
}

/** fsyncs the directories noted since the last flush (their new entries become durable). */
export function flush(durability: Durability): void {
  if (!durability.full) return;
  for (const dir of durability.dirs) fsyncDirectory(dir);
  durability.dirs.clear();
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
