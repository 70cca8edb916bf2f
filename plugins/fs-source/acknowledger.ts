// What the source does when the pipeline is done with an intent: a terminal outcome writes its
// status and moves the file out of handoff/ (to processed/ or failed/); "not done" hands the
// name back, to be offered again after the requeue delay.
import { crashPoint, sleep, type DataDir, type FileIdentity, type Logger, type Outcome } from '../../core/index.ts';
import type { AdmissionQueue } from './queue.ts';
import type { EntryReader } from './reader.ts';

/** What was read of an entry: the bytes, and what identifies them. */
export type ReadEntry = { identity: FileIdentity; bytes: Uint8Array };

export interface AcknowledgerOptions {
  dataDir: DataDir;
  queue: AdmissionQueue;
  reader: EntryReader;
  log: Logger;
  /** `once` hands a name back at once: the next pass, not a timer, offers it again. */
  once: boolean;
  requeueDelayMs: number;
  debounceMs: number;
}

export class Acknowledger {
  /** Names whose file changed after they were read: offered again at once, not after a delay. */
  readonly #changedSinceRead = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #options: AcknowledgerOptions;

  constructor(options: AcknowledgerOptions) {
    this.#options = options;
  }

  /** A terminal outcome: its status written, then the file moved out of handoff/. */
  async ack(name: string, read: ReadEntry | undefined, outcome: Outcome): Promise<void> {
    const { dataDir, queue, reader, log } = this.#options;
    const identity = read?.identity;
    try {
      // A file rewritten while it was processed is offered again, not moved: its new content
      // must be submitted (or failed) on its own.
      if (identity !== undefined && !(await dataDir.unchanged(name, identity))) {
        log.warn({ file: name }, 'the file changed while it was processed; offering it again');
        queue.touched.add(name);
        return;
      }
      await dataDir.writeStatus(outcome);
      crashPoint('source.status-written');
      // A failure keeps the bytes that failed, not a file a producer may still write into.
      await dataDir.moveOut(name, outcome, undefined, outcome.status === 'failed' ? read?.bytes : undefined);
      reader.forget(name);
    } catch (error) {
      log.error({ err: error, file: name }, 'could not move the file out of handoff; it will be offered again');
    } finally {
      queue.finish(name);
    }
  }

  /** Not done (deferred, or it could not be read): the name is offered again later. */
  handBack(name: string): void {
    const { queue, once, requeueDelayMs } = this.#options;
    if (once || queue.stopped || this.#changedSinceRead.delete(name)) {
      queue.finish(name);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      queue.touched.add(name);
      queue.finish(name);
    }, requeueDelayMs);
    this.#timers.add(timer);
  }

  /**
   * Before an intent is failed for content that may be incomplete: the file must have stayed
   * exactly as read for one more debounce period. A producer that paused mid-write has
   * changed it by then; it is offered again (in `once` too) and its whole content read.
   */
  async confirmUnchanged(name: string, identity: FileIdentity): Promise<boolean> {
    const { dataDir, queue, log, debounceMs } = this.#options;
    if (debounceMs > 0) {
      log.info({ file: name }, 'the intent does not parse; checking that the file is complete before failing it');
      await sleep(debounceMs);
    }
    if (await dataDir.unchanged(name, identity)) return true;
    queue.touched.add(name);
    this.#changedSinceRead.add(name);
    return false;
  }

  /** Names waiting for their requeue delay stay in handoff/ for the next start to offer. */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
  }
}
