// The audit log's lines are written in groups: those made in one turn of the event loop go out
// as one write at the next turn (or sooner, when flushed), and whoever waits on a line learns
// only then that it is written. The outcomes' taps wait, so an intent is acknowledged only once
// its line is on disk; one write per turn instead of two per line (the line and the checkpoint).
import type { ChainHead } from './chain.ts';

interface Group {
  text: string;
  /** Where the chain stood before the group's first line. */
  from: ChainHead;
  done: Promise<void>;
  settle: (failure?: Error) => void;
}

export interface LineGroupsOptions {
  /** Writes a group's lines (one string); throws when they cannot be written. */
  write: (text: string) => void;
  /**
   * A group could not be written: the chain must go back to `from`, so that what is on disk
   * stays one unbroken chain. Every waiter on the group is refused with `error` too.
   */
  onFailure: (error: Error, from: ChainHead) => void;
}

export class LineGroups {
  readonly #options: LineGroupsOptions;
  #open: Group | undefined;

  constructor(options: LineGroupsOptions) {
    this.#options = options;
  }

  /** Queues a line (without its newline) made after `from`; resolves once it is written. */
  add(line: string, from: ChainHead): Promise<void> {
    if (this.#open === undefined) {
      let settle!: (failure?: Error) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (failure) => (failure === undefined ? resolve() : reject(failure))));
      // A group nobody waits on (security events only) must not end as an unhandled rejection;
      // onFailure has reported it.
      done.catch(() => undefined);
      this.#open = { text: '', from, done, settle };
      setImmediate(() => this.flush());
    }
    this.#open.text += `${line}\n`;
    return this.#open.done;
  }

  /** Writes the open group now (before an anchor is handed out, and at stop). */
  flush(): void {
    const group = this.#open;
    this.#open = undefined;
    if (group === undefined) return;
    try {
      this.#options.write(group.text);
      group.settle();
    } catch (error) {
      this.#options.onFailure(error as Error, group.from);
      group.settle(error as Error);
    }
  }
}
