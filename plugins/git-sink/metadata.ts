// The git-sink plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: {
      type: 'string',
      minLength: 1,
      description: 'The repository directory, relative to the data directory. Unset: `<dataDir>/out`.',
    },
    branch: {
      type: 'string',
      pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
      default: 'main',
      description: 'The branch the commits go to.',
    },
    authorName: {
      type: 'string',
      minLength: 1,
      pattern: '^[^<>\\n]+$',
      default: 'Conductor',
      description: 'The author and committer name of the commits.',
    },
    authorEmail: {
      type: 'string',
      minLength: 3,
      pattern: '^[^<>\\s]+$',
      default: 'conductor@localhost',
      description: 'The author and committer email of the commits.',
    },
    worktree: {
      type: 'boolean',
      default: true,
      description: 'Also write each package into the working tree (made equal to HEAD at start and stop).',
    },
    maxIntentsPerCommit: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 1,
      description:
        'At most this many intents per commit. Above 1, the intents waiting while a commit is written share the ' +
        'next one, one `Conductor-Intent-Id` trailer each; one group is written while the next forms, so set ' +
        '`concurrency` to about twice it. Every commit writes the tree of each namespace it touches again, one entry ' +
        'per package: with thousands of packages in a namespace, grouping keeps the rate from falling as it grows.',
    },
    blueprint: {
      type: 'string',
      minLength: 1,
      description:
        'A kpt package directory new targets are instantiated from (relative to the config file). Unset: an intent ' +
        'for a new target is refused.',
    },
    sync: {
      enum: ['normal', 'full'],
      description:
        '`full`: fsync the packs, the branch and their directories before a receipt (survives a power loss). Unset: ' + 'as `ledger.sync`.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    { name: 'intent-conflict', via: 'security', when: 'an intent id already committed with other content' },
    {
      name: 'removed temporary files a stopped writer left',
      via: 'log',
      when: 'start found what a killed writer left (info)',
    },
    {
      name: 'the repository writer lock was taken over',
      via: 'log',
      when: 'the lock file of another writer went stale (warn)',
    },
    {
      name: 'Conductor-Intent-Id',
      via: 'hook',
      when:
        "a commit trailer per intent (with its content hash, order and audit anchor): the sink's own record, read " +
        'by `conductor history`',
    },
  ],
  example: { 'git-sink': { blueprint: './examples/blueprints/deployment', maxIntentsPerCommit: 1 } },
};
