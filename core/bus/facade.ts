// What a plugin may tap. Each plugin gets, in its `apply`, the stage hooks its declared kinds
// own plus the event hooks, and nothing else: a validator that could tap `submit` would be a sink
// nobody configured as one (it would skip the start order, the readiness of sinks and `plan`).
// The stage hooks a plugin does not own are still named on the facade, as getters that throw, so
// that the mistake is reported with the plugin's name when it registers rather than as
// "cannot read properties of undefined" deep inside its apply.
import { ConductorError } from '../errors.ts';
import type { PluginKind } from '../plugin/types.ts';
import type { EventHooks, StageHooks } from './hooks.ts';

/**
 * The stage hooks each kind owns. `claim` (coordination between replicas, not a pipeline stage)
 * belongs to services, the plugins outside the data path; sources feed the pipeline through the
 * host and tap no stage.
 */
export const HOOKS_OF_KIND = {
  source: [],
  validate: ['validate'],
  sanitize: ['sanitize'],
  'rate-limit': ['rateLimit'],
  submit: ['submit'],
  audit: ['audit'],
  service: ['claim'],
} as const satisfies Record<PluginKind, readonly (keyof StageHooks)[]>;

/** The names of the stage hooks a plugin of kind(s) `K` owns. */
export type HookOfKind<K extends PluginKind> = (typeof HOOKS_OF_KIND)[K][number];

/**
 * What `PluginInstance.apply` receives: the stage hooks of the plugin's kinds (a plugin of kind
 * `validate` sees `validate`; one of kinds `['validate', 'sanitize']` sees both) and the events.
 */
export type PluginHooks<K extends PluginKind = PluginKind> = Pick<StageHooks, HookOfKind<K>> & {
  /** Observation hooks (settled, retry, security, …), open to every kind. */
  readonly events: EventHooks;
};

/** The hooks a plugin of `kinds` owns, by name. */
export function ownedHooks(kinds: readonly PluginKind[]): Set<keyof StageHooks> {
  return new Set(kinds.flatMap((kind): readonly (keyof StageHooks)[] => HOOKS_OF_KIND[kind] ?? []));
}

/** The kinds that own the stage hook `hook` (to say which kind a plugin would need). */
function ownersOf(hook: keyof StageHooks): PluginKind[] {
  return (Object.keys(HOOKS_OF_KIND) as PluginKind[]).filter((kind) => (HOOKS_OF_KIND[kind] as readonly string[]).includes(hook));
}

/**
 * The facade handed to the plugin `id` of `kinds`: its own stage hooks and the events as plain
 * properties; every other stage hook a getter that throws CND_ERR_PLUGIN_INVALID (not
 * enumerable, so that spreading or listing the facade shows only what the plugin may tap).
 */
export function pluginHooks(id: string, kinds: readonly PluginKind[], stages: StageHooks, events: EventHooks): PluginHooks {
  const owned = ownedHooks(kinds);
  const facade: Record<string, unknown> = {};
  for (const hook of Object.keys(stages) as (keyof StageHooks)[]) {
    if (owned.has(hook)) {
      Object.defineProperty(facade, hook, { value: stages[hook], enumerable: true });
      continue;
    }
    Object.defineProperty(facade, hook, {
      enumerable: false,
      get() {
        const declared = kinds.length === 0 ? 'no kind' : `kind ${kinds.join(', ')}`;
        throw new ConductorError(
          'CND_ERR_PLUGIN_INVALID',
          `plugin ${id} (${declared}) may not tap the ${hook} hook: only a plugin of kind ${ownersOf(hook).join(' or ')} may; ` +
            'declare that kind or leave the hook alone',
          { plugin: id, details: { hook, kinds } },
        );
      },
    });
  }
  Object.defineProperty(facade, 'events', { value: events, enumerable: true });
  return Object.freeze(facade) as unknown as PluginHooks;
}
