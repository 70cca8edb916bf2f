// Reads an admitted entry of handoff/ once it has stopped changing. An entry that exists but
// cannot be read (no permission, an I/O error) is not a success and not silence: it is refused
// as transient (left in handoff/, `once` exits 3) until the retry budget is spent, then failed to
// failed/ with CND_ERR_FILE_UNREADABLE.
import { promises as fs } from 'node:fs';
import { ConductorError, DataDir, sleep, type ReadResult } from '../../core/index.ts';

/** Errors that make an existing entry unreadable (as opposed to gone, or refused for its kind). */
const UNREADABLE_CODES = new Set(['EACCES', 'EPERM', 'EIO', 'EISDIR', 'ENXIO', 'ETXTBSY']);

export interface EntryReaderOptions {
  dataDir: DataDir;
  /** How long a file must be unchanged before it is read (0 for producers that rename atomically). */
  debounceMs: number;
  maxFileBytes: number;
  /** Failed reads allowed before an unreadable file is failed (0: never). */
  maxAttempts: number;
}

export class EntryReader {
  /** Entries renamed because their names were not UTF-8: refused when admitted, never read. */
  readonly renamedNames = new Set<string>();
  /** Failed reads per name (an unreadable file): its retry budget, kept until it is moved out. */
  readonly #readFailures = new Map<string, number>();
  readonly #options: EntryReaderOptions;

  constructor(options: EntryReaderOptions) {
    this.#options = options;
  }

  async read(name: string): Promise<ReadResult> {
    await this.#waitUntilStill(name);
    if (this.renamedNames.delete(name)) {
      const message = `${name}: the file name was not valid UTF-8 (renamed to this); it was not read`;
      const error = new ConductorError('CND_ERR_FILE_REJECTED', message, {
        stage: 'source',
        details: { securityEvent: 'file-name' },
      });
      return { kind: 'refused', error };
    }
    const { dataDir, maxFileBytes } = this.#options;
    return dataDir.read(name, maxFileBytes).catch((error: NodeJS.ErrnoException): ReadResult => {
      if (!UNREADABLE_CODES.has(error.code ?? '')) throw error;
      return { kind: 'refused', error: this.#unreadable(name, error) };
    });
  }

  /** The file left handoff/ (moved out, or gone): its retry budget starts afresh if it comes back. */
  forget(name: string): void {
    this.#readFailures.delete(name);
  }

  /** Waits until a file has been still for debounceMs (a producer may still be writing). */
  async #waitUntilStill(name: string): Promise<void> {
    const { debounceMs, dataDir } = this.#options;
    if (debounceMs === 0) return;
    for (;;) {
      const stats = await fs.lstat(`${dataDir.handoff}/${name}`).catch(() => undefined);
      if (stats === undefined) return;
      const age = Date.now() - stats.mtimeMs;
      if (age >= debounceMs) return;
      await sleep(debounceMs - age);
    }
  }

  #unreadable(name: string, error: NodeJS.ErrnoException): ConductorError {
    const failures = (this.#readFailures.get(name) ?? 0) + 1;
    this.#readFailures.set(name, failures);
    const budget = this.#options.maxAttempts;
    const spent = budget > 0 && failures >= budget;
    const message =
      `${name}: the file cannot be read (${error.code ?? 'error'}: ${error.syscall ?? 'read'})` +
      (spent ? `; gave up after ${failures} attempts` : '; it stays in handoff/ and is tried again');
    return new ConductorError('CND_ERR_FILE_UNREADABLE', message, {
      stage: 'source',
      kind: spent ? 'permanent' : 'transient',
      details: { errno: error.code, attempts: failures },
    });
  }
}
