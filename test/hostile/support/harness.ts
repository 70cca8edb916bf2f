// A real Conductor in-process for hostile-input tests: the built-in plugins (fs-source,
// schema-validate, sanitize, git-sink, audit-log) on a fresh data directory, plus optional test
// plugins. It records what an operator would look at — security events (the hook and the audit
// log), outcomes, error logs — and plants canaries outside handoff/ that prove nothing there is
// read: a regular file whose atime would move, and a FIFO holding one sentinel byte that any
// reader would take.
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { createConductor, type Conductor } from '../../../core/app.ts';
import { resolveConfig } from '../../../core/config/validate.ts';
import type { Intent, Outcome, PluginDefinition, SecurityEvent } from '../../../core/index.ts';
import { BLUEPRINT, list, makeDataDir } from '../../support/data-dir.ts';
import { gitLog } from '../../support/git.ts';

export type Mode = 'once' | 'run';

export interface HarnessOptions {
  mode?: Mode;
  source?: { debounceMs?: number; maxFileBytes?: number; pattern?: string; rescanMs?: number };
  validate?: { allowedNamespaces?: string[] };
  sanitize?: { maxInputLength?: number; blockedPatterns?: string[] };
  /** Test plugins, configured before the built-in ones (so their taps run first at their stage). */
  plugins?: PluginDefinition<any>[];
  concurrency?: number;
  requeueDelayMs?: number;
}

export interface LogLine {
  level: number;
  msg: string;
  file?: string;
  [key: string]: unknown;
}

export interface AuditLine {
  event: 'outcome' | 'security';
  file: string;
  type?: string;
  outcome?: string;
  code?: string;
  stage?: string;
  intentId: string;
}

export interface StatusFile {
  file: string;
  intentId: string;
  status: string;
  stage: string;
  code?: string;
  message: string;
}

export interface ErrorFile {
  file: string;
  intentId: string;
  stage: string;
  code: string;
  message: string;
}

/** A valid intent in the flat format; `extra` overrides or adds fields. */
export function intent(extra: Record<string, unknown> = {}): Intent & Record<string, unknown> {
  return { intent_type: 'scaling', target: 'odu-high-phy', namespace: 'oran-odu', replicas: 3, source: 'test', ...extra } as Intent &
    Record<string, unknown>;
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}

const SENTINEL = 0x53; // 'S'
const OLD_ATIME = new Date('2001-01-01T00:00:00Z');
const OLD_MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * Things outside handoff/ that hostile entries point at. `intact()` says whether any of them was
 * read: the canary file's atime (set older than its mtime, so even `relatime` moves it on a
 * read) and the FIFO's sentinel byte (a reader would consume it). The canary is a valid intent
 * for the target `canary-leak`, so following a link to it would also show up as a commit.
 */
export class Outside {
  readonly dir: string;
  readonly canary: string;
  readonly fifo: string;
  readonly emptyFifo: string;
  readonly subdir: string;
  #fifoFd: number | undefined;
  readonly #atimeMs: number;

  constructor(root: string) {
    this.dir = join(root, 'outside');
    mkdirSync(this.dir, { recursive: true });
    this.canary = join(this.dir, 'canary.json');
    writeFileSync(this.canary, json(intent({ target: 'canary-leak', reason: 'read from outside handoff' })));
    utimesSync(this.canary, OLD_ATIME, OLD_MTIME);
    this.#atimeMs = statSync(this.canary).atimeMs;
    this.fifo = join(this.dir, 'fifo');
    execFileSync('mkfifo', [this.fifo]);
    // O_RDWR never blocks on a FIFO and keeps a writer present, so a reader would not block
    // either: it would take the sentinel.
    this.#fifoFd = openSync(this.fifo, constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(this.#fifoFd, Buffer.from([SENTINEL]));
    // A FIFO with no writer at all: a blocking open of it would hang forever.
    this.emptyFifo = join(this.dir, 'empty-fifo');
    execFileSync('mkfifo', [this.emptyFifo]);
    this.subdir = join(this.dir, 'dir');
    mkdirSync(this.subdir);
    writeFileSync(join(this.subdir, 'intent-inner.json'), json(intent({ target: 'inner-leak' })));
  }

  /** Problems found; empty when nothing outside handoff/ was read. Consumes nothing. */
  problems(): string[] {
    const problems: string[] = [];
    const atime = statSync(this.canary).atimeMs;
    if (atime !== this.#atimeMs) problems.push(`the canary outside handoff/ was read (atime ${this.#atimeMs} → ${atime})`);
    if (this.#fifoFd !== undefined) {
      const buffer = Buffer.alloc(8);
      let n = 0;
      try {
        n = readSync(this.#fifoFd, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      if (n !== 1 || buffer[0] !== SENTINEL) problems.push('the FIFO outside handoff/ was read (its sentinel byte is gone)');
      else writeSync(this.#fifoFd, Buffer.from([SENTINEL]));
    }
    const reader = blockedReaderOn(this.emptyFifo);
    if (reader) problems.push('something holds the writer-less FIFO outside handoff/ open for reading');
    return problems;
  }

  close(): void {
    if (this.#fifoFd !== undefined) closeSync(this.#fifoFd);
    this.#fifoFd = undefined;
    // Frees any reader stuck on the writer-less FIFO, so a failing run cannot hang the suite.
    blockedReaderOn(this.emptyFifo);
  }
}

/**
 * True when some process has `path` (a FIFO) open for reading — e.g. a blocked open. Opening
 * for writing without blocking succeeds only then (ENXIO otherwise); the open also releases a
 * reader stuck in open(2).
 */
export function blockedReaderOn(path: string): boolean {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(fd);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return false;
    throw error;
  }
}

export class Harness {
  readonly root: string;
  readonly handoff: string;
  readonly outside: Outside;
  readonly conductor: Conductor;
  /** Every security event, as the hook delivered it. */
  readonly security: SecurityEvent[] = [];
  readonly settled: Outcome[] = [];
  readonly deferred: { file: string; reason: string }[] = [];
  /** File → when the pipeline first saw it (the `received` event) and when it settled. */
  readonly seenAt = new Map<string, number>();
  readonly settledAt = new Map<string, number>();
  readonly logs: LogLine[];
  readonly #cleanup: () => void;
  readonly #closers: (() => void | Promise<void>)[] = [];
  #stopped = false;
  #owner = true;
  #commits: { hash: string; subject: string; intentId: string }[] | undefined;
  #audit: AuditLine[] | undefined;

  private constructor(root: string, handoff: string, cleanup: () => void, conductor: Conductor, logs: LogLine[], outside: Outside) {
    this.root = root;
    this.handoff = handoff;
    this.#cleanup = cleanup;
    this.conductor = conductor;
    this.logs = logs;
    this.outside = outside;
    conductor.events.security.tap('hostile-test', (event) => void this.security.push(event));
    conductor.events.received.tap('hostile-test', (envelope) => {
      if (!this.seenAt.has(envelope.file)) this.seenAt.set(envelope.file, performance.now());
    });
    conductor.events.settled.tap('hostile-test', (outcome) => {
      this.settled.push(outcome);
      this.settledAt.set(outcome.file, performance.now());
    });
    conductor.events.deferred.tap('hostile-test', (event) => void this.deferred.push(event));
  }

  static async create(options: HarnessOptions = {}): Promise<Harness> {
    const dir = makeDataDir();
    return Harness.#build(options, dir, new Outside(dir.root));
  }

  /**
   * A second Conductor on this data directory, after this one stopped: "later, another run".
   * The new harness owns the directory from then on (its cleanup removes it).
   */
  async next(options: HarnessOptions = {}): Promise<Harness> {
    await this.stop();
    const successor = await Harness.#build(options, { root: this.root, handoff: this.handoff, cleanup: this.#cleanup }, this.outside);
    successor.#closers.push(...this.#closers.splice(0));
    this.#owner = false;
    return successor;
  }

  static async #build(
    options: HarnessOptions,
    dir: { root: string; handoff: string; cleanup(): void },
    outside: Outside,
  ): Promise<Harness> {
    const logs: LogLine[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    const modules = Object.fromEntries((options.plugins ?? []).map((definition) => [definition.name, definition]));
    const plugins: Record<string, Record<string, unknown>> = {
      ...Object.fromEntries(Object.keys(modules).map((name) => [name, {}])),
      'fs-source': { debounceMs: 0, ...options.source },
      'schema-validate': { ...options.validate },
      sanitize: { ...options.sanitize },
      'git-sink': { blueprint: BLUEPRINT },
      'audit-log': {},
    };
    const resolved = await resolveConfig(
      {
        dataDir: dir.root,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        ...(options.requeueDelayMs === undefined ? {} : { requeueDelayMs: options.requeueDelayMs }),
        modules,
        plugins,
      },
      { source: 'hostile-test', baseDir: dir.root },
    );
    const conductor = await createConductor(resolved, { log, mode: options.mode ?? 'once' });
    return new Harness(dir.root, dir.handoff, dir.cleanup, conductor, logs, outside);
  }

  /** Something to close at cleanup (a socket server, a file descriptor). */
  onCleanup(close: () => void | Promise<void>): void {
    this.#closers.push(close);
  }

  async start(): Promise<void> {
    await this.conductor.start();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.conductor.stop();
  }

  /**
   * `once`: start, wait until everything present was offered and settled, stop. Returns the ms
   * taken. Fails after `deadlineMs` (an entry that blocks the source, say) naming what is left,
   * instead of hanging until the test's own timeout.
   */
  async runOnce(deadlineMs = 20_000): Promise<number> {
    const started = performance.now();
    await this.start();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
    const result = await Promise.race([this.conductor.idle().then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    const elapsed = performance.now() - started;
    if (result === 'late') {
      const unsettled = [...this.seenAt.keys()].filter((file) => !this.settledAt.has(file));
      // Free any reader stuck in open(2) on a FIFO, so that stop() can finish.
      this.outside.close();
      for (const name of this.inHandoff()) if (lstatSync(this.path(name)).isFIFO()) blockedReaderOn(this.path(name));
      throw new Error(
        `once did not finish within ${deadlineMs} ms: source ${JSON.stringify(this.sourceDetails())}, received but unsettled ${JSON.stringify(unsettled)}, in handoff/ ${JSON.stringify(this.inHandoff())}`,
      );
    }
    await this.stop();
    return elapsed;
  }

  /** Source details (queued, active), as /ready shows them. */
  sourceDetails(): { queued: number; active: number } {
    const details = this.conductor.readiness().plugins['fs-source']?.details as { queued: number; active: number } | undefined;
    return details ?? { queued: 0, active: 0 };
  }

  path(name: string): string {
    return join(this.handoff, name);
  }

  inHandoff(): string[] {
    return list(this.handoff);
  }

  processed(): string[] {
    return list(join(this.root, 'processed'));
  }

  failed(): string[] {
    return list(join(this.root, 'failed')).filter((name) => !name.endsWith('.error.json'));
  }

  /**
   * `status/<stem>.status.json`; for a name too long for that (over 243 bytes), whichever status
   * file names this file (the contract cannot hold there, so any unique name will do).
   */
  statusOf(file: string): StatusFile | undefined {
    return this.#sidecar<StatusFile>('status', `${stem(file)}.status.json`, '.status.json', file);
  }

  statuses(): string[] {
    return list(join(this.root, 'status'));
  }

  /** `failed/<stem>.error.json` (or, for a name too long for that, whichever error record names this file). */
  errorOf(file: string): ErrorFile | undefined {
    return this.#sidecar<ErrorFile>('failed', `${stem(file)}.error.json`, '.error.json', file);
  }

  #sidecar<T extends { file: string }>(dir: string, name: string, suffix: string, file: string): T | undefined {
    if (Buffer.byteLength(name) <= 255) {
      const path = join(this.root, dir, name);
      return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
    }
    return list(join(this.root, dir))
      .filter((entry) => entry.endsWith(suffix))
      .map((entry) => JSON.parse(readFileSync(join(this.root, dir, entry), 'utf8')) as T)
      .find((record) => record.file === file);
  }

  /** The git sink's commits, newest first (read once after the Conductor stopped). */
  commits(): { hash: string; subject: string; intentId: string }[] {
    if (this.#stopped) return (this.#commits ??= gitLog(join(this.root, 'out')));
    return gitLog(join(this.root, 'out'));
  }

  /** The commit of the intent a file became (by the intent id in its status file), with its full message. */
  commitFor(file: string): { hash: string; subject: string; intentId: string; message: string } | undefined {
    const intentId = this.statusOf(file)?.intentId;
    const commit = this.commits().find((c) => c.intentId === intentId);
    if (commit === undefined) return undefined;
    const message = execFileSync('git', ['-C', join(this.root, 'out'), 'show', '-s', '--format=%B', commit.hash], { encoding: 'utf8' });
    return { ...commit, message };
  }

  audit(): AuditLine[] {
    if (this.#stopped && this.#audit) return this.#audit;
    const path = join(this.root, 'audit', 'audit.log');
    if (!existsSync(path)) return [];
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditLine);
    if (this.#stopped) this.#audit = lines;
    return lines;
  }

  /** Error-level log lines (a move that failed, a read that threw). */
  errors(): LogLine[] {
    return this.logs.filter((line) => line.level >= 50);
  }

  async cleanup(): Promise<void> {
    await this.stop().catch(() => undefined);
    if (!this.#owner) return;
    for (const close of this.#closers.reverse()) await close();
    this.outside.close();
    this.#cleanup();
  }
}

export function stem(file: string): string {
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : file;
}

/** Collects unhandled rejections and uncaught exceptions while a test runs (none may occur). */
export function watchUnhandled(t: { after(fn: () => void): void }): unknown[] {
  const errors: unknown[] = [];
  const onError = (error: unknown) => void errors.push(error);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  t.after(() => {
    process.off('unhandledRejection', onError);
    process.off('uncaughtException', onError);
  });
  return errors;
}
