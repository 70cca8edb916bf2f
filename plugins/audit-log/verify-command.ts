// `conductor audit verify`: walks the hash chain of every audit log of the data directory (or
// of one, with --file) and names the first line that was edited, removed or moved. With the
// audit key it checks each keyed record's MAC; with anchors (from the git sink's commits, or a
// file of anchors, e.g. the Porch sink's annotations) it checks that the log still holds the
// records the sinks saw. Exit 0 when every chain is intact, 1 when one is not, 2 for a usage error.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIT_ANCHOR_TRAILER, type PluginCommand } from '../../core/index.ts';
import { checkpointPathOf, parseAnchor, verifyChain, type Anchor } from './chain.ts';
import { auditLogPath, chainName, DEFAULT_AUDIT_DIR, DEFAULT_AUDIT_PATH, readAuditKey } from './paths.ts';

/** The commit trailer the git sink records each effect's anchor in. */
const ANCHOR_TRAILER = AUDIT_ANCHOR_TRAILER;

const HELP = `conductor audit verify [--file FILE] [--key-file FILE] [--anchors-from-git DIR] [--anchors FILE]
                       [--config FILE] [--data-dir DIR]

Checks the hash chain of each audit log: every record's hash, its link to the record before it,
and the checkpoint beside the log (FILE.head), which catches lines cut from the end.
Without --file, every chain of the audit directory is checked (<dataDir>/${DEFAULT_AUDIT_DIR}: each
replica writes a log of its own), and the log of the audit-log plugin's "path" option.
Default log: <dataDir>/${DEFAULT_AUDIT_PATH}.

  --key-file FILE          the audit key (default: the plugin's hmacKeyFile): the MAC of every
                           keyed record is checked, and a chain that is not keyed to its end fails
  --anchors-from-git DIR   anchors from the ${ANCHOR_TRAILER} trailers of every commit of the
                           repository DIR (the git sink's): each must name a record the log holds
  --anchors FILE           anchors, one per line (<log name>@<seq>:<hash>; "-" reads standard
                           input), e.g. the Porch sink's annotations read with kubectl

The checkpoint beside the log can be rewritten by whoever can write the data volume; anchors
and the key cannot (see SECURITY.md).

Exit codes: 0 every chain is intact · 1 one is broken (the first bad line is named) · 2 usage error`;

const OPTIONS = {
  file: { type: 'string', short: 'f' },
  'key-file': { type: 'string' },
  'anchors-from-git': { type: 'string' },
  anchors: { type: 'string' },
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string', short: 'd' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The anchors in the trailers of every commit of a repository, read with the git CLI. */
export function anchorsFromGit(repo: string): Anchor[] {
  const out = execFileSync(
    'git',
    ['-C', repo, 'log', '--all', `--format=%H%x1f%(trailers:key=${ANCHOR_TRAILER},valueonly,separator=%x1f)%x1e`],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const anchors: Anchor[] = [];
  for (const entry of out.split('\x1e')) {
    const [commit, ...values] = entry.trim().split('\x1f');
    if (commit === undefined || commit === '') continue;
    for (const value of values) {
      const anchor = parseAnchor(value, `commit ${commit.slice(0, 12)}`);
      if (anchor !== undefined) anchors.push(anchor);
    }
  }
  return anchors;
}

/** Anchors from a text, one per line; a line that is not one is an error naming it. */
export function anchorsFromText(text: string, source: string): Anchor[] {
  const anchors: Anchor[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const anchor = parseAnchor(trimmed, `${source} line ${index + 1}`);
    if (anchor === undefined) throw new Error(`${source} line ${index + 1}: not an anchor (<log name>@<seq>:<64 hex digits>)`);
    anchors.push(anchor);
  });
  return anchors;
}

/** Every audit log to check: the configured (or default) one, and every *.log beside it or in the audit directory. */
function chainsOf(dataDir: string, configured: string): string[] {
  const found = new Set<string>([configured].filter((p) => existsSync(p)));
  for (const dir of new Set([dirname(configured), resolve(dataDir, DEFAULT_AUDIT_DIR)])) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.log')) found.add(join(dir, name));
  }
  return [...found].sort();
}

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
    const { dataDir } = context.config;
    let key: Buffer | undefined;
    const anchors: Anchor[] = [];
    try {
      const keyFile =
        parsed.values['key-file'] ?? (typeof context.options['hmacKeyFile'] === 'string' ? context.options['hmacKeyFile'] : undefined);
      if (keyFile !== undefined) key = readAuditKey(keyFile, parsed.values['key-file'] === undefined ? 'hmacKeyFile' : '--key-file');
      const repo = parsed.values['anchors-from-git'];
      if (repo !== undefined) anchors.push(...anchorsFromGit(resolve(repo)));
      const file = parsed.values.anchors;
      if (file !== undefined)
        anchors.push(...anchorsFromText(readFileSync(file === '-' ? 0 : file, 'utf8'), file === '-' ? 'standard input' : file));
    } catch (error) {
      console.error(`conductor audit verify: ${(error as Error).message}`);
      return 2;
    }

    const configured = auditLogPath(context.config, typeof context.options['path'] === 'string' ? context.options['path'] : undefined);
    const files = parsed.values.file !== undefined ? [resolve(dataDir, parsed.values.file)] : chainsOf(dataDir, configured);
    if (files.length === 0 || !files.every((file) => existsSync(file))) {
      console.error(`conductor audit verify: ${files.find((f) => !existsSync(f)) ?? configured}: no such audit log`);
      return 1;
    }
    let broken = 0;
    for (const file of files) {
      const mine = anchors.filter((a) => a.chain === chainName(file));
      const result = await verifyChain(file, { ...(key === undefined ? {} : { key }), anchors: mine });
      if (!result.ok) {
        console.error(`conductor audit verify: ${file}: line ${result.line}: ${result.reason}`);
        broken += 1;
        continue;
      }
      const notes = [
        result.checkpoint === 'matched'
          ? 'the checkpoint matches'
          : `no checkpoint (${checkpointPathOf(file)}), so lines cut from the end would go unnoticed`,
        result.keyed === 0
          ? 'not keyed'
          : key === undefined
            ? `${result.keyed} keyed records, MACs not checked (no key given)`
            : `${result.keyed} keyed records, MACs match`,
        ...(anchors.length > 0 ? [`${result.anchored} anchors match`] : []),
      ];
      console.log(`${file}: ${result.records} records, chain intact; ${notes.join('; ')}`);
    }
    // An anchor of a log that is not there: the whole log was removed (or renamed).
    if (parsed.values.file === undefined) {
      const names = new Set(files.map(chainName));
      const orphan = anchors.find((a) => !names.has(a.chain));
      if (orphan !== undefined) {
        console.error(
          `conductor audit verify: the anchor in ${orphan.source} names audit log ${orphan.chain}, which is not there (it was removed)`,
        );
        broken += 1;
      }
    }
    return broken === 0 ? 0 : 1;
  },
};
