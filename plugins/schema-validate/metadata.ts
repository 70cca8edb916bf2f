// The schema-validate plugin's options schema — each option's description and default, the one
// place an option is written (its type and the README derive from it) — and what its README
// says beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    allowedNamespaces: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
      description: 'When set, intents for any other namespace are refused. Unset: any namespace the intent itself allows.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    {
      name: 'schema',
      via: 'security',
      when: 'an intent does not match the intent JSON Schema (unknown fields, names that are not DNS-1123 labels, …)',
    },
    {
      name: 'replica-constraints',
      via: 'security',
      when: "`replicas` outside the intent's `constraints.min_replicas`/`max_replicas`",
    },
    {
      name: 'namespace-not-allowed',
      via: 'security',
      when: 'the namespace is outside `constraints.allowed_namespaces` or `allowedNamespaces`',
    },
  ],
  example: { 'schema-validate': { allowedNamespaces: ['production', 'staging'] } },
};
