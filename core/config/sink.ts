// A pipeline that processes intents needs somewhere to deliver them. Without a sink every intent
// would be reported succeeded with nothing delivered (an easy state to reach by removing
// git-sink before adding porch-sink), so the commands that process intents refuse it. The
// programmatic testkit may still build a sink-less pipeline to test single stages.
import { ConductorError } from '../errors.ts';
import type { PluginDefinition } from '../plugin/types.ts';
import type { ResolvedPipelineConfig } from './validate.ts';

const kindsOf = (definition: PluginDefinition): readonly string[] =>
  typeof definition.kind === 'string' ? [definition.kind] : definition.kind;

/** Throws CND_ERR_CONFIG_INVALID (exit 2), naming the config file, when no plugin submits. */
export function requireSink(resolved: ResolvedPipelineConfig): ResolvedPipelineConfig {
  for (const definition of resolved.definitions.values()) if (kindsOf(definition).includes('submit')) return resolved;
  const { source } = resolved.config;
  const message =
    'no sink is configured (a plugin of kind "submit", such as git-sink or porch-sink); without one no intent can be delivered';
  throw new ConductorError('CND_ERR_CONFIG_INVALID', `invalid config ${source}:\n  - plugins: ${message}`, {
    path: 'plugins',
    details: { source, problems: [{ path: 'plugins', message }] },
  });
}
