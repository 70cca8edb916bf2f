// A config file is code: a .ts/.js config runs when it is loaded, a plugin module named under
// `modules` too, and even a JSON config chooses which modules run and where intents go. Whoever
// can write one runs code as Conductor. So a config file or local plugin module must be owned by
// this user or root and writable by no one else, nor be replaceable through its directory. A
// file on a read-only mount (a Kubernetes ConfigMap) cannot be written whatever its bits say,
// and a file of Conductor's own installation (the embedded default config, the examples) is as
// trusted as the code beside it: whoever can write there can change Conductor itself.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const INSTALLATION = fileURLToPath(new URL('../../', import.meta.url));

const GROUP_OR_WORLD_WRITE = 0o022;
const STICKY = 0o1000;

/** Why `path` is not safe to load as config or code, or undefined when it is. */
export function unsafeFileProblem(path: string): string | undefined {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return undefined; // A missing file is reported by whoever loads it.
  }
  if (path.startsWith(INSTALLATION.endsWith(sep) ? INSTALLATION : `${INSTALLATION}${sep}`) || readOnlyMount(path)) return undefined;
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
    return `${path} is owned by uid ${stats.uid}, not by this user (${uid}) or root: another user could change the code Conductor runs`;
  }
  if ((stats.mode & GROUP_OR_WORLD_WRITE) !== 0) {
    return `${path} is writable by its group or by anyone (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}): another user could change the code Conductor runs; chmod go-w it`;
  }
  const dir = dirname(path);
  const dirStats = statSync(dir);
  if ((dirStats.mode & GROUP_OR_WORLD_WRITE) !== 0 && (dirStats.mode & STICKY) === 0) {
    return `${path} is in ${dir}, which is writable by its group or by anyone (mode ${(dirStats.mode & 0o777).toString(8).padStart(4, '0')}): another user could replace the file; chmod go-w the directory`;
  }
  return undefined;
}

function readOnlyMount(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}
