// `conductor backup` and `conductor restore` (issue 9): a consistent archive of the data
// directory taken while `run` keeps working, and its verified restore. The archive format and
// why the copy is consistent are in core/backup/.
import { createReadStream, existsSync, promises as fs, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadResolved } from '../setup.ts';
import { ConductorError, isConductorError } from '../../errors.ts';
import { writeBackup } from '../../backup/backup.ts';
import { restoreBackup } from '../../backup/restore.ts';
import { DATA_AREAS } from '../../backup/format.ts';

export const BACKUP_HELP = `conductor backup --out FILE [--force] [--config FILE] [--data-dir DIR] [--state-dir DIR]

Writes a consistent backup of the data directory to FILE (a gzip-compressed tar; "-" writes it
to standard output) while a running Conductor goes on working: no lock is taken. It holds the
ledger (a snapshot through SQLite's VACUUM INTO), handoff/, processed/, failed/, status/,
audit/, and the history of the git repository out/ (HEAD, refs and objects), with a manifest
listing every member's size and sha256. FILE is written under a temporary name and renamed
when complete; an existing FILE is replaced only with --force.

Exit codes: 0 written · 2 usage or config error · 3 not written (an I/O error; nothing left behind)`;

export const RESTORE_HELP = `conductor restore FILE [--force] [--config FILE] [--data-dir DIR] [--state-dir DIR]

Restores a backup made by \`conductor backup\` into the data directory (and the ledger into the
state directory, <data-dir>/state by default). FILE "-" reads standard input. The whole archive
is read and every checksum verified before anything is changed: a damaged archive is refused
naming the damaged member, a foreign one is refused, and nothing is touched. A data directory
that holds files is refused unless --force is given, which replaces handoff/, processed/,
failed/, status/, audit/, out/ and the ledger (other files are left alone). Stop Conductor
first: the restore takes the data directory's lock.

Intents that were in flight when the backup was taken are in handoff/ again; the next \`run\` or
\`once\` finishes them, and the sink's idempotency (the git sink's Conductor-Intent-Id trailers)
makes one that had already been committed a no-op.

Exit codes: 0 restored · 1 refused (archive damaged or not a backup; data directory not empty)
            2 usage or config error, or the data directory is in use`;

const REFUSALS = new Set(['CND_ERR_BACKUP_DAMAGED', 'CND_ERR_BACKUP_FOREIGN', 'CND_ERR_RESTORE_NOT_EMPTY']);

export async function backupCommand(argv: string[]): Promise<number> {
  const { common, values } = parseCommand(argv, { out: { type: 'string', short: 'o' }, force: { type: 'boolean' } });
  if (common.help) {
    console.log(BACKUP_HELP);
    return EXIT.ok;
  }
  const out = values['out'] as string | undefined;
  if (out === undefined || out === '')
    throw new ConductorError('CND_ERR_USAGE', 'name the archive with --out FILE (or --out - for standard output)');
  const { config } = await loadResolved(common);
  if (!existsSync(config.dataDir)) throw new ConductorError('CND_ERR_USAGE', `${config.dataDir} does not exist: nothing to back up`);
  const toStdout = out === '-';
  const target = toStdout ? undefined : resolve(out);
  if (target !== undefined) {
    if (existsSync(target) && values['force'] !== true)
      throw new ConductorError('CND_ERR_USAGE', `${out} exists; pass --force to replace it`);
    const area = DATA_AREAS.map((a) => resolve(config.dataDir, a)).find((dir) => target.startsWith(dir + sep));
    if (area !== undefined) throw new ConductorError('CND_ERR_USAGE', `--out must not be inside ${area}, which the backup itself reads`);
  }
  const scratchDir = target === undefined ? tmpdir() : dirname(target);
  const partial = target === undefined ? undefined : `${target}.partial-${process.pid}`;
  const started = Date.now();
  try {
    const manifest = await writeBackup({
      dataDir: config.dataDir,
      stateDir: config.stateDir,
      // Opened before the stream, so that a directory that does not exist is a coded error
      // here rather than an 'error' event no one listens to yet (which ended the process).
      destination: partial === undefined ? process.stdout : (await fs.open(partial, 'wx')).createWriteStream(),
      endDestination: partial !== undefined,
      scratchDir,
    });
    if (partial !== undefined && target !== undefined) await fs.rename(partial, target);
    const bytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
    const size = target === undefined ? '' : `, ${statSync(target).size} bytes compressed`;
    const git = manifest.git === null ? 'no repository' : `out/ at ${manifest.git.head?.slice(0, 12) ?? 'no commit'}`;
    console.error(
      `backup ${toStdout ? '(standard output)' : out}: ${manifest.files.length} files, ${bytes} bytes${size}; ` +
        `ledger ${manifest.ledger === null ? 'absent' : `${manifest.ledger.records} records`}; ${git}` +
        `${manifest.skipped.length > 0 ? `; ${manifest.skipped.length} entries skipped (not regular files)` : ''}` +
        ` (${Date.now() - started} ms)`,
    );
    return EXIT.ok;
  } catch (error) {
    if (partial !== undefined) await fs.rm(partial, { force: true });
    if (isConductorError(error)) throw error;
    throw new ConductorError('CND_ERR_BACKUP', `the backup was not written: ${(error as Error).message}`, { cause: error });
  }
}

export async function restoreCommand(argv: string[]): Promise<number> {
  const { common, values, positionals } = parseCommand(argv, { force: { type: 'boolean' } }, true);
  if (common.help) {
    console.log(RESTORE_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new ConductorError('CND_ERR_USAGE', 'name one archive to restore (or - for standard input)');
  const file = positionals[0]!;
  const fromStdin = file === '-';
  if (!fromStdin && !existsSync(file)) throw new ConductorError('CND_ERR_USAGE', `${file} does not exist`);
  const { config } = await loadResolved(common);
  try {
    const summary = await restoreBackup({
      input: fromStdin ? process.stdin : createReadStream(file),
      source: fromStdin ? 'standard input' : file,
      dataDir: config.dataDir,
      stateDir: config.stateDir,
      force: values['force'] === true,
      ...(fromStdin ? {} : { archivePath: file }),
    });
    const { manifest } = summary;
    console.error(
      `restored ${manifest.files.length} files from the backup of ${manifest.createdAt} (conductor ${manifest.conductorVersion}) into ${config.dataDir}` +
        `${summary.replaced > 0 ? `, replacing ${summary.replaced} files` : ''}; ` +
        `ledger ${manifest.ledger === null ? 'absent' : `${manifest.ledger.records} records`}` +
        `${manifest.git?.head ? `; out/ at ${manifest.git.head.slice(0, 12)}` : ''}`,
    );
    if (summary.worktreeWarning !== undefined) console.error(`warning: out/ working tree not checked out: ${summary.worktreeWarning}`);
    return EXIT.ok;
  } catch (error) {
    if (isConductorError(error) && REFUSALS.has(error.code)) {
      console.error(`conductor restore: ${error.code}: ${error.message}`);
      return EXIT.failed;
    }
    throw error;
  }
}
