// The filesystem source: offers every entry of handoff/ whose name matches the pattern — the
// backlog present at start (oldest first), then new arrivals seen by chokidar. Names wait in a
// queue; bytes are read only once the pipeline has a free place, so a large backlog waits on
// disk, not in memory. The original leaves handoff/ only when its intent is terminal.
// The parts: scanner.ts finds entries (listing, watcher, rescan); queue.ts holds the names and
// pumps them in; admission.ts takes a place and the claim; reader.ts waits for a still file and
// reads it; acknowledger.ts writes the status and moves the file out, or hands the name back.
import { DataDir, definePlugin } from '../../core/index.ts';
import { globToRegExp } from './glob.ts';
import { DOCS, OPTIONS_SCHEMA } from './metadata.ts';
import { Acknowledger } from './acknowledger.ts';
import { admitOne } from './admission.ts';
import { AdmissionQueue } from './queue.ts';
import { EntryReader } from './reader.ts';
import { Scanner } from './scanner.ts';

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
    const once = context.mode === 'once';
    const reportBacklog = (waiting: number) => host.setBacklog(context.id, waiting);
    const queue = new AdmissionQueue({ matches, once, log, reportBacklog });
    const { debounceMs, maxFileBytes } = options;
    const { requeueDelayMs, retry } = context.config;
    const reader = new EntryReader({ dataDir, debounceMs, maxFileBytes, maxAttempts: retry.maxAttempts });
    const acknowledger = new Acknowledger({ dataDir, queue, reader, log, once, requeueDelayMs, debounceMs });
    const scanner = new Scanner({ dataDir, matches, queue, reader, log });
    const admission = { source: context.id, host, queue, reader, acknowledger, log };
    let pumping: Promise<void> | undefined;

    return {
      async start() {
        dataDir.ensure();
        if (context.mode === 'run') await scanner.watch();
        // The backlog is listed in the background: with 100,000 files waiting, listing them takes
        // longer than a plugin may take to start, and the pump can begin with the first ones.
        pumping = queue.pump((name) => admitOne(admission, name), options.maxFilesPerBatch);
        void scanner
          .scan()
          .catch((error: unknown) => log.error({ err: error }, 'listing handoff/ failed; the next rescan tries again'))
          .finally(() => {
            queue.listed = true;
            queue.checkIdle();
          });
        if (context.mode === 'run' && options.rescanMs > 0) scanner.rescanEvery(options.rescanMs);
      },
      async stop() {
        queue.stop();
        acknowledger.stop();
        scanner.stopRescan();
        for (const claim of queue.claims.values()) await claim.release().catch(() => undefined);
        await scanner.stop();
        // The pump is not awaited: it may be waiting for a place that only frees as the
        // pipeline drains, and it gives back any place it gets once `stopped` is set.
        void pumping;
      },
      idle: () => {
        queue.checkIdle();
        return queue.idle;
      },
      status: () => ({ ready: !queue.stopped, details: { queued: queue.waiting.size, active: queue.active.size } }),
    };
  },
});
