// One process owns a data directory (docs/architecture.md §Scale-out). The lock file names its owner (host, pid)
// and is touched while held; it is stale when its owner is a dead process on this host, or
// when it has not been touched for `staleMs` (an owner on another host that died). A second
// process by accident is refused with a message naming the owner.
//
// The file comes into being with its owner already in it: the owner is written to a private
// temporary file that is then hard-linked to the lock's name (link() fails if the name exists),
// so no other process can ever see the lock without an owner. A stale lock is taken over by
// renaming it aside first: of two processes that judged it stale, only one moves it, and the
// one that moved something else (a lock taken meanwhile) puts it back.
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConductorError } from '../errors.ts';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

export class DataDirLock {
  readonly path: string;
  readonly #staleMs: number;
  #timer: NodeJS.Timeout | undefined;
  #held = false;

  constructor(path: string, options: { staleMs?: number } = {}) {
    this.path = path;
    this.#staleMs = options.staleMs ?? 30_000;
  }

  acquire(): void {
    for (let tries = 0; tries < 5; tries += 1) {
      if (this.#link()) {
        this.#removeLeftovers();
        this.#held = true;
        this.#timer = setInterval(() => this.#touch(), Math.max(1_000, Math.floor(this.#staleMs / 3)));
        this.#timer.unref();
        return;
      }
      const found = this.#read();
      if (found === undefined) continue; // gone meanwhile: try again
      if (found.owner === undefined) {
        // No readable owner: never written by this protocol (a lock of an older version being
        // written, or a file torn by a power loss). Only an old one is taken over.
        if (Date.now() - found.mtimeMs <= UNREADABLE_GRACE_MS) {
          throw new ConductorError('CND_ERR_LOCKED', `the lock ${this.path} is being taken by another process; try again`);
        }
      } else if (!this.#isStale(found.owner)) {
        const owner = found.owner;
        throw new ConductorError(
          'CND_ERR_LOCKED',
          `the data directory is in use by process ${owner.pid} on ${owner.host} since ${owner.since} (lock ${this.path}); ` +
            'run one Conductor per data directory, or use the redis-coordination plugin for replicas',
          { details: { ...owner } },
        );
      }
      this.#setAsideStale(found.ino, found.text);
    }
    throw new ConductorError('CND_ERR_LOCKED', `could not take the lock ${this.path}`);
  }

  /** Creates the lock file with this process as its owner, atomically; false when it exists. */
  #link(): boolean {
    const temporary = `${this.path}.${process.pid}-${randomBytes(6).toString('hex')}`;
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const fd = openSync(temporary, 'wx', 0o644);
    try {
      writeSync(fd, JSON.stringify(owner));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temporary, this.path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return false;
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  /** Temporary files of this protocol left by a process killed mid-way (its pid is dead). */
  #removeLeftovers(): void {
    const prefix = `${basename(this.path)}.`;
    for (const name of readdirSync(dirname(this.path))) {
      const match = LEFTOVER.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
      if (match === null || Number(match[1]) === process.pid || isAlive(Number(match[1]))) continue;
      rmSync(join(dirname(this.path), name), { force: true });
    }
  }

  /**
   * Removes the stale lock read as inode `ino` holding `text`. It is renamed aside first; if what
   * was moved is not that lock (another process took the lock since it was read — an inode
   * number alone may have been reused), it is put back.
   */
  #setAsideStale(ino: number, text: string): void {
    const aside = `${this.path}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      if (lstatSync(aside).ino === ino && readFileSync(aside, 'utf8') === text) return;
      linkSync(aside, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(aside, { force: true });
    }
  }

  release(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#held) rmSync(this.path, { force: true });
    this.#held = false;
  }

  #touch(): void {
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // The lock file vanished (someone removed it by hand); the next acquire decides.
    }
  }

  /** The lock as it is now: its inode, age and owner (undefined when unreadable); undefined when gone. */
  #read(): { ino: number; mtimeMs: number; text: string; owner: LockOwner | undefined } | undefined {
    let stats;
    let text: string;
    try {
      stats = lstatSync(this.path);
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return { ino: stats.ino, mtimeMs: stats.mtimeMs, text, owner: ownerOf(text) };
  }

  #isStale(owner: LockOwner): boolean {
    if (owner.host === hostname()) {
      if (owner.pid === process.pid) return true;
      return !isAlive(owner.pid);
    }
    try {
      return Date.now() - statSync(this.path).mtimeMs > this.#staleMs;
    } catch {
      return true;
    }
  }
}

/** `<pid>-<random>` (an owner being written) or `stale-<pid>-<random>` (a stale lock being removed). */
const LEFTOVER = /^(?:stale-)?(\d+)-[0-9a-f]{12}$/;

/** False only when no process has this pid on this host (EPERM: it exists, owned by another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A lock without a readable owner younger than this may still be being written by an older version. */
const UNREADABLE_GRACE_MS = 2_000;

function ownerOf(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null;
    if (value === null || typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { pid: value.pid, host: value.host, since: String(value.since) };
  } catch {
    return undefined;
  }
}
