// Cross-cutting concerns attach here, through tapable `register` interceptors, so that no stage
// plugin instruments itself: every tap is wrapped to measure its duration, to attribute any
// error to the plugin that threw it, and to report both on the `tapEnd` event.
import type { EventHooks, StageContext, StageHooks } from './hooks.ts';
import { STAGE_OF_HOOK } from './hooks.ts';
import { toConductorError } from '../errors.ts';

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

function wrapTap(tap: RegisteredTap, stage: string, events: EventHooks): AnyFn {
  const plugin = tap.name;
  const report = (args: unknown[], started: number, error?: unknown) => {
    const ctx = contextOf(args);
    if (ctx === undefined) return undefined;
    const attributed =
      error === undefined ? undefined : toConductorError(error, { plugin, stage, intentId: ctx.intentId });
    events.tapEnd.call({ stage, plugin, ctx, durationMs: performance.now() - started, ...(attributed ? { error: attributed } : {}) });
    return attributed;
  };
  const original = tap.fn;
  if (tap.type === 'promise') {
    return async (...args: unknown[]) => {
      const started = performance.now();
      try {
        const result = await original(...args);
        report(args, started);
        return result;
      } catch (error) {
        throw report(args, started, error) ?? error;
      }
    };
  }
  if (tap.type === 'async') {
    return (...args: unknown[]) => {
      const started = performance.now();
      const callback = args.pop() as (error?: unknown, result?: unknown) => void;
      original(...args, (error?: unknown, result?: unknown) => {
        if (error) callback(report(args, started, error) ?? error);
        else {
          report(args, started);
          callback(null, result);
        }
      });
    };
  }
  return (...args: unknown[]) => {
    const started = performance.now();
    try {
      const result = original(...args);
      report(args, started);
      return result;
    } catch (error) {
      throw report(args, started, error) ?? error;
    }
  };
}
