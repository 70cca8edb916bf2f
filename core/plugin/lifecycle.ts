// Ordered start and stop (OTel Collector order): downstream first on start — services, then
// audit, submit, … and sources last, so nothing is fed into a stage that is not running — and
// the reverse on stop. Each step runs under a timeout whose error names the plugin.
import { ConductorError, toConductorError } from '../errors.ts';
import { STAGES, type PluginDefinition, type PluginInstance, type PluginKind } from './types.ts';
import { pluginHooks } from '../bus/facade.ts';
import type { EventHooks, StageHooks } from '../bus/hooks.ts';

export interface PluginEntry {
  id: string;
  definition: PluginDefinition;
  instance: PluginInstance;
}

const START_RANK: Record<PluginKind, number> = {
  service: 0,
  audit: 1,
  submit: 2,
  'rate-limit': 3,
  sanitize: 4,
  validate: 5,
  source: 6,
};

export function kindsOf(definition: PluginDefinition): readonly PluginKind[] {
  return typeof definition.kind === 'string' ? [definition.kind] : definition.kind;
}

/** A plugin that serves several stages starts with the most downstream of them. */
function rankOf(entry: PluginEntry): number {
  return Math.min(...kindsOf(entry.definition).map((kind) => START_RANK[kind]));
}

export function startOrder(entries: PluginEntry[]): PluginEntry[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => rankOf(a.entry) - rankOf(b.entry) || a.index - b.index)
    .map((x) => x.entry);
}

/**
 * The one place a plugin taps: its `apply` gets the stage hooks its kinds own and the events.
 * Reaching for another stage fails here, at registration, naming the plugin.
 */
export function applyTaps(entry: PluginEntry, stages: StageHooks, events: EventHooks): void {
  entry.instance.apply?.(pluginHooks(entry.id, kindsOf(entry.definition), stages, events));
}

export function isSource(definition: PluginDefinition): boolean {
  return kindsOf(definition).includes('source');
}

export async function withTimeout<T>(
  what: 'start' | 'stop',
  id: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ConductorError('CND_ERR_PLUGIN_TIMEOUT', `plugin ${id} did not ${what} within ${timeoutMs} ms`, { plugin: id }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => run(controller.signal)), timeout]);
  } catch (error) {
    if (error instanceof ConductorError && error.code === 'CND_ERR_PLUGIN_TIMEOUT') throw error;
    const code = what === 'start' ? 'CND_ERR_PLUGIN_START' : 'CND_ERR_PLUGIN_STOP';
    const cause = toConductorError(error, { plugin: id });
    throw new ConductorError(code, `plugin ${id} failed to ${what}: ${cause.message}`, { plugin: id, cause });
  } finally {
    clearTimeout(timer);
  }
}

export { STAGES };
