// The working tree, written without ever following a symlink: the repository's history (a
// restore, another writer, anyone who can write to the repository) may hold links pointing out
// of it, and `mkdir -p` or `writeFile` would follow them. Each segment below the repository root
// is checked with lstat — a directory must be a real directory, a file a regular file or
// absent — and a file is written under .git and renamed into place, which replaces a name
// rather than writing through it. A link in the way is refused, never replaced: the sink does
// not decide what someone else's link was for.
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryName, writeThenRenameAsync, type Durability } from './durable.ts';
import { crashPoint } from '../../core/index.ts';
import { RefusedPath } from './repo.ts';

/** Where working-tree files are staged before their rename (inside .git: never seen as untracked). */
export const STAGING_DIR = 'conductor-tmp';

/** Refuses a namespace, package name or file path segment that is not one plain name. */
export function checkSegment(segment: string, what: string): void {
  const problem =
    segment === ''
      ? 'is empty'
      : segment === '.' || segment === '..'
        ? `is "${segment}"`
        : segment.includes('/') || segment.includes('\\')
          ? 'contains a path separator'
          : segment.includes('\0')
            ? 'contains a NUL character'
            : segment.toLowerCase() === '.git'
              ? 'is ".git"'
              : undefined;
  if (problem !== undefined) throw new RefusedPath(`${what} ${JSON.stringify(segment)} ${problem}: it must be one plain path segment`);
}

/**
 * Checks that `segments` (relative to `root`) can be written without following a link: every
 * existing directory on the way is a real directory and the file, if present, a regular file.
 */
export function checkWritable(root: string, segments: readonly string[]): void {
  let path = root;
  for (const [i, segment] of segments.entries()) {
    path = join(path, segment);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return;
    const last = i === segments.length - 1;
    const shown = segments.slice(0, i + 1).join('/');
    if (stats.isSymbolicLink()) {
      throw new RefusedPath(`${shown} is a symbolic link in the working tree; Conductor never writes through links`);
    }
    if (!last && !stats.isDirectory()) throw new RefusedPath(`${shown} is not a directory in the working tree`);
    if (last && !stats.isFile()) throw new RefusedPath(`${shown} is not a regular file in the working tree`);
  }
}

/** Makes the directory under .git where working-tree files are staged; returns its path. */
export function makeStaging(gitDir: string): string {
  const staging = join(gitDir, STAGING_DIR);
  mkdirSync(staging, { recursive: true });
  return staging;
}

/**
 * Writes one working-tree file: directories created one at a time (each checked), the content
 * staged in `staging` (`makeStaging`) and renamed over the file, so a crash leaves the old or
 * the new content.
 */
export async function writeWorkingFile(
  root: string,
  staging: string,
  segments: readonly string[],
  content: string,
  executable: boolean,
  durable?: Durability,
): Promise<void> {
  let dir = root;
  for (const segment of segments.slice(0, -1)) {
    dir = join(dir, segment);
    let stats = lstatSync(dir, { throwIfNoEntry: false });
    if (stats === undefined) {
      try {
        mkdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      stats = lstatSync(dir);
    }
    // Made now or found: it must be a real directory (lstat: a link is never a directory here).
    if (!stats.isDirectory()) throw new RefusedPath(`${segments.join('/')}: ${segment} is not a directory in the working tree`);
  }
  crashPoint('git.worktree-dir-made');
  const file = join(dir, segments.at(-1)!);
  const existing = lstatSync(file, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isFile())
    throw new RefusedPath(`${segments.join('/')} is not a regular file in the working tree`);
  await writeThenRenameAsync(temporaryName(join(staging, segments.at(-1)!)), file, content, {
    mode: executable ? 0o755 : 0o644,
    dir,
    ...(durable === undefined ? {} : { durability: durable }),
  });
}

/** Removes staged working-tree files a killed writer left (call holding the writer lock). */
export function removeStaging(gitDir: string): void {
  rmSync(join(gitDir, STAGING_DIR), { recursive: true, force: true });
}
