// What every group of the conformance suite is given: the plugin under test, how it is
// configured, and the limits. Built once by runConformance from its options.
import type { Intent } from '../../intent/types.ts';
import type { PluginDefinition, PluginKind } from '../../plugin/types.ts';

export interface Subject {
  definition: PluginDefinition<any>;
  name: string;
  /** The instance id it runs as: `<name>/conformance`, so a hard-coded name shows. */
  id: string;
  kinds: readonly PluginKind[];
  /** Plugin id → options for a pipeline with it: the plugin and its companions. */
  plugins: Record<string, Record<string, unknown>>;
  companions: Record<string, Record<string, unknown>>;
  /** Modules for the companions that are not built in. */
  companionModules: Record<string, PluginDefinition<any> | string>;
  /** The `modules` of a config with `under` standing for the plugin (itself, or a wrapper). */
  modules(under: PluginDefinition<any>): Record<string, PluginDefinition<any> | string>;
  env: NodeJS.ProcessEnv;
  baseDir: string;
  intent: Intent;
  startTimeoutMs: number;
  createTimeoutMs: number;
}

/** node:test options of every check: a backstop, so a plugin that hangs where no limit applies fails its test, not the run. */
export const CHECK = { timeout: 60_000 };
