// The sanitize plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

/** Shell, template and markup injection shapes; none has a place in an intent's fields. */
export const DEFAULT_BLOCKED_PATTERNS = [
  '\\$\\(',
  '`',
  '\\$\\{',
  '<\\s*/?\\s*script',
  'javascript:',
  '\\.\\./',
  ';\\s*(rm|curl|wget|sh|bash|nc)\\b',
  '\\|\\s*(sh|bash)\\b',
  '&&',
  '\\b(drop|truncate)\\s+table\\b',
];

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxInputLength: {
      type: 'integer',
      minimum: 1,
      default: 10_000,
      description: "The longest intent accepted, in characters of its JSON (the guide's `max_input_length`).",
    },
    blockedPatterns: {
      type: 'array',
      items: { type: 'string', minLength: 1, format: 'regex' },
      default: DEFAULT_BLOCKED_PATTERNS,
      description: 'Regular expressions (case-insensitive) that no string in an intent may match. Given, they replace the ' + 'defaults.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    { name: 'control-characters', via: 'security', when: 'a string holds a control character or a bidi override' },
    { name: 'blocked-pattern', via: 'security', when: 'a string matches one of `blockedPatterns`' },
    { name: 'encoding', via: 'security', when: 'a string holds a lone surrogate (not representable in UTF-8)' },
    { name: 'input-too-long', via: 'security', when: 'the intent is longer than `maxInputLength`' },
  ],
  example: { sanitize: { maxInputLength: 10_000 } },
  notes: 'Every string is NFC-normalised before the checks; refusals are `CND_ERR_INTENT_REJECTED`.',
};
