// Finds the entries of handoff/: a listing at start (the backlog, oldest first), a watcher for
// new arrivals in `run` mode, and a periodic rescan for what the watcher may have missed and
// what another replica claimed but did not finish.
import { isUtf8 } from 'node:buffer';
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { DataDir, Logger } from '../../core/index.ts';
import type { AdmissionQueue } from './queue.ts';
import type { EntryReader } from './reader.ts';

/** Directory entries read per call while listing handoff/ (fewer trips to the thread pool). */
const LISTING_BATCH = 128;
/**
 * lstat calls in flight while listing handoff/: enough to keep the thread pool busy (a backlog
 * of 50,000 is listed in half the time of one at a time), few enough to leave it room for the
 * reads and moves of intents already admitted.
 */
const LSTAT_CONCURRENCY = 16;

export interface ScannerOptions {
  dataDir: DataDir;
  matches: RegExp;
  queue: AdmissionQueue;
  reader: EntryReader;
  log: Logger;
}

export class Scanner {
  readonly #options: ScannerOptions;
  #scanning = false;
  #watcher: FSWatcher | undefined;
  #rescan: NodeJS.Timeout | undefined;

  constructor(options: ScannerOptions) {
    this.#options = options;
  }

  /**
   * Lists handoff/ and rebuilds the queue oldest first (by modification time), so what waited
   * longest — the backlog, or files another replica claimed and then abandoned — goes before
   * newer arrivals. Names queued but not listed (just arrived) keep their place after.
   */
  async scan(): Promise<void> {
    if (this.#scanning) return;
    this.#scanning = true;
    try {
      const entries = await this.#list();
      entries.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : 1));
      this.#options.queue.replaceWithListing(entries.map((e) => e.name));
    } finally {
      this.#scanning = false;
    }
  }

  /** Offers every new or changed entry as chokidar reports it; resolves once it watches. */
  async watch(): Promise<void> {
    const { dataDir, queue, log } = this.#options;
    const watcher = watch(dataDir.handoff, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      awaitWriteFinish: false,
    });
    this.#watcher = watcher;
    const onPath = (path: string) => queue.offer(basename(path));
    watcher
      .on('add', onPath)
      .on('change', onPath)
      .on('addDir', (path) => {
        if (path !== dataDir.handoff) onPath(path);
      });
    watcher.on('error', (error) => log.error({ err: error }, 'watcher error'));
    // An entry whose name is not UTF-8 shows up only as a raw event with a lossy name
    // (U+FFFD): a scan renames it so that it can be refused.
    watcher.on('raw', (_event, path) => {
      if (!String(path).includes('\uFFFD')) return;
      this.scan().catch((error: unknown) => log.warn({ err: error }, 'scan of handoff/ failed'));
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  rescanEvery(ms: number): void {
    this.#rescan = setInterval(() => {
      this.scan().catch((error: unknown) => this.#options.log.warn({ err: error }, 'rescan of handoff/ failed'));
    }, ms);
    this.#rescan.unref();
  }

  stopRescan(): void {
    clearInterval(this.#rescan);
  }

  async stop(): Promise<void> {
    this.stopRescan();
    await this.#watcher?.close();
  }

  /**
   * The matching entries not being processed, with their modification times. handoff/ is read
   * as a stream (a backlog can be tens of thousands of names, and only a name and a time are
   * kept of each) and the entries are looked at a few at a time rather than one by one.
   */
  async #list(): Promise<{ name: string; mtimeMs: number }[]> {
    const { dataDir, matches, queue, reader } = this.#options;
    const entries: { name: string; mtimeMs: number }[] = [];
    const unreadable: Buffer[] = [];
    const add = async (name: string) => {
      // Gone since it was listed (claimed, or taken back by its producer): nothing to queue.
      const stats = await fs.lstat(`${dataDir.handoff}/${name}`).catch(() => undefined);
      if (stats) entries.push({ name, mtimeMs: stats.mtimeMs });
    };
    // `encoding: 'buffer'` gives each name as its raw bytes (Node supports it for opendir; its
    // type declarations do not yet say so), so that a name that is not UTF-8 can be told apart.
    const encoding = 'buffer' as BufferEncoding;
    const dir = await fs.opendir(dataDir.handoff, { encoding, bufferSize: LISTING_BATCH });
    // Each worker takes the next name from the one directory stream (whose reads are queued in
    // order) and waits on its own lstat, so at most LSTAT_CONCURRENCY are in flight.
    const dirents = dir[Symbol.asyncIterator]();
    const worker = async () => {
      for (let next = await dirents.next(); next.done !== true; next = await dirents.next()) {
        const raw = next.value.name as unknown as Buffer;
        const entry = raw.toString('utf8');
        if (!matches.test(entry) || queue.active.has(entry)) continue;
        if (isUtf8(raw)) await add(entry);
        else unreadable.push(raw);
      }
    };
    await Promise.all(Array.from({ length: LSTAT_CONCURRENCY }, worker));
    // Renamed once the stream is done, so that a new name cannot be listed a second time by it.
    for (const raw of unreadable) {
      // No string names this entry (its name is not UTF-8): rename it so that one does, and
      // refuse it when it is admitted.
      const entry = await dataDir.renameUnreadable(raw);
      reader.renamedNames.add(entry);
      await add(entry);
    }
    return entries;
  }
}
