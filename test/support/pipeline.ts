// Builds a real pipeline in-process from test-defined plugins and feeds it envelopes directly
// (an in-memory source), for tests of the core's semantics. The work is the testkit's
// buildPipeline (conductor/testkit); this keeps the shorter signature our tests use.
import type { PluginDefinition } from '../../core/index.ts';
import { buildPipeline, type TestPipeline } from '../../core/testkit/index.ts';

export type { TestPipeline } from '../../core/testkit/index.ts';

export function testPipeline(
  plugins: Record<string, Record<string, unknown>>,
  modules: Record<string, PluginDefinition<any>>,
  extra: Record<string, unknown> = {},
): Promise<TestPipeline> {
  return buildPipeline({ plugins, modules, config: extra, mode: 'once' });
}
