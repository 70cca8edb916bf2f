// The sink's writer: one long-lived `git fast-import`, the way git itself writes in bulk. Each
// commit is streamed to it (the changed files inline, `from` the branch's current commit, so it
// rewrites only the trees on the changed paths and keeps the branch's tree in memory between
// commits); a `checkpoint` then closes the pack (pack and index renamed into place), moves the
// branch, and the `get-mark` answer that follows says all of it is done. No loose objects, no
// index: a commit is one pack, one index and the ref, however many files it changes.
//
// `--done`: should this process die, fast-import reads the end of its input without `done`
// and stops with an error, so nothing streamed after the last checkpoint ever moves the branch
// (it dies leaving at most an unreferenced pack and a crash report, which start removes).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface FastImportOptions {
  /** The repository's working directory (git runs there). */
  dir: string;
  /** fsync packs, indexes and refs (git's core.fsync); the caller fsyncs their directories. */
  fullSync: boolean;
}

/** The environment every git child of the sink gets: no system config, no prompt, C locale. */
export const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } as const;

/** Quotes a path the way fast-import reads it (C style), whatever bytes its segments hold. */
export function quotePath(path: string): string {
  let quoted = '"';
  for (const c of path) {
    const code = c.charCodeAt(0);
    if (c === '\\' || c === '"') quoted += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) quoted += `\\${code.toString(8).padStart(3, '0')}`;
    else quoted += c;
  }
  return `${quoted}"`;
}

/** `data <bytes>` and the bytes: fast-import's exact-length data block. */
export function dataBlock(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/** While an answer is awaited the child keeps the event loop alive; idle, it does not. */
export function holdOpen(child: ChildProcessWithoutNullStreams, waiting: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as {
    ref?(): void;
    unref?(): void;
  }[]) {
    if (waiting) handle.ref?.();
    else handle.unref?.();
  }
}

export class FastImport {
  readonly #options: FastImportOptions;
  #child: ChildProcessWithoutNullStreams | undefined;
  #stdout = '';
  #stderr = '';
  /** Callers waiting for an answer line, in the order their requests were written. */
  readonly #waiting: { resolve(line: string): void; reject(error: Error): void }[] = [];
  #failure: Error | undefined;
  #exited: Promise<void> = Promise.resolve();
  #mark = 0;

  constructor(options: FastImportOptions) {
    this.#options = options;
  }

  /** The next mark number: marks name the commits streamed to the process until it ends. */
  nextMark(): number {
    this.#mark += 1;
    return this.#mark;
  }

  #start(): ChildProcessWithoutNullStreams {
    const sync = this.#options.fullSync ? 'pack,pack-metadata,reference' : 'none';
    const child = spawn(
      'git',
      // unpackLimit 0: a small pack stays a pack (git would otherwise explode it into loose objects);
      // compression 1: packs of a few small objects, where the time is better spent elsewhere.
      [
        '-c',
        `core.fsync=${sync}`,
        '-c',
        'fastimport.unpackLimit=0',
        '-c',
        'core.compression=1',
        '-c',
        'core.hooksPath=/dev/null',
        'fast-import',
        '--quiet',
        '--done',
        '--date-format=raw',
      ],
      { cwd: this.#options.dir, env: { ...process.env, ...GIT_ENV }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.#failure = undefined;
    this.#stdout = '';
    this.#stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.#answer(chunk));
    child.stderr
      .setEncoding('utf8')
      .on('data', (chunk: string) => (this.#stderr = `${this.#stderr}${chunk}`.slice(-4000)));
    // A write after the process ended fails here, and is reported through the pending answers.
    child.stdin.on('error', () => undefined);
    this.#exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        if (this.#child === child) this.#child = undefined;
        this.#fail(new Error(`git fast-import ended (${signal ?? code}): ${this.#stderr.trim() || 'no message'}`));
        resolve();
      });
      child.on('error', (error) => {
        if (this.#child === child) this.#child = undefined;
        this.#fail(error);
        resolve();
      });
    });
    // Idle, it is not what keeps this process alive: stop() ends it, and a process that exits
    // without stop() leaves it to stop at the end of its input (`--done`: nothing is committed).
    holdOpen(child, false);
    this.#child = child;
    return child;
  }

  #answer(chunk: string): void {
    this.#stdout += chunk;
    for (let newline = this.#stdout.indexOf('\n'); newline !== -1; newline = this.#stdout.indexOf('\n')) {
      const line = this.#stdout.slice(0, newline);
      this.#stdout = this.#stdout.slice(newline + 1);
      this.#waiting.shift()?.resolve(line);
    }
    if (this.#waiting.length === 0 && this.#child !== undefined) holdOpen(this.#child, false);
  }

  #fail(error: Error): void {
    this.#failure = error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  /** Writes commands that answer nothing (a commit); a failure shows in the next answer awaited. */
  write(commands: string): void {
    const child = this.#child ?? this.#start();
    child.stdin.write(commands);
  }

  /**
   * Writes `commands`, whose last `count` commands answer with a line each (`get-mark`, `ls`),
   * and resolves with those lines: every command before them is then done.
   */
  request(commands: string, count: number): Promise<string[]> {
    const child = this.#child ?? this.#start();
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const answers = Array.from(
      { length: count },
      () => new Promise<string>((resolve, reject) => this.#waiting.push({ resolve, reject })),
    );
    holdOpen(child, true);
    child.stdin.write(commands);
    return Promise.all(answers);
  }

  /** Ends the process cleanly (`done`), so it leaves no crash report; a failed one is just gone. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    holdOpen(child, true);
    child.stdin.end('done\n');
    await this.#exited;
  }

  /** Ends the process at once: after a failure, its state is unknown and it is not used again. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    holdOpen(child, true);
    child.kill('SIGKILL');
    await this.#exited;
  }
}
