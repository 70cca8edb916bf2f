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
import { GIT_ENV } from './git.ts';

export interface FastImportOptions {
  /** The repository's working directory (git runs there). */
  dir: string;
  /** fsync packs, indexes and refs (git's core.fsync); the caller fsyncs their directories. */
  fullSync: boolean;
}

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

interface Waiter {
  resolve(line: string): void;
  reject(error: Error): void;
}

/**
 * One fast-import process and what belongs to it alone: the answers it owes, its output so
 * far, how it ended. A process being closed never answers (or fails) for the one after it.
 */
interface Session {
  child: ChildProcessWithoutNullStreams;
  /** Callers waiting for an answer line, in the order their requests were written. */
  waiting: Waiter[];
  stdout: string;
  stderr: string;
  failure: Error | undefined;
  exited: Promise<void>;
}

const FAST_IMPORT_ARGS = (fullSync: boolean) => [
  '-c',
  `core.fsync=${fullSync ? 'pack,pack-metadata,reference' : 'none'}`,
  // unpackLimit 0: a small pack stays a pack (git would otherwise explode it into loose objects);
  // compression 1: packs of a few small objects, where the time is better spent elsewhere.
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
];

export class FastImport {
  readonly #options: FastImportOptions;
  #session: Session | undefined;
  #mark = 0;

  constructor(options: FastImportOptions) {
    this.#options = options;
  }

  /** The next mark number: marks name the commits streamed to the process until it ends. */
  nextMark(): number {
    this.#mark += 1;
    return this.#mark;
  }

  #start(): Session {
    const child = spawn('git', FAST_IMPORT_ARGS(this.#options.fullSync), {
      cwd: this.#options.dir,
      env: { ...process.env, ...GIT_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const session: Session = {
      child,
      waiting: [],
      stdout: '',
      stderr: '',
      failure: undefined,
      exited: Promise.resolve(),
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => answer(session, chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (session.stderr = `${session.stderr}${chunk}`.slice(-4000)));
    // A write after the process ended fails here, and is reported through the pending answers.
    child.stdin.on('error', () => undefined);
    session.exited = new Promise((resolve) => {
      const ended = (error: Error) => {
        if (this.#session === session) this.#session = undefined;
        fail(session, error);
        resolve();
      };
      child.on('close', (code, signal) =>
        ended(new Error(`git fast-import ended (${signal ?? code}): ${session.stderr.trim() || 'no message'}`)),
      );
      child.on('error', ended);
    });
    // Idle, it is not what keeps this process alive: stop() ends it, and a process that exits
    // without stop() leaves it to stop at the end of its input (`--done`: nothing is committed).
    holdOpen(child, false);
    this.#session = session;
    return session;
  }

  /** Writes commands that answer nothing (a commit); a failure shows in the next answer awaited. */
  write(commands: string): void {
    (this.#session ?? this.#start()).child.stdin.write(commands);
  }

  /**
   * Writes `commands`, whose last `count` commands answer with a line each (`get-mark`, `ls`),
   * and resolves with those lines: every command before them is then done.
   */
  request(commands: string, count: number): Promise<string[]> {
    const session = this.#session ?? this.#start();
    if (session.failure !== undefined) return Promise.reject(session.failure);
    const answers = Array.from(
      { length: count },
      () => new Promise<string>((resolve, reject) => session.waiting.push({ resolve, reject })),
    );
    holdOpen(session.child, true);
    session.child.stdin.write(commands);
    return Promise.all(answers);
  }

  /** Ends the process cleanly (`done`), so it leaves no crash report; a failed one is just gone. */
  async close(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    holdOpen(session.child, true);
    session.child.stdin.end('done\n');
    await session.exited;
  }

  /** Ends the process at once: after a failure, its state is unknown and it is not used again. */
  async kill(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    holdOpen(session.child, true);
    session.child.kill('SIGKILL');
    await session.exited;
  }
}

function answer(session: Session, chunk: string): void {
  session.stdout += chunk;
  for (let newline = session.stdout.indexOf('\n'); newline !== -1; newline = session.stdout.indexOf('\n')) {
    const line = session.stdout.slice(0, newline);
    session.stdout = session.stdout.slice(newline + 1);
    session.waiting.shift()?.resolve(line);
  }
  if (session.waiting.length === 0) holdOpen(session.child, false);
}

function fail(session: Session, error: Error): void {
  session.failure = error;
  for (const waiter of session.waiting.splice(0)) waiter.reject(error);
}
