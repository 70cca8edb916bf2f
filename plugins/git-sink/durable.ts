// Writing working-tree files so that a crash never leaves a torn one: the content goes to a
// temporary name and is renamed into place (rename is atomic), so a reader finds the old file or
// the new one. The repository itself is written by git fast-import (fast-import.ts), whose
// checkpoint renames packs into place and, with full sync, fsyncs them (git's core.fsync); the
// directories that gained entries are fsynced here (fsyncDirectory).
import { promises as fs, closeSync, fsyncSync, openSync } from 'node:fs';
import type { CrashPointName } from '../../core/index.ts';

export interface Durability {
  /** fsync files and their directories before an effect is acknowledged. */
  readonly full: boolean;
  /** Directories whose entries changed, to be fsynced (once each). */
  readonly dirs: Set<string>;
}

/** The temporary name for `path`: the suffix start removes when the process that wrote it died mid-way. */
export function temporaryName(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

export interface WriteOptions {
  durability?: Durability;
  /** The file's permission bits (the umask still applies). */
  mode?: number;
  /** The directory that gains the entry, noted in `durability.dirs` with full durability. */
  dir?: string;
  /** Test-only: the crash point between the temporary file and its rename (core/delivery/crash-points.ts). */
  crashPoint?: CrashPointName;
}

/**
 * Writes `data` to `temporary` (fsynced with full durability), then renames it to `path`;
 * asynchronous, since a rename over an existing file can wait on the disk (ext4 starts writing
 * the new data back), which should not stall the event loop.
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

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
