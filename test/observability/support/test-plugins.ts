// Small plugins defined by the tests with the public definePlugin, standing in for what the
// real sinks will do (report a circuit state, carry the traceparent, fail transiently).
import { ConductorError, definePlugin, type Receipt } from '../../../core/index.ts';

/** A sink that accepts everything at once, remembering when (performance.now()) and the trace context each intent carried. */
export function recordingSink() {
  const seen: { intentId: string; file: string; at: number; traceId?: string; traceparent?: string }[] = [];
  const definition = definePlugin({
    name: 'recording-sink',
    kind: 'submit',
    description: 'test: accepts every intent and records its trace context',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create(context) {
      return {
        apply(hooks) {
          hooks.submit.tapPromise(context.id, async (_intent, ctx): Promise<Receipt> => {
            seen.push({ intentId: ctx.intentId, file: ctx.file, at: performance.now(), ...ctx.trace });
            return { sink: context.id, ref: `ref-${ctx.intentId.slice(0, 8)}` };
          });
        },
      };
    },
  });
  return { definition, seen };
}

export type CircuitState = 'closed' | 'half-open' | 'open';

/** A sink whose circuit breaker the test opens and closes; it reports it as a porch sink will. */
export function switchableSink() {
  let circuit: CircuitState = 'closed';
  const definition = definePlugin({
    name: 'switchable-sink',
    kind: 'submit',
    description: 'test: a sink whose circuit state is set by the test',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create(context) {
      return {
        apply(hooks) {
          hooks.submit.tapPromise(context.id, async () => {
            if (circuit === 'open') throw new ConductorError('CND_ERR_CIRCUIT_OPEN', 'circuit open', { plugin: context.id });
            return { sink: context.id };
          });
        },
        status: () =>
          circuit === 'open'
            ? { ready: false, message: 'circuit open: the server failed repeatedly', details: { circuit } }
            : { ready: true, details: { circuit } },
      };
    },
  });
  return { definition, setCircuit: (state: CircuitState) => (circuit = state) };
}

/** Fails the first submission of each listed target with a transient error, then lets it pass. */
export function flakySink(targets: Iterable<string>) {
  const pending = new Set(targets);
  const definition = definePlugin({
    name: 'flaky-sink',
    kind: 'submit',
    description: 'test: one transient failure per listed target, then passes to the next sink',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create(context) {
      return {
        apply(hooks) {
          hooks.submit.tapPromise(context.id, async (intent) => {
            if (pending.delete(intent.target))
              throw new ConductorError('CND_ERR_SUBMIT_TRANSIENT', 'HTTP 503 from the server', { plugin: context.id });
            return undefined;
          });
        },
      };
    },
  });
  return { definition };
}

/** A plugin whose start() waits until the test lets it finish: the pipeline is "starting". */
export function gatedStart() {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const definition = definePlugin({
    name: 'gated-start',
    kind: 'validate',
    description: 'test: start() waits for the test',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create: () => ({ start: () => gate }),
  });
  return { definition, open: () => open() };
}

/** A sink that holds every submission until the test releases them: intents pile up in flight. */
export function heldSink() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const definition = definePlugin({
    name: 'held-sink',
    kind: 'submit',
    description: 'test: submissions wait until the test releases them',
    optionsSchema: { type: 'object', additionalProperties: false },
    defaults: {},
    create(context) {
      return {
        apply(hooks) {
          hooks.submit.tapPromise(context.id, async () => {
            await released;
            return { sink: context.id };
          });
        },
      };
    },
  });
  return { definition, release: () => release() };
}
