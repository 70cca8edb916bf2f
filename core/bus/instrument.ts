// Cross-cutting concerns attach here, through tapable `register` interceptors, so that no stage
// plugin instruments itself: every tap is wrapped to measure its duration, to attribute any
// error to the plugin that threw it, and to report both on the `tapEnd` event.
import type { EventHooks, Rejection, StageContext, StageHooks } from './hooks.ts';
import { STAGE_OF_HOOK } from './hooks.ts';
import { toConductorError, type ConductorError } from '../errors.ts';

type AnyFn = (...args: unknown[]) => unknown;
interface RegisteredTap {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: AnyFn;
}

export function instrumentStageHooks(stages: StageHooks, events: EventHooks): void {
  for (const key of Object.keys(stages) as (keyof StageHooks)[]) {
    const stage = STAGE_OF_HOOK[key];
    const hook = stages[key] as unknown as { intercept(i: { register(tap: RegisteredTap): RegisteredTap }): void };
    hook.intercept({
      register: (tap) => ({ ...tap, fn: wrapTap(tap, stage, events) }),
    });
  }
}

function contextOf(args: unknown[]): StageContext | undefined {
  const ctx = args[1];
  return typeof ctx === 'object' && ctx !== null && 'intentId' in ctx ? (ctx as StageContext) : undefined;
}

/** Stages whose hooks bail on the first result: a tap's `null` or `false` means "no result". */
const BAIL_STAGES = new Set(['validate', 'submit']);

function wrapTap(tap: RegisteredTap, stage: string, events: EventHooks): AnyFn {
  const plugin = tap.name;
  /** Attributes an error to this plugin (always) and reports the tap on `tapEnd` (with a context). */
  const report = (args: unknown[], started: number, error?: unknown): ConductorError | undefined => {
    const ctx = contextOf(args);
    const attributed =
      error === undefined ? undefined : toConductorError(error, { plugin, stage, ...(ctx ? { intentId: ctx.intentId } : {}) });
    // No event is made when nobody taps tapEnd (it is made for every tap of every intent).
    if (ctx !== undefined && (events.tapEnd.taps.length > 0 || events.tapEnd.interceptors.length > 0)) {
      events.tapEnd.call({ stage, plugin, ctx, durationMs: performance.now() - started, ...(attributed ? { error: attributed } : {}) });
    }
    return attributed;
  };
  /**
   * tapable bails on any result but undefined, so a validator returning `false` would silently
   * skip the ones after it; and a rejection should name the plugin that made it.
   */
  const normalise = (result: unknown): unknown => {
    if (!BAIL_STAGES.has(stage)) return result;
    if (result === null || result === false) return undefined;
    if (stage === 'validate' && typeof result === 'object' && result !== null)
      return { ...result, plugin: (result as Rejection).plugin ?? plugin };
    return result;
  };
  const original = tap.fn;
  if (tap.type === 'promise') {
    return async (...args: unknown[]) => {
      const started = performance.now();
      try {
        const result = normalise(await original(...args));
        report(args, started);
        return result;
      } catch (error) {
        throw report(args, started, error);
      }
    };
  }
  if (tap.type === 'async') {
    return (...args: unknown[]) => {
      const started = performance.now();
      const callback = args.pop() as (error?: unknown, result?: unknown) => void;
      original(...args, (error?: unknown, result?: unknown) => {
        if (error) callback(report(args, started, error));
        else {
          report(args, started);
          callback(null, normalise(result));
        }
      });
    };
  }
  return (...args: unknown[]) => {
    const started = performance.now();
    try {
      const result = normalise(original(...args));
      report(args, started);
      return result;
    } catch (error) {
      throw report(args, started, error);
    }
  };
}
