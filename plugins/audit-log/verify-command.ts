// `conductor audit verify [--file F]`: walks the hash chain of an audit log and names the first
// line that was edited, removed or moved. Exit 0 when the chain is intact, 1 when it is not,
// 2 for a usage error.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PluginCommand } from '../../core/index.ts';
import { checkpointPathOf, verifyChain } from './chain.ts';

export const DEFAULT_AUDIT_PATH = 'audit/audit.log';

const HELP = `conductor audit verify [--file FILE] [--config FILE] [--data-dir DIR]

Checks the hash chain of the audit log: every record's hash, its link to the record before it,
and the checkpoint beside the log (FILE.head), which catches lines cut from the end.
FILE defaults to the audit-log plugin's "path" option, relative to the data directory
(<dataDir>/${DEFAULT_AUDIT_PATH}).

Exit codes: 0 the chain is intact · 1 it is broken (the first bad line is named) · 2 usage error`;

const OPTIONS = {
  file: { type: 'string', short: 'f' },
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string', short: 'd' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const auditCommand: PluginCommand = {
  summary: 'verify the hash chain of the audit log',
  help: HELP,
  async run(argv, context) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      console.error(`conductor audit: ${(error as Error).message} (see conductor audit --help)`);
      return 2;
    }
    const [action, ...extra] = parsed.positionals;
    if (parsed.values.help === true || action === 'help') {
      console.log(HELP);
      return 0;
    }
    if (action !== 'verify' || extra.length > 0) {
      console.error(`conductor audit: expected "verify", got ${JSON.stringify(parsed.positionals.join(' '))} (see conductor audit --help)`);
      return 2;
    }
    const configured = typeof context.options['path'] === 'string' ? context.options['path'] : DEFAULT_AUDIT_PATH;
    const file = resolve(context.config.dataDir, parsed.values.file ?? configured);
    if (!existsSync(file)) {
      console.error(`conductor audit verify: ${file}: no such audit log`);
      return 1;
    }
    const result = await verifyChain(file);
    if (!result.ok) {
      console.error(`conductor audit verify: ${file}: line ${result.line}: ${result.reason}`);
      return 1;
    }
    const tail = result.checkpoint === 'matched' ? 'the checkpoint matches' : `no checkpoint (${checkpointPathOf(file)}), so lines cut from the end would go unnoticed`;
    console.log(`${file}: ${result.records} records, chain intact; ${tail}`);
    return 0;
  },
};
