// The filesystem source: offers every entry of handoff/ whose name matches the pattern — the
// backlog present at start (oldest first), then new arrivals seen by chokidar. Names wait in a
// queue; bytes are read only once the pipeline has a free place, so a large backlog waits on
// disk, not in memory. The original leaves handoff/ only when its intent is terminal.
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { ConductorError, DataDir, definePlugin, sleep, type Claim, type FileIdentity, type Outcome, type ReadResult } from '../../core/index.ts';
import { globToRegExp } from './glob.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';
import { crashPoint } from '../../core/index.ts';

/** Errors that make an existing entry unreadable (as opposed to gone, or refused for its kind). */
const UNREADABLE_CODES = new Set(['EACCES', 'EPERM', 'EIO', 'EISDIR', 'ENXIO', 'ETXTBSY']);

export default definePlugin({
  name: 'fs-source',
  kind: 'source',
  description: 'Reads intent files from <dataDir>/handoff and settles them into processed/ or failed/.',
  optionsSchema: OPTIONS_SCHEMA,
  docs: DOCS,
  create(context, options) {
    const { host, log } = context;
    const dataDir = new DataDir(context.dataDir);
    const matches = globToRegExp(options.pattern);
    /** Names waiting for a place, in arrival order (a Set keeps order and drops repeats). */
    const queue = new Set<string>();
    /** Names admitted and not yet settled or released. */
    const active = new Set<string>();
    /** Names seen again while active: offered once more after they settle. */
    const touched = new Set<string>();
    const timers = new Set<NodeJS.Timeout>();
    let wake: (() => void) | undefined;
    let watcher: FSWatcher | undefined;
    let stopped = false;
    let pumping: Promise<void> | undefined;
    let idleResolve: (() => void) | undefined;
    const idle = new Promise<void>((resolve) => (idleResolve = resolve));

    const report = () => host.setBacklog(context.id, queue.size);
    /** False until the first listing of handoff/ has been queued (`once` is not idle before). */
    let listed = false;
    const checkIdle = () => {
      if (context.mode === 'once' && listed && queue.size === 0 && active.size === 0) idleResolve?.();
    };
    const offer = (name: string) => {
      if (stopped || !matches.test(name)) return;
      if (active.has(name)) {
        touched.add(name);
        return;
      }
      queue.add(name);
      report();
      wake?.();
    };

    /** Entries renamed because their names were not UTF-8: refused when admitted. */
    const unreadableNames = new Set<string>();

    /** Claims held by this replica, given back when their file settles. */
    const claims = new Map<string, Claim>();

    const settled = (name: string) => {
      active.delete(name);
      const claim = claims.get(name);
      claims.delete(name);
      void claim?.release().catch((error: unknown) => log.warn({ err: error, file: name }, 'could not release the claim'));
      if (touched.delete(name)) offer(name);
      checkIdle();
    };

    /** Failed reads per name (an unreadable file): its retry budget, kept until it settles. */
    const readFailures = new Map<string, number>();

    const ack = async (name: string, read: { identity: FileIdentity; bytes: Uint8Array } | undefined, outcome: Outcome) => {
      const identity = read?.identity;
      try {
        // A file rewritten while it was processed is offered again, not moved: its new content
        // must be submitted (or failed) on its own.
        if (identity !== undefined && !(await dataDir.unchanged(name, identity))) {
          log.warn({ file: name }, 'the file changed while it was processed; offering it again');
          touched.add(name);
          return;
        }
        await dataDir.writeStatus(outcome);
        crashPoint('source.status-written');
        // A failure keeps the bytes that failed, not a file a producer may still write into.
        await dataDir.settle(name, outcome, undefined, outcome.status === 'failed' ? read?.bytes : undefined);
        readFailures.delete(name);
      } catch (error) {
        log.error({ err: error, file: name }, 'could not move the file out of handoff; it will be offered again');
      } finally {
        settled(name);
      }
    };

    /** Names whose file changed after they were read: offered again at once, not after a delay. */
    const changedSinceRead = new Set<string>();

    const release = (name: string) => {
      if (context.mode === 'once' || stopped || changedSinceRead.delete(name)) {
        settled(name);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        touched.add(name);
        settled(name);
      }, context.config.requeueDelayMs);
      timers.add(timer);
    };

    /** Waits until a file has been still for debounceMs (a producer may still be writing). */
    const settle = async (name: string): Promise<void> => {
      if (options.debounceMs === 0) return;
      for (;;) {
        const stats = await fs.lstat(`${dataDir.handoff}/${name}`).catch(() => undefined);
        if (stats === undefined) return;
        const age = Date.now() - stats.mtimeMs;
        if (age >= options.debounceMs) return;
        await sleep(options.debounceMs - age);
      }
    };

    /**
     * Before an intent is failed for content that may be incomplete: the file must have stayed
     * exactly as read for one more debounce period. A producer that paused mid-write has
     * changed it by then; it is offered again (in `once` too) and its whole content read.
     */
    const confirmUnchanged = async (name: string, identity: FileIdentity): Promise<boolean> => {
      if (options.debounceMs > 0) {
        log.info({ file: name }, 'the intent does not parse; checking that the file is complete before failing it');
        await sleep(options.debounceMs);
      }
      if (await dataDir.unchanged(name, identity)) return true;
      touched.add(name);
      changedSinceRead.add(name);
      return false;
    };

    /**
     * A file that exists but cannot be read (no permission, an I/O error): not a success and not
     * silence. It is refused as transient (left in handoff/, `once` exits 3) until the retry
     * budget is spent, then failed to failed/ with CND_ERR_FILE_UNREADABLE.
     */
    const unreadable = (name: string, error: NodeJS.ErrnoException): ConductorError => {
      const failures = (readFailures.get(name) ?? 0) + 1;
      readFailures.set(name, failures);
      const budget = context.config.retry.maxAttempts;
      const spent = budget > 0 && failures >= budget;
      const message = `${name}: the file cannot be read (${error.code ?? 'error'}: ${error.syscall ?? 'read'})` +
        (spent ? `; gave up after ${failures} attempts` : '; it stays in handoff/ and is tried again');
      return new ConductorError('CND_ERR_FILE_UNREADABLE', message, {
        stage: 'source',
        kind: spent ? 'permanent' : 'transient',
        details: { errno: error.code, attempts: failures },
      });
    };

    /** Gives up on a name without processing it (not terminal; a later scan may offer it again). */
    const drop = (name: string) => {
      active.delete(name);
      touched.delete(name);
      checkIdle();
    };

    const admitOne = async (name: string) => {
      // Queued again (by a rescan) while it is still being processed: the running admission
      // owns it; a change meanwhile was noted by offer() and is offered again after it settles.
      if (active.has(name)) return;
      // Counted as active from here on, so `idle()` cannot resolve while it waits for a place.
      active.add(name);
      let slot: Awaited<ReturnType<typeof host.acquire>>;
      try {
        slot = await host.acquire();
      } catch (error) {
        drop(name);
        throw error;
      }
      if (stopped) {
        slot.release();
        drop(name);
        return;
      }
      const claim = await host.claim(name).catch((error: unknown) => {
        log.warn({ err: error, file: name }, 'could not claim the file; offering it again later');
        return undefined;
      });
      if (claim === undefined) {
        // Another replica holds it (or the coordinator is unreachable): the rescan offers it
        // again, so a replica that dies mid-way does not strand its files.
        slot.release();
        drop(name);
        return;
      }
      claims.set(name, claim);
      try {
        await settle(name);
        const result: ReadResult = unreadableNames.delete(name)
          ? {
              kind: 'refused',
              error: new ConductorError('CND_ERR_FILE_REJECTED', `${name}: the file name was not valid UTF-8 (renamed to this); it was not read`, {
                stage: 'source',
                details: { securityEvent: 'file-name' },
              }),
            }
          : await dataDir.read(name, options.maxFileBytes).catch((error: NodeJS.ErrnoException): ReadResult => {
              if (!UNREADABLE_CODES.has(error.code ?? '')) throw error;
              return { kind: 'refused', error: unreadable(name, error) };
            });
        if (result.kind === 'gone') {
          readFailures.delete(name);
          slot.release();
          settled(name);
          return;
        }
        const read = result.kind === 'read' ? result : undefined;
        const identity = read?.identity;
        void slot.process({
          file: name,
          source: context.id,
          bytes: result.kind === 'read' ? result.bytes : new Uint8Array(),
          receivedAt: Date.now(),
          // The producer's write time orders intents for one target across replicas.
          ...(identity === undefined ? {} : { order: identity.mtimeMs }),
          ...(result.kind === 'refused' ? { refusal: result.error } : {}),
          ack: (outcome) => ack(name, read, outcome),
          release: () => release(name),
          ...(read === undefined ? {} : { confirmUnchanged: () => confirmUnchanged(name, read.identity) }),
        });
      } catch (error) {
        slot.release();
        log.error({ err: error, file: name }, 'could not read the file; it will be offered again');
        release(name);
      }
    };

    const pump = async () => {
      let inARow = 0;
      while (!stopped) {
        const next = queue.values().next();
        if (next.done) {
          checkIdle();
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        queue.delete(next.value);
        report();
        try {
          await admitOne(next.value);
        } catch {
          return; // the pipeline is stopping: acquire refused
        }
        if (++inARow >= options.maxFilesPerBatch) {
          inARow = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };

    let scanning = false;
    /**
     * Lists handoff/ and rebuilds the queue oldest first (by modification time), so what waited
     * longest — the backlog, or files another replica claimed and then abandoned — goes before
     * newer arrivals. Names queued but not listed (just arrived) keep their place after.
     */
    const scanBacklog = async () => {
      if (scanning) return;
      scanning = true;
      try {
        const entries: { name: string; mtimeMs: number }[] = [];
        for (const raw of await fs.readdir(dataDir.handoff, { encoding: 'buffer' })) {
          let entry = raw.toString('utf8');
          if (!matches.test(entry) || active.has(entry)) continue;
          if (!Buffer.from(entry).equals(raw)) {
            // No string names this entry (its name is not UTF-8): rename it so that one does,
            // and refuse it when it is admitted.
            entry = await dataDir.renameUnreadable(raw);
            unreadableNames.add(entry);
          }
          const stats = await fs.lstat(`${dataDir.handoff}/${entry}`).catch(() => undefined);
          if (stats) entries.push({ name: entry, mtimeMs: stats.mtimeMs });
        }
        entries.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : 1));
        const listed = new Set(entries.map((e) => e.name));
        const arrivedSince = [...queue].filter((name) => !listed.has(name));
        queue.clear();
        for (const name of listed) if (!active.has(name)) queue.add(name);
        for (const name of arrivedSince) queue.add(name);
        report();
        wake?.();
      } finally {
        scanning = false;
      }
    };

    return {
      async start() {
        dataDir.ensure();
        if (context.mode === 'run') {
          watcher = watch(dataDir.handoff, {
            depth: 0,
            ignoreInitial: true,
            followSymlinks: false,
            awaitWriteFinish: false,
          });
          const onPath = (path: string) => offer(basename(path));
          watcher.on('add', onPath).on('change', onPath).on('addDir', (path) => {
            if (path !== dataDir.handoff) onPath(path);
          });
          watcher.on('error', (error) => log.error({ err: error }, 'watcher error'));
          // An entry whose name is not UTF-8 shows up only as a raw event with a lossy name
          // (U+FFFD): a scan renames it so that it can be refused.
          watcher.on('raw', (_event, path) => {
            if (String(path).includes('\uFFFD')) scanBacklog().catch((error: unknown) => log.warn({ err: error }, 'scan of handoff/ failed'));
          });
          await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
        }
        // The backlog is listed in the background: with 100,000 files waiting, listing them takes
        // longer than a plugin may take to start, and the pump can begin with the first ones.
        pumping = pump();
        void scanBacklog()
          .catch((error: unknown) => log.error({ err: error }, 'listing handoff/ failed; the next rescan tries again'))
          .finally(() => {
            listed = true;
            checkIdle();
          });
        if (context.mode === 'run' && options.rescanMs > 0) {
          const rescan = setInterval(() => {
            scanBacklog().catch((error: unknown) => log.warn({ err: error }, 'rescan of handoff/ failed'));
          }, options.rescanMs);
          rescan.unref();
          timers.add(rescan);
        }
      },
      async stop() {
        stopped = true;
        wake?.();
        for (const timer of timers) clearTimeout(timer);
        for (const claim of claims.values()) await claim.release().catch(() => undefined);
        await watcher?.close();
        // The pump is not awaited: it may be waiting for a place that only frees as the
        // pipeline drains, and it gives back any place it gets once `stopped` is set.
        void pumping;
      },
      idle: () => {
        checkIdle();
        return idle;
      },
      status: () => ({ ready: !stopped, details: { queued: queue.size, active: active.size } }),
    };
  },
});
