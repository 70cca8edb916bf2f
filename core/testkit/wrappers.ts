// Definitions derived from the plugin under test, for the conformance checks that need a
// plugin to misbehave in a controlled way (a start that never returns, a tap that throws) or
// to be watched (when its start and stop are called). Each keeps the plugin's name, kind,
// schema and factory, so the core treats it exactly as the plugin itself: same instance id in
// errors, same place in the start order.
import { definePlugin } from '../plugin/define.ts';
import type { PluginDefinition, PluginInstance, PluginKind } from '../plugin/types.ts';
import type { StageContext, StageHooks } from '../bus/hooks.ts';
import type { PluginHooks } from '../bus/facade.ts';

/** The instance with some members replaced; the others still call the original (bound). */
export function delegate(instance: PluginInstance, overrides: PluginInstance): PluginInstance {
  const bound: PluginInstance = {};
  if (instance.start) bound.start = instance.start.bind(instance);
  if (instance.stop) bound.stop = instance.stop.bind(instance);
  if (instance.apply) bound.apply = instance.apply.bind(instance);
  if (instance.status) bound.status = instance.status.bind(instance);
  if (instance.idle) bound.idle = instance.idle.bind(instance);
  if (instance.preflight) bound.preflight = instance.preflight.bind(instance);
  return { ...bound, ...overrides };
}

/** The same plugin, with the instance its factory returns changed by `change`. */
export function derive(
  definition: PluginDefinition<any>,
  change: (instance: PluginInstance, id: string) => PluginInstance,
): PluginDefinition<any> {
  return definePlugin({
    ...definition,
    async create(context, options) {
      return change(await definition.create(context, options), context.id);
    },
  });
}

/** Resolves when `signal` aborts: what a start or stop does that never finishes on its own. */
function untilAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Its start never returns (until the core gives up and aborts it). The real start is not
 * called: what is checked is how the core reports this plugin, not what the plugin does.
 */
export function withHangingStart(definition: PluginDefinition<any>): PluginDefinition<any> {
  return derive(definition, (instance) => delegate(instance, { start: untilAbort, stop: () => undefined }));
}

/** Starts at once (without its real start) and its stop never returns. */
export function withHangingStop(definition: PluginDefinition<any>): PluginDefinition<any> {
  return derive(definition, (instance) => delegate(instance, { start: () => undefined, stop: untilAbort }));
}

/** Starts and stops as nothing: a companion that must be configured but need not run. */
export function inert(definition: PluginDefinition<any>): PluginDefinition<any> {
  return derive(definition, (instance) => delegate(instance, { start: () => undefined, stop: () => undefined }));
}

/** Writes `start <id>` and `stop <id>` into `journal` as the core calls them. */
export function withJournal(definition: PluginDefinition<any>, journal: string[]): PluginDefinition<any> {
  return derive(definition, (instance, id) =>
    delegate(instance, {
      start: async (signal) => {
        journal.push(`start ${id}`);
        await instance.start?.(signal);
      },
      stop: async (signal) => {
        journal.push(`stop ${id}`);
        await instance.stop?.(signal);
      },
    }),
  );
}

/** The file name that makes the plugin's taps at `stage` throw (see withFaultyTaps). */
export function faultFileFor(stage: string): string {
  return `conformance-fault-${stage}.json`;
}

export const FAULT_MESSAGE = 'conformance: a fault injected into this tap';

type AnyFunction = (...args: unknown[]) => unknown;
type TapMethod = 'tap' | 'tapAsync' | 'tapPromise';

/**
 * Every tap the plugin adds throws a plain Error instead of running when the intent is the
 * fault file of that tap's stage (for `claim`: when the key is). A plain Error, because that
 * is the worst case: the core's interceptors must turn it into a coded error naming the plugin.
 */
export function withFaultyTaps(definition: PluginDefinition<any>, stageOf: Record<keyof StageHooks, string>): PluginDefinition<any> {
  return derive(definition, (instance) => {
    const apply = instance.apply;
    if (apply === undefined) return instance;
    return delegate(instance, { apply: (hooks) => apply.call(instance, faultyHooks(hooks, stageOf)) });
  });
}

function faultyHooks(hooks: PluginHooks, stageOf: Record<keyof StageHooks, string>): PluginHooks {
  // Only the stage hooks the plugin owns are listed on its facade; the rest (the events, and the
  // getters that refuse other stages' hooks) are reached through the facade itself.
  const wrapped = Object.create(hooks) as Record<string, unknown>;
  for (const key of Object.keys(hooks).filter((name) => name !== 'events') as (keyof StageHooks)[]) {
    const stage = stageOf[key];
    const isFault = (args: unknown[]) =>
      key === 'claim' ? args[0] === faultFileFor(stage) : (args[1] as StageContext | undefined)?.file === faultFileFor(stage);
    const proxy = new Proxy(hooks[key], {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        if (property !== 'tap' && property !== 'tapAsync' && property !== 'tapPromise') return value.bind(target);
        return (options: unknown, fn: AnyFunction) => (value as AnyFunction).call(target, options, faulty(property, fn, isFault));
      },
    });
    Object.defineProperty(wrapped, key, { value: proxy, enumerable: true });
  }
  return wrapped as unknown as PluginHooks;
}

function faulty(method: TapMethod, fn: AnyFunction, isFault: (args: unknown[]) => boolean): AnyFunction {
  if (method === 'tapAsync') {
    return (...args) => {
      if (!isFault(args)) return fn(...args);
      (args[args.length - 1] as (error: Error) => void)(new Error(FAULT_MESSAGE));
      return undefined;
    };
  }
  if (method === 'tapPromise') return (...args) => (isFault(args) ? Promise.reject(new Error(FAULT_MESSAGE)) : fn(...args));
  return (...args) => {
    if (isFault(args)) throw new Error(FAULT_MESSAGE);
    return fn(...args);
  };
}

/** One do-nothing plugin per kind, whose start and stop go into `journal`: the order's landmarks. */
export function probePlugins(journal: string[]): Record<string, PluginDefinition<any>> {
  const kinds: PluginKind[] = ['service', 'audit', 'submit', 'rate-limit', 'sanitize', 'validate', 'source'];
  return Object.fromEntries(
    kinds.map((kind) => {
      const name = probeName(kind);
      const definition = definePlugin({
        name,
        kind,
        description: `conformance landmark for the ${kind} stage`,
        optionsSchema: { type: 'object', additionalProperties: false },
        defaults: {},
        create: (context) => ({
          start: () => void journal.push(`start ${context.id}`),
          stop: () => void journal.push(`stop ${context.id}`),
        }),
      });
      return [name, definition];
    }),
  );
}

export function probeName(kind: PluginKind): string {
  return `conformance-probe-${kind}`;
}
