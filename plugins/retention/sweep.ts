// One pass of retention over a directory of the data directory: removes the entries whose age
// is past the cutoff, a batch at a time, giving the event loop back between batches so intake
// never waits on a large directory. Age is the modification time: what `processed/` holds keeps
// the time its producer wrote it (a move does not change it), a status file the time of its
// last outcome, a failure the time its `.error.json` was written.
import { promises as fs, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export interface SweepOptions {
  /** Entries last modified before this time (ms since the epoch) are removed. */
  cutoff: number;
  batchSize: number;
  /** Checked between batches: a stopping service ends its sweep early. */
  stopping(): boolean;
}

const SIDECAR = '.error.json';

/** Removes old entries of processed/ or status/ by their own mtime; returns how many. */
export async function sweepByAge(dir: string, options: SweepOptions): Promise<number> {
  let removed = 0;
  await forEachBatch(dir, options, async (batch) => {
    for (const entry of batch) {
      const path = join(dir, entry.name);
      if ((await mtimeOf(path)) < options.cutoff && (await remove(path))) removed += 1;
    }
  });
  return removed;
}

/**
 * Removes old entries of failed/: an original and its `<stem>.error.json` go together, aged by
 * the error record (when the failure happened), so that a reason never outlives or predates its
 * file. An error record whose original is gone is aged on its own.
 */
export async function sweepFailed(dir: string, options: SweepOptions): Promise<number> {
  let removed = 0;
  await forEachBatch(dir, options, async (batch) => {
    for (const entry of batch) {
      const name = entry.name;
      if (name.endsWith(SIDECAR)) {
        const stem = name.slice(0, -SIDECAR.length);
        const hasOriginal = (await exists(join(dir, `${stem}.json`))) || (await exists(join(dir, stem)));
        if (!hasOriginal && (await mtimeOf(join(dir, name))) < options.cutoff && (await remove(join(dir, name)))) removed += 1;
        continue;
      }
      const sidecar = join(dir, `${name.replace(/\.json$/, '')}${SIDECAR}`);
      const age = (await exists(sidecar)) ? await mtimeOf(sidecar) : await mtimeOf(join(dir, name));
      if (age >= options.cutoff) continue;
      if (await remove(join(dir, name))) removed += 1;
      if (await remove(sidecar)) removed += 1;
    }
  });
  return removed;
}

/** Reads the directory a batch at a time (it may hold 100,000 names) and yields between batches. */
async function forEachBatch(dir: string, options: SweepOptions, work: (batch: Dirent[]) => Promise<void>): Promise<void> {
  let handle;
  try {
    handle = await fs.opendir(dir, { bufferSize: Math.min(options.batchSize, 1024) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let batch: Dirent[] = [];
  try {
    for await (const entry of handle) {
      batch.push(entry);
      if (batch.length < options.batchSize) continue;
      await work(batch);
      batch = [];
      await yieldToLoop();
      if (options.stopping()) return;
    }
    if (batch.length > 0) await work(batch);
  } finally {
    // Leaving the loop early does not close the handle by itself.
    await handle.close().catch(() => undefined);
  }
}

/** +Infinity for an entry that is gone: it is never "old enough" to be removed. */
async function mtimeOf(path: string): Promise<number> {
  try {
    return (await fs.lstat(path)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}

/** Removes a file, a link (not its target) or a directory (failed/ holds refused directories). */
async function remove(path: string): Promise<boolean> {
  try {
    const stats = await fs.lstat(path);
    await fs.rm(path, { recursive: stats.isDirectory(), force: false });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
