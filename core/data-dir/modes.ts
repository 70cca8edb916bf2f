// What Conductor writes is for Conductor: the ledger, the audit log, status and error records,
// settled intents, backups and the repository name intents, files and outcomes. Created under
// the usual umask (022) they were readable by every user of the machine. The CLI sets an
// owner-only umask before it creates anything, and the few places that create files with an
// explicit mode use these.
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync } from 'node:fs';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
const OWNER_ONLY_UMASK = 0o077;

/** Owner-only modes for everything this process creates from now on (the main thread only). */
export function restrictCreatedFileModes(): void {
  process.umask(OWNER_ONLY_UMASK);
}

/**
 * A file moved out of handoff/ keeps the mode its producer gave it (a move is a link); it is
 * made owner-only once it is Conductor's. Only a regular file, through a descriptor that does not
 * follow a link (a moved entry may be a symlink: chmod would change what it points to) and
 * does not block on a FIFO. A file owned by another user cannot be changed: left as is.
 */
export function restrictMovedOutFile(path: string): void {
  let fd: number;
  try {
    // Never opened unless it is a regular file: opening a device can have effects of its own.
    if (!lstatSync(path).isFile()) return;
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return; // A link (ELOOP), gone, or unreadable: nothing of ours to restrict.
  }
  try {
    if (fstatSync(fd).isFile()) fchmodSync(fd, FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  } finally {
    closeSync(fd);
  }
}
