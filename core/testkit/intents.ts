// Intents for tests: a valid one by default (it passes schema-validate and sanitize), with any
// field overridden.
import type { Intent } from '../intent/types.ts';

export function sampleIntent(overrides: Partial<Intent> = {}): Intent {
  return {
    intent_type: 'scaling',
    target: 'sample-target',
    namespace: 'sample-namespace',
    replicas: 2,
    source: 'test',
    reason: 'testkit sample',
    ...overrides,
  };
}
