// What Conductor writes is for Conductor: the ledger, the audit log, status and error records,
// settled intents, backups and the repository name intents, files and outcomes. Created under
// the usual umask (022) they were readable by every user of the machine. The CLI sets an
// owner-only umask before it creates anything, and the few places that create files with an
// explicit mode use these.
import { chmodSync } from 'node:fs';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
const OWNER_ONLY_UMASK = 0o077;

/** Owner-only modes for everything this process creates from now on (the main thread only). */
export function restrictCreatedFileModes(): void {
  process.umask(OWNER_ONLY_UMASK);
}

/**
 * A settled intent keeps the mode its producer gave it (a move is a link); it is made
 * owner-only once it is Conductor's. A file owned by another user cannot be changed: left as is.
 */
export function restrictSettledFile(path: string): void {
  try {
    chmodSync(path, FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOENT') throw error;
  }
}
