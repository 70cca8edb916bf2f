// The audit-log plugin's options schema — each option's description and default, the one place
// an option is written (its type and the README derive from it) — and what its README says
// beyond the options (scripts/plugin-readmes.ts).
import type { PluginDocs } from '../../core/index.ts';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      description:
        'The audit log file, relative to the data directory. Unset: `audit/audit.log`, or, for a process with a ' +
        'state ' +
        'directory of its own (a replica), `audit/audit-<host>-<hash>.log`.',
    },
    hmacKeyFile: {
      type: 'string',
      minLength: 1,
      description:
        'A file holding the HMAC key of the chain (a mounted Secret, not on the data volume). Unset: the chain is a ' + 'plain hash chain.',
    },
  },
} as const;

export const DOCS: PluginDocs = {
  stability: 'beta',
  events: [
    {
      name: 'outcome',
      via: 'audit',
      when: 'an intent reached a terminal state (intent id, file, outcome, stage, code, receipt, trace id)',
    },
    {
      name: 'security',
      via: 'audit',
      when: 'a security event: a refusal for a security reason (type, intent id, file, stage)',
    },
    { name: 'retention', via: 'audit', when: 'retention removed entries (area, count, age)' },
    {
      name: 'anchor',
      via: 'hook',
      when: 'a sink makes an effect: the chain head, recorded by the sink with the effect (commit trailer, annotation)',
    },
  ],
  example: { 'audit-log': { hmacKeyFile: '/var/run/secrets/conductor-audit/key' } },
  notes:
    'Each line is a pino-format JSON record with `audit: true`, written before its intent is acknowledged (the ' +
    'lines of one turn of the event loop in one write) and linked to the one before by a hash (an HMAC with ' +
    '`hmacKeyFile`). `conductor audit verify [--key-file F] [--anchors-from-git DIR] [--anchors F]` checks the chain.',
};
