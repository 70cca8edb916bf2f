// What every command that needs a pipeline does first: load and validate the config, then
// (for commands that work) take the data directory lock and build the pipeline.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.ts';
import { applyConfigPatches } from '../config/merge-patch.ts';
import { resolveConfig, type ResolvedPipelineConfig } from '../config/validate.ts';
import { requireSink } from '../config/sink.ts';
import { createConductor, type Conductor } from '../app.ts';
import { DataDirLock } from '../data-dir/lock.ts';
import { DataDir } from '../data-dir/data-dir.ts';
import { createLogger, type Logger } from '../log.ts';
import type { CommonFlags } from './options.ts';

export async function loadResolved(common: CommonFlags): Promise<ResolvedPipelineConfig> {
  const loaded = await loadConfigFile(common.config === undefined ? {} : { configPath: common.config });
  const raw = common.configPatches === undefined ? loaded.raw : await applyConfigPatches(loaded.raw, common.configPatches);
  return resolveConfig(raw, {
    source: loaded.source,
    baseDir: loaded.baseDir,
    overrides: {
      ...(common.dataDir === undefined ? {} : { dataDir: common.dataDir }),
      ...(common.stateDir === undefined ? {} : { stateDir: common.stateDir }),
      ...(common.logLevel === undefined ? {} : { logLevel: common.logLevel }),
    },
  });
}

/** The config of a command that processes intents (run, once, replay, validate): it must have a sink. */
export async function loadPipeline(common: CommonFlags): Promise<ResolvedPipelineConfig> {
  return requireSink(await loadResolved(common));
}

export interface Opened {
  conductor: Conductor;
  log: Logger;
  lock: DataDirLock;
}

/** Creates the data directory's folders and takes this process's lock on its state directory. */
export function lockDataDir(resolved: ResolvedPipelineConfig): { log: Logger; lock: DataDirLock } {
  const log = createLogger({ level: resolved.config.logLevel });
  new DataDir(resolved.config.dataDir).ensure();
  mkdirSync(resolved.config.stateDir, { recursive: true });
  const lock = new DataDirLock(join(resolved.config.stateDir, 'conductor.lock'));
  lock.acquire();
  return { log, lock };
}

export async function openConductor(
  resolved: ResolvedPipelineConfig,
  mode: 'run' | 'once',
  options: { withoutSources?: boolean } = {},
): Promise<Opened> {
  const { log, lock } = lockDataDir(resolved);
  try {
    const conductor = await createConductor(resolved, { log, mode, ...(options.withoutSources ? { withoutSources: true } : {}) });
    return { conductor, log, lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Every plugin's configWarnings (settings that work but weaken security), for print-config and validate. */
export function configWarnings(resolved: ResolvedPipelineConfig): { plugin: string; warning: string }[] {
  const found: { plugin: string; warning: string }[] = [];
  for (const [id, definition] of resolved.definitions) {
    if (definition.configWarnings === undefined) continue;
    let warnings: string[];
    try {
      warnings = definition.configWarnings((resolved.config.plugins[id] ?? {}) as never);
    } catch (error) {
      warnings = [`could not check the settings: ${(error as Error).message}`];
    }
    for (const warning of warnings) found.push({ plugin: id, warning });
  }
  return found;
}
