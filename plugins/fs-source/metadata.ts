// The fs-source plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pattern: {
      type: 'string',
      minLength: 1,
      pattern: '^[^/]+$',
      default: 'intent-*.json',
      description: 'The glob of the names in handoff/ that are intents; no other entry is touched.',
    },
    debounceMs: {
      type: 'integer',
      minimum: 0,
      maximum: 60_000,
      default: 250,
      description: 'How long a file must be unchanged before it is read (0 for producers that rename atomically).',
    },
    maxFileBytes: {
      type: 'integer',
      minimum: 1,
      default: 10_485_760,
      description: 'Larger files are refused before they are read (a security event).',
    },
    maxFilesPerBatch: {
      type: 'integer',
      minimum: 1,
      default: 100,
      description: 'How many files are admitted in a row before the source yields to other work.',
    },
    rescanMs: {
      type: 'integer',
      minimum: 0,
      default: 10_000,
      description:
        'How often `run` lists handoff/ again (0: never). Picks up what the watcher may have missed and what ' +
        'another replica claimed but did not finish.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    { name: 'file-name', via: 'security', when: 'an entry whose name is not UTF-8 (renamed, then refused)' },
    {
      name: 'the intent does not parse',
      via: 'log',
      when: 'a file stayed unparsable for one more `debounceMs` and goes to failed/ (info)',
    },
    {
      name: 'the file changed while it was processed',
      via: 'log',
      when: 'a file was rewritten while its intent was in flight; it is offered again (warn)',
    },
    { name: 'could not read the file', via: 'log', when: 'a file Conductor may not read stays in handoff/ (error)' },
    {
      name: 'backlog',
      via: 'hook',
      when: 'the names waiting for a place, reported to the host (the queue depth metric)',
    },
  ],
  example: { 'fs-source': { pattern: 'intent-*.json', debounceMs: 250 } },
};
