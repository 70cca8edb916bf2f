// Assembles a running Conductor from a resolved config: the hook bus, the ledger, the
// pipeline and the plugins, with ordered start and stop. The CLI and the testkit both build
// on this; nothing here knows a concrete plugin.
import { join } from 'node:path';
import { createEventHooks, createStageHooks, type EventHooks, type StageHooks } from './bus/hooks.ts';
import { instrumentStageHooks } from './bus/instrument.ts';
import { Ledger } from './delivery/ledger.ts';
import { Pipeline, type Readiness, type RuntimeInfo } from './delivery/host.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from './intent/identity.ts';
import { applyTaps, startOrder, withTimeout, isSource, kindsOf, type PluginEntry } from './plugin/lifecycle.ts';
import type { PluginDefinition, PluginStatus } from './plugin/types.ts';
import type { ResolvedPipelineConfig } from './config/validate.ts';
import type { ResolvedConfig } from './config/types.ts';
import type { Logger } from './log.ts';
import { toConductorError } from './errors.ts';
import { DataDir } from './data-dir/data-dir.ts';
import { OutcomeLog } from './delivery/outcome-log.ts';

export interface Conductor {
  readonly config: ResolvedConfig;
  readonly pipeline: Pipeline;
  readonly stages: StageHooks;
  readonly events: EventHooks;
  readonly plugins: readonly PluginEntry[];
  readonly ledger: Ledger;
  /** One log line per outcome, and the files that failed (for the summary `once` ends with). */
  readonly outcomes: OutcomeLog;
  start(): Promise<void>;
  /** Graceful: stop sources, drain in-flight intents (bounded), stop the rest. Safe twice. */
  stop(): Promise<{ abandoned: number }>;
  readiness(): Readiness;
  /** Resolves when every source reports it has offered all it had (`once`). */
  idle(): Promise<void>;
}

export interface CreateOptions {
  log: Logger;
  mode: 'run' | 'once' | 'check';
  /** Build everything but the sources (replay feeds the pipeline itself). */
  withoutSources?: boolean;
  /** Shared with the process that may rebuild the pipeline on reload. */
  runtime?: RuntimeInfo;
}

/** A short, stable hash of a resolved config (what /ready shows and reloads compare). */
export function configHash(config: ResolvedConfig): string {
  const modules = Object.fromEntries(Object.entries(config.modules).map(([k, v]) => [k, typeof v === 'string' ? v : v.name]));
  return createHash('sha256')
    .update(canonicalJson({ ...config, modules, source: undefined }))
    .digest('hex')
    .slice(0, 12);
}

export async function createConductor(resolved: ResolvedPipelineConfig, options: CreateOptions): Promise<Conductor> {
  const { config, definitions } = resolved;
  const log = options.log;
  // `check` builds the pipeline without touching the disk: factories do no I/O, and the
  // ledger lives in memory.
  const checking = options.mode === 'check';
  const dataDir = new DataDir(config.dataDir);
  if (!checking) dataDir.ensure();
  const stages = createStageHooks();
  const events = createEventHooks();
  instrumentStageHooks(stages, events);
  // Tapped before any plugin, so each outcome's line is written before observers react to it.
  const outcomes = new OutcomeLog(events, log);
  const ledger = openLedger(config, checking, log, events);
  const plugins = new PluginStatuses();
  let started = false;
  const readiness = (): Readiness => plugins.readiness(started && !pipeline.stopping, started);
  const runtime = options.runtime ?? { configHash: configHash(config), configSource: config.source, reloads: { applied: 0, refused: 0 } };
  const pipeline = new Pipeline({ stages, events, ledger, log, concurrency: config.concurrency, retry: config.retry, readiness, runtime });
  const entries = await createPlugins(definitions, { config, options, pipeline, stages, events, plugins });
  const lifecycle = new PluginLifecycle(startOrder(entries), config, log);
  let stopping: Promise<{ abandoned: number }> | undefined;

  return {
    config,
    pipeline,
    stages,
    events,
    plugins: entries,
    ledger,
    outcomes,
    readiness,
    async start() {
      try {
        await lifecycle.start();
      } catch (error) {
        ledger.close();
        throw error;
      }
      started = true;
      // uptimeMs: since the process started (the start-up time, for the first pipeline of a process).
      log.info(
        { plugins: lifecycle.ordered.map((e) => e.id), dataDir: config.dataDir, uptimeMs: Math.round(performance.now()) },
        'conductor started',
      );
    },
    stop() {
      stopping ??= (async () => {
        const result = await lifecycle.stop(() => pipeline.drain(config.shutdownTimeoutMs));
        ledger.close();
        log.info({ abandoned: result.abandoned }, 'conductor stopped');
        return result;
      })();
      return stopping;
    },
    async idle() {
      await Promise.all(entries.map((e) => e.instance.idle?.()));
    },
  };
}

function openLedger(config: ResolvedConfig, checking: boolean, log: Logger, events: EventHooks): Ledger {
  return new Ledger(checking ? ':memory:' : join(config.stateDir, 'ledger.sqlite'), {
    sync: config.ledger.sync,
    onCorruption: ({ intentId, reason }) => {
      log.error({ intentId, code: 'CND_ERR_LEDGER_CORRUPT' }, `ledger record quarantined: ${reason}`);
      events.security.call({ type: 'ledger-corruption', file: '', intentId, message: reason, stage: 'ledger' });
    },
  });
}

/** Every plugin's status, for /ready. */
class PluginStatuses {
  readonly #statuses = new Map<string, () => PluginStatus>();
  /** Sinks: their status is the state of the system behind them, not of this pod (Readiness.ready). */
  readonly #downstream = new Set<string>();

  add(id: string, status: (() => PluginStatus) | undefined, downstream: boolean): void {
    if (status) this.#statuses.set(id, status);
    if (downstream) this.#downstream.add(id);
  }

  /** `running`: started and not stopping; then ready unless a plugin of this pod is not. */
  readiness(running: boolean, started: boolean): Readiness {
    const plugins: Record<string, PluginStatus> = {};
    let ready = running;
    for (const [id, status] of this.#statuses) {
      try {
        plugins[id] = status();
      } catch (error) {
        plugins[id] = { ready: false, message: (error as Error).message };
      }
      if (!plugins[id]!.ready && !this.#downstream.has(id)) ready = false;
    }
    return { started, ready, plugins, downstream: [...this.#downstream].filter((id) => this.#statuses.has(id)) };
  }
}

interface PluginSetting {
  config: ResolvedConfig;
  options: CreateOptions;
  pipeline: Pipeline;
  stages: StageHooks;
  events: EventHooks;
  plugins: PluginStatuses;
}

/** Each plugin's instance, in config order, its taps applied and its status registered. */
async function createPlugins(definitions: Map<string, PluginDefinition>, setting: PluginSetting): Promise<PluginEntry[]> {
  const { config, options, pipeline, stages, events, plugins } = setting;
  const entries: PluginEntry[] = [];
  for (const [id, definition] of definitions) {
    if (options.withoutSources && isSource(definition)) continue;
    const instance = await definition.create(
      { id, log: options.log.child({ plugin: id }), dataDir: config.dataDir, config, host: pipeline, mode: options.mode },
      config.plugins[id] as never,
    );
    const entry: PluginEntry = { id, definition, instance };
    applyTaps(entry, stages, events);
    plugins.add(id, instance.status?.bind(instance), kindsOf(definition).includes('submit'));
    entries.push(entry);
  }
  return entries;
}

/** Starts plugins in order (downstream first) and stops them in reverse, each under its timeout. */
class PluginLifecycle {
  readonly ordered: PluginEntry[];
  readonly #started: PluginEntry[] = [];
  readonly #config: ResolvedConfig;
  readonly #log: Logger;

  constructor(ordered: PluginEntry[], config: ResolvedConfig, log: Logger) {
    this.ordered = ordered;
    this.#config = config;
    this.#log = log;
  }

  async start(): Promise<void> {
    for (const entry of this.ordered) {
      try {
        const began = performance.now();
        await withTimeout('start', entry.id, this.#config.pluginTimeoutMs, (signal) => entry.instance.start?.(signal));
        this.#started.push(entry);
        // What a slow start is made of, plugin by plugin (the boot timeout is per plugin too).
        this.#log.debug({ plugin: entry.id, durationMs: Math.round(performance.now() - began) }, 'plugin started');
      } catch (error) {
        // Whatever started is stopped again, upstream first, before the error surfaces.
        await this.#stopAll([...this.#started].reverse());
        throw error;
      }
    }
  }

  /** Sources first, then `drain` (the intents in flight), then the rest. */
  async stop<T>(drain: () => Promise<T>): Promise<T> {
    const reversed = [...this.#started].reverse();
    await this.#stopAll(reversed.filter((e) => isSource(e.definition)));
    const result = await drain();
    await this.#stopAll(reversed.filter((e) => !isSource(e.definition)));
    return result;
  }

  async #stopAll(list: PluginEntry[]): Promise<void> {
    for (const entry of list) {
      try {
        await withTimeout('stop', entry.id, this.#config.pluginTimeoutMs, (signal) => entry.instance.stop?.(signal));
      } catch (error) {
        this.#log.error({ err: toConductorError(error), plugin: entry.id }, (error as Error).message);
      }
    }
  }
}
