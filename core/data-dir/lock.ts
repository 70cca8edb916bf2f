// One process owns a data directory (DESIGN §3). The lock file names its owner (host, pid)
// and is touched while held; it is stale when its owner is a dead process on this host, or
// when it has not been touched for `staleMs` (an owner on another host that died). A second
// process by accident is refused with a message naming the owner.
import { closeSync, openSync, readFileSync, rmSync, utimesSync, writeSync, statSync } from 'node:fs';
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
    for (let tries = 0; tries < 2; tries += 1) {
      try {
        const fd = openSync(this.path, 'wx');
        const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
        writeSync(fd, JSON.stringify(owner));
        closeSync(fd);
        this.#held = true;
        this.#timer = setInterval(() => this.#touch(), Math.max(1_000, Math.floor(this.#staleMs / 3)));
        this.#timer.unref();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = this.#owner();
        if (owner !== undefined && !this.#isStale(owner)) {
          throw new ConductorError(
            'CND_ERR_LOCKED',
            `the data directory is in use by process ${owner.pid} on ${owner.host} since ${owner.since} (lock ${this.path}); ` +
              'run one Conductor per data directory, or use the redis-coordination plugin for replicas',
            { details: { ...owner } },
          );
        }
        rmSync(this.path, { force: true });
      }
    }
    throw new ConductorError('CND_ERR_LOCKED', `could not take the lock ${this.path}`);
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

  #owner(): LockOwner | undefined {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as LockOwner;
    } catch {
      return undefined;
    }
  }

  #isStale(owner: LockOwner): boolean {
    if (owner.host === hostname()) {
      if (owner.pid === process.pid) return true;
      try {
        process.kill(owner.pid, 0);
        return false;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    try {
      return Date.now() - statSync(this.path).mtimeMs > this.#staleMs;
    } catch {
      return true;
    }
  }
}
