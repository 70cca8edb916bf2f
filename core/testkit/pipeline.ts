// A real pipeline in a test: the config resolved and validated by the core, then built by
// createConductor over a temporary data directory — exactly what the CLI does — with chosen
// plugins. `feed` hands an intent straight to the pipeline, the way a source does (acquire a
// place, then process the envelope), and resolves with its outcome.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConductor, type Conductor } from '../app.ts';
import { resolveConfig } from '../config/validate.ts';
import { ConductorError } from '../errors.ts';
import type { ConductorConfig } from '../config/types.ts';
import type { Envelope, Outcome } from '../intent/types.ts';
import type { Logger, LogLevel } from '../log.ts';
import type { PluginDefinition } from '../plugin/types.ts';
import { captureLogs, type LogRecord } from './logs.ts';

export interface BuildPipelineOptions {
  /** Plugin id (`name` or `name/instance`) → its options, as under `plugins` in a config. */
  plugins: Record<string, Record<string, unknown>>;
  /** Plugins that are not built in: name → definition, or a module specifier taken from `baseDir`. */
  modules?: Record<string, PluginDefinition<any> | string>;
  /** Further core settings: concurrency, retry, pluginTimeoutMs, shutdownTimeoutMs, … */
  config?: Omit<ConductorConfig, 'plugins' | 'modules' | 'dataDir'>;
  /** `once` (default) drains and stops; `run` also starts watchers and timers, as a service does. */
  mode?: 'once' | 'run';
  /** Start the plugins now (default), or leave it to the test, to observe a start that fails. */
  start?: boolean;
  /** A data directory of your own; by default a fresh temporary one that close() removes. */
  dataDir?: string;
  /** Where relative module specifiers are taken from (default: the working directory). */
  baseDir?: string;
  /** For `${env:NAME}` in plugin options (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** A logger of your own; by default records are kept in memory (`logs`). */
  log?: Logger;
  /** Level of the in-memory logger (default `debug`). */
  logLevel?: LogLevel;
}

/** What one fed intent came to. */
export interface FeedResult {
  /** The terminal outcome; undefined when the intent was left undone (see `released`). */
  outcome: Outcome | undefined;
  /** What the pipeline handed back to the source as terminal (ack), at most once. */
  acked: Outcome[];
  /** Why the intent was handed back as not done (sink unreachable past the retry budget, shutdown). */
  released: string[];
}

export interface DeferredIntent {
  file: string;
  intentId: string;
  reason: string;
}

export interface TestPipeline {
  readonly conductor: Conductor;
  readonly dataDir: string;
  /** Every terminal outcome so far, oldest first, whoever fed the intent (feed or a real source). */
  readonly outcomes: readonly Outcome[];
  /** Every intent left undone so far. */
  readonly deferred: readonly DeferredIntent[];
  /** The in-memory log records (empty when a logger of your own was given). */
  readonly logs: readonly LogRecord[];
  /** Starts the plugins (only needed with `start: false`). */
  start(): Promise<void>;
  /**
   * Runs one intent through the pipeline as a source would and resolves with what became of it.
   * `intent` is an object (sent as JSON), a string, or the exact bytes.
   */
  feed(file: string, intent: unknown): Promise<FeedResult>;
  /** Resolves once `count` outcomes have settled in all (for intents a real source feeds). */
  waitForOutcomes(count: number, timeoutMs?: number): Promise<Outcome[]>;
  /** Stops the pipeline (gracefully, as on SIGTERM) and removes the temporary data dir. Safe twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function buildPipeline(options: BuildPipelineOptions): Promise<TestPipeline> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'conductor-testkit-'));
  const removeOwnDir = () => {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const captured = options.log === undefined ? captureLogs(options.logLevel) : undefined;
  let conductor: Conductor;
  try {
    const resolved = await resolveConfig(
      { ...options.config, dataDir, modules: options.modules ?? {}, plugins: options.plugins },
      { source: 'testkit', baseDir: options.baseDir ?? process.cwd(), ...(options.env === undefined ? {} : { env: options.env }) },
    );
    conductor = await createConductor(resolved, { log: options.log ?? captured!.log, mode: options.mode ?? 'once' });
  } catch (error) {
    removeOwnDir();
    throw error;
  }

  const outcomes: Outcome[] = [];
  const deferred: DeferredIntent[] = [];
  const waiters = new Set<() => void>();
  conductor.events.settled.tap('testkit', (outcome) => {
    outcomes.push(outcome);
    for (const wake of waiters) wake();
  });
  conductor.events.deferred.tap('testkit', (event) => void deferred.push(event));

  let closing: Promise<void> | undefined;
  const pipeline: TestPipeline = {
    conductor,
    dataDir,
    outcomes,
    deferred,
    logs: captured?.records ?? [],
    start: () => conductor.start(),
    feed: (file, intent) => feed(conductor, file, intent),
    waitForOutcomes: (count, timeoutMs = 10_000) => waitForOutcomes(outcomes, waiters, count, timeoutMs),
    close() {
      closing ??= conductor.stop().then(removeOwnDir, (error: unknown) => {
        removeOwnDir();
        throw error;
      });
      return closing;
    },
    [Symbol.asyncDispose]: () => pipeline.close(),
  };
  if (options.start !== false) {
    try {
      await conductor.start();
    } catch (error) {
      await pipeline.close().catch(() => undefined);
      throw error;
    }
  }
  return pipeline;
}

/** Hands an intent to the pipeline the way a source does: a place first, then the envelope. */
async function feed(conductor: Conductor, file: string, intent: unknown): Promise<FeedResult> {
  const acked: Outcome[] = [];
  const released: string[] = [];
  const slot = await conductor.pipeline.acquire();
  const envelope: Envelope = {
    file,
    source: 'testkit',
    bytes: bytesOf(intent),
    receivedAt: Date.now(),
    ack: async (outcome) => void acked.push(outcome),
    release: (reason) => void released.push(reason),
  };
  const outcome = await slot.process(envelope);
  return { outcome, acked, released };
}

/** Resolves once `outcomes` holds `count` entries; each new outcome calls the `waiters`. */
function waitForOutcomes(outcomes: Outcome[], waiters: Set<() => void>, count: number, timeoutMs: number): Promise<Outcome[]> {
  return new Promise<Outcome[]>((resolve, reject) => {
    const check = () => {
      if (outcomes.length < count) return;
      clearTimeout(deadline);
      waiters.delete(check);
      resolve(outcomes.slice());
    };
    // A deadline for a failing test, not a way to wait: success resolves on the event.
    const deadline = setTimeout(() => {
      waiters.delete(check);
      reject(new ConductorError('CND_ERR_INTERNAL', `${count} outcome(s) expected within ${timeoutMs} ms, ${outcomes.length} settled`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

function bytesOf(intent: unknown): Uint8Array {
  if (intent instanceof Uint8Array) return intent;
  return new TextEncoder().encode(typeof intent === 'string' ? intent : JSON.stringify(intent));
}
