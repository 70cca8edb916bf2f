import type { LogLevel } from '../log.ts';
import type { RetryPolicy } from '../delivery/retry.ts';
import type { PluginDefinition } from '../plugin/types.ts';

/** The config as a user writes it (conductor.config.ts / .json / .yaml). */
export interface ConductorConfig {
  /** The data directory (docs/architecture.md §Data directory); relative paths are taken from the working directory. */
  dataDir?: string;
  /**
   * Where this process keeps its ledger and lock; `<dataDir>/state` by default. Replicas that
   * share one data directory (with a coordination plugin) each need their own.
   */
  stateDir?: string;
  logLevel?: LogLevel;
  /** How many intents may be in flight at once (the guide's "workers"). */
  concurrency?: number;
  /** How long a graceful stop waits for in-flight intents before leaving them for the next start. */
  shutdownTimeoutMs?: number;
  /** How long each plugin's start() or stop() may take. */
  pluginTimeoutMs?: number;
  /** How long a deferred intent (sink unreachable) waits before it is offered again. */
  requeueDelayMs?: number;
  retry?: Partial<RetryPolicy>;
  ledger?: { sync?: 'normal' | 'full' };
  /** Custom plugins: name → module specifier (relative to the config file) or a definition. */
  modules?: Record<string, string | PluginDefinition<any>>;
  /** Plugin id (`name` or `name/instance`) → its options. Order does not matter. */
  plugins: Record<string, Record<string, unknown>>;
}

/** The config after defaults, interpolation and validation. */
export interface ResolvedConfig {
  dataDir: string;
  stateDir: string;
  logLevel: LogLevel;
  concurrency: number;
  shutdownTimeoutMs: number;
  pluginTimeoutMs: number;
  requeueDelayMs: number;
  retry: RetryPolicy;
  ledger: { sync: 'normal' | 'full' };
  modules: Record<string, string | PluginDefinition<any>>;
  plugins: Record<string, Record<string, unknown>>;
  /** Where the config came from (a file path, or "embedded default"). */
  source: string;
}

export function defineConfig(config: ConductorConfig): ConductorConfig {
  return config;
}
