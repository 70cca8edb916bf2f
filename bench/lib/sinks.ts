// Bench-defined sinks: a null sink that accepts every intent with a receipt and does nothing
// else (isolating the pipeline), and a recording sink that notes when it was called.
import { definePlugin, type PluginDefinition } from '../../core/index.ts';

export const NULL_SINK = 'bench-null-sink';
export const RECORDING_SINK = 'bench-recording-sink';

export const nullSink: PluginDefinition<Record<string, never>> = definePlugin<Record<string, never>>({
  name: NULL_SINK,
  kind: 'submit',
  description: 'Benchmark sink: accepts every intent and does nothing.',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  defaults: {},
  create(context) {
    return {
      apply(hooks) {
        hooks.submit.tap(context.id, () => ({ sink: context.id, ref: 'null' }));
      },
    };
  },
});

export default nullSink;

/** A sink that calls `onCall(file, now)` (performance.now()) as its first action. */
export function recordingSink(onCall: (file: string, at: number) => void): PluginDefinition<Record<string, never>> {
  return definePlugin<Record<string, never>>({
    name: RECORDING_SINK,
    kind: 'submit',
    description: 'Benchmark sink: records when it was called for each file.',
    optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
    defaults: {},
    create(context) {
      return {
        apply(hooks) {
          hooks.submit.tap(context.id, (_intent, ctx) => {
            onCall(ctx.file, performance.now());
            return { sink: context.id, ref: 'recorded' };
          });
        },
      };
    },
  });
}
