// The plugin contract (docs/architecture.md §Plugin contract): a factory with metadata that returns an instance with
// start/stop and the taps it adds. Factories do no I/O; start runs downstream-first and stop
// upstream-first, each under a timeout that names the plugin.
import type { Logger } from '../log.ts';
import type { Host } from '../delivery/host.ts';
import type { PluginHooks } from '../bus/facade.ts';
import type { Intent } from '../intent/types.ts';
import type { ResolvedConfig } from '../config/types.ts';
import type { PluginDocs } from './docs.ts';

/** The pipeline stages in order, plus `service` for plugins outside the data path. */
export const STAGES = ['source', 'validate', 'sanitize', 'rate-limit', 'submit', 'audit'] as const;
export type Stage = (typeof STAGES)[number];
export type PluginKind = Stage | 'service';

/** A JSON Schema object (draft-07), as ajv takes it. */
export type JsonSchema = Record<string, unknown>;

export interface PluginStatus {
  ready: boolean;
  /** Why it is not ready (shown on /ready), or extra state worth showing. */
  message?: string;
  details?: Record<string, unknown>;
}

/**
 * A running plugin. `K` is the union of its definition's kinds: it decides which stage hooks
 * `apply` is handed (see PluginHooks), so that tapping another stage is a type error.
 */
export interface PluginInstance<K extends PluginKind = PluginKind> {
  /** Start background work and return; long work continues on the plugin's own timers. */
  start?(signal: AbortSignal): Promise<void> | void;
  /** Stop and flush. Must be safe before start() and when called twice. */
  stop?(signal: AbortSignal): Promise<void> | void;
  /**
   * The one place a plugin taps (called once, after create and before start): `hooks` holds the
   * stage hooks its kinds own and the event hooks. Reaching for another stage's hook throws
   * CND_ERR_PLUGIN_INVALID.
   */
  apply?(hooks: PluginHooks<K>): void;
  /** Readiness as this plugin sees it; aggregated into /ready. */
  status?(): PluginStatus;
  /**
   * Sources only, in `once` mode: resolves when everything present at start has been offered
   * and has settled or been released.
   */
  idle?(): Promise<void>;
  /**
   * Optional reachability checks for `conductor validate --check-connectivity` (server reachable,
   * credentials accepted, permissions granted). Only called on that request: it does I/O.
   */
  preflight?(signal: AbortSignal): Promise<PreflightCheck[]>;
  /**
   * Sinks only, optional: what submitting this intent WOULD do, found with read-only operations
   * (`conductor plan`). Called on a pipeline built in `check` mode, so without start(): it must
   * not take the sink's locks, repair or write anything, nor make a write request. A sink
   * without it cannot plan, and `conductor plan` says so rather than guess.
   */
  plan?(intent: Intent, request: PlanRequest): Promise<PlanResult>;
  /**
   * Sinks only, optional: every intent the sink applied to one target, oldest first, read from
   * the sink's own record (commit trailers, PackageRevision annotations) — `conductor history`.
   * Read-only and without start(), like plan().
   */
  history?(query: HistoryQuery): Promise<HistoryEntry[]>;
}

/** The facts about an intent a sink plans with: what the pipeline would put in its StageContext. */
export interface PlanRequest {
  intentId: string;
  file: string;
  contentHash: string;
  /** The producer's order (ms since the epoch), when known. */
  order?: number;
  signal: AbortSignal;
}

/** One package file as the sink holds it now (`before`) and as the intent would leave it (`after`). */
export interface PlannedFile {
  /** The file's path in the sink: `<namespace>/<package>/deployment.yaml`, or `<revision>/deployment.yaml`. */
  path: string;
  /** Absent for a file the intent would create. */
  before?: string;
  after?: string;
}

export type PlanOutcome = 'apply' | 'duplicate' | 'conflict' | 'superseded' | 'refused';

export interface PlanResult {
  outcome: PlanOutcome;
  /** Why (for every outcome but a plain `apply`): the conflicting commit, the newer intent, the refusal. */
  message?: string;
  /** The files whose content would change (empty unless `apply`). */
  files: PlannedFile[];
  /** What the sink compared against: a commit id, a PackageRevision name, or `none` for a new target. */
  base?: string;
}

export interface HistoryQuery {
  namespace: string;
  target: string;
  signal: AbortSignal;
}

/** One intent a sink applied to a target, as the sink itself records it. */
export interface HistoryEntry {
  /** ISO time of the commit or publication. */
  time: string;
  intentId: string;
  /** The intent file's name, when the sink records it. */
  file?: string;
  contentHash?: string;
  replicas?: number;
  /** The producer's order (ms since the epoch), when recorded. */
  order?: number;
  /** The sink's receipt: a commit id, or a PackageRevision name and its revision number. */
  receipt: { ref: string; revision?: number };
  /** The trace the intent was delivered under (filled by `conductor history` from the status file, when known). */
  traceId?: string;
}

export interface PreflightCheck {
  name: string;
  ok: boolean;
  message: string;
}

/**
 * A subcommand a plugin adds to the CLI (`conductor audit verify` comes from audit-log). It runs
 * with the resolved config; the plugin's own options are `options`.
 */
export interface PluginCommand {
  summary: string;
  help: string;
  run(argv: string[], context: { id: string; config: ResolvedConfig; options: Record<string, unknown> }): Promise<number>;
}

export interface PluginContext {
  /** The instance id from the config: `porch-sink` or `porch-sink/eu`. */
  readonly id: string;
  readonly log: Logger;
  /** The absolute data directory (docs/architecture.md §Data directory). */
  readonly dataDir: string;
  /** The whole resolved config (for reading shared settings; never for other plugins' options). */
  readonly config: ResolvedConfig;
  /** The running pipeline: sources feed it; services observe it. */
  readonly host: Host;
  /** `run` watches until stopped; `once` drains what is there and stops; `check` never starts. */
  readonly mode: 'run' | 'once' | 'check';
}

export interface PluginDefinition<Options extends object = Record<string, unknown>, K extends PluginKind = PluginKind> {
  /** kebab-case, unique; appears in logs, metrics and errors. */
  readonly name: string;
  readonly kind: K | readonly K[];
  readonly description: string;
  /**
   * JSON Schema of the options object; `additionalProperties: false` is required. Each property
   * carries its `description`, and its `default` when it has one: the one place an option is
   * written (the options type, the defaults and the plugin's README are derived from it).
   */
  readonly optionsSchema: JsonSchema;
  /** Merged under the configured options before they are validated: the schema's `default`s. */
  readonly defaults: Partial<Options>;
  /** What the plugin's README says beyond the options (scripts/plugin-readmes.ts). */
  readonly docs?: PluginDocs;
  /** Names of plugins that must also be configured (e.g. a sink that needs a coordinator). */
  readonly dependencies?: readonly string[];
  /** A semver range of Conductor versions this plugin works with. */
  readonly conductor?: string;
  create(context: PluginContext, options: Options): PluginInstance<K> | Promise<PluginInstance<K>>;
  /** CLI subcommands this plugin contributes (found when the plugin is in the config). */
  readonly commands?: Readonly<Record<string, PluginCommand>>;
  /**
   * Settings that work but weaken security (a TLS check turned off, a token over plain HTTP),
   * including those that come from files the options name; `print-config` and `validate` show
   * them. May read those files; never contacts anything.
   */
  configWarnings?(options: Options): string[];
}

/** Marks a value as a plugin definition, so that copies of the core in one process agree. */
export const PLUGIN_BRAND: unique symbol = Symbol.for('conductor.plugin') as never;
