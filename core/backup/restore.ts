// Restores a backup into a data directory. Nothing in the data directory is touched before the
// whole archive has been read and every checksum verified: members are staged in a hidden
// directory inside the data directory (same filesystem, so putting them in place is a rename),
// and a damaged or foreign archive leaves the data directory as it was. The restore holds the
// data directory's lock, so it cannot run beside a Conductor that owns the directory.
import { DatabaseSync } from 'node:sqlite';
import { chmodSync, existsSync, promises as fs, readFileSync, utimesSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ConductorError } from '../errors.ts';
import { DataDir } from '../data-dir/data-dir.ts';
import { DataDirLock } from '../data-dir/lock.ts';
import { FILE_MODE } from '../data-dir/modes.ts';
import {
  DATA_AREAS,
  LEADING_MEMBER_LIMITS,
  LEDGER_MEMBER,
  MANIFEST_MEMBER,
  MANIFEST_SUM_MEMBER,
  MARKER_MEMBER,
  memberNameProblem,
  parseMarker,
  type Manifest,
  type ManifestEntry,
  type Marker,
} from './format.ts';
import { ArchiveReadError, readArchive, type StagedMember } from './tar.ts';
import { damaged, readManifest, verifyStaged } from './verify.ts';
import { checkOutWorktree, completeRepository } from './git-repo.ts';

export const STAGING_PREFIX = '.conductor-restore-';
const LEDGER_FILES = ['ledger.sqlite', 'ledger.sqlite-wal', 'ledger.sqlite-shm', 'ledger.sqlite-journal'];

export interface RestoreOptions {
  input: Readable;
  /** How to name the archive in messages (its path, or "standard input"). */
  source: string;
  dataDir: string;
  stateDir: string;
  /** Replace what the data directory holds instead of refusing. */
  force: boolean;
  /** The archive's own path when it is a file: it does not count as content of the data directory. */
  archivePath?: string;
}

export interface RestoreSummary {
  manifest: Manifest;
  /** Files that were in the data directory and were replaced (with --force). */
  replaced: number;
  /** Why the repository's working tree was not checked out, when it was not. */
  worktreeWarning?: string;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreSummary> {
  const dataDir = resolve(options.dataDir);
  const stateDir = resolve(options.stateDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const lock = new DataDirLock(join(stateDir, 'conductor.lock'));
  lock.acquire();
  let staging: string | undefined;
  let keepStaging = false;
  try {
    await removeLeftoverStaging(dataDir);
    const ignored = new Set([lock.path, ...(options.archivePath === undefined ? [] : [resolve(options.archivePath)])]);
    const occupied = await filesIn(dataDir, stateDir, ignored);
    if (occupied.length > 0 && !options.force) {
      const shown = occupied.slice(0, 3).map((p) => relative(dataDir, p) || p);
      throw new ConductorError(
        'CND_ERR_RESTORE_NOT_EMPTY',
        `${dataDir} is not empty (${shown.join(', ')}${occupied.length > 3 ? ', …' : ''}); restore into an empty data directory, or pass --force to replace its contents`,
        { details: { files: occupied.length } },
      );
    }
    staging = await fs.mkdtemp(join(dataDir, STAGING_PREFIX));
    const incoming = join(staging, 'incoming');
    const { members, marker } = await stage(options, incoming);
    const manifest = verifyStaged(members, marker, options.source);
    const ledger = members.find((m) => m.path === LEDGER_MEMBER);
    if (ledger !== undefined) checkLedger(ledger.file, options.source);
    applyMetadata(manifest, incoming);
    const gitDir = join(incoming, 'data', 'out', '.git');
    if (existsSync(join(gitDir, 'HEAD'))) await completeRepository(gitDir);

    // Verified: now, and only now, the data directory changes.
    const previous = join(staging, 'previous');
    try {
      await putInPlace({ incoming, previous, dataDir, stateDir, ledger: ledger?.file });
    } catch (error) {
      keepStaging = true;
      throw new ConductorError(
        'CND_ERR_INTERNAL',
        `restore failed while putting files in place: ${(error as Error).message}; what the data directory held before is kept in ${previous}`,
        { cause: error },
      );
    }
    const summary: RestoreSummary = { manifest, replaced: occupied.length };
    if (manifest.git?.worktree && manifest.git.head !== null) {
      const warning = await checkOutWorktree(join(dataDir, 'out'));
      if (warning !== undefined) summary.worktreeWarning = warning;
    }
    return summary;
  } finally {
    if (staging !== undefined && !keepStaging) await fs.rm(staging, { recursive: true, force: true });
    lock.release();
  }
}

/**
 * Reads the archive into `incoming`, refusing a foreign one at its first member, and holding
 * every member to the manifest (the archive's second and third members) as it streams: a
 * member it does not list, or whose header says another size than it lists, is refused before
 * a byte of it is written, and each member's sha256 is checked as soon as it ends. So at most
 * what the manifest lists (each listed name once) is ever staged.
 */
async function stage(options: RestoreOptions, incoming: string): Promise<{ members: StagedMember[]; marker: Marker }> {
  let marker: Marker | undefined;
  let manifest: Manifest | undefined;
  let listed = new Map<string, ManifestEntry>();
  let manifestFile: string | undefined;
  let members: StagedMember[];
  const source = options.source;
  const expectedAt = [MARKER_MEMBER, MANIFEST_MEMBER, MANIFEST_SUM_MEMBER];
  try {
    members = await readArchive(options.input, {
      stagingDir: incoming,
      refuseName: (path, index, size) => {
        if (index === 0 && path !== MARKER_MEMBER) {
          throw new ConductorError(
            'CND_ERR_BACKUP_FOREIGN',
            `${source} is not a Conductor backup: its first member is ${path}, not ${MARKER_MEMBER}`,
          );
        }
        const nameProblem = memberNameProblem(path);
        if (nameProblem !== undefined) return nameProblem;
        const leading = expectedAt[index];
        if (leading !== undefined) {
          if (path !== leading)
            throw damaged(source, path, `member ${path} is where ${leading} belongs (member ${index + 1} of the archive)`);
          const limit = LEADING_MEMBER_LIMITS[leading]!;
          if (size > limit) throw damaged(source, path, `member ${path} is ${size} bytes, more than the ${limit} it may have`);
          return undefined;
        }
        const entry = listed.get(path);
        if (entry === undefined) throw damaged(source, path, `member ${path} is not listed in the manifest (or appears twice)`);
        if (entry.size !== size) throw damaged(source, path, `member ${path} has ${size} bytes, the manifest says ${entry.size}`);
        listed.delete(path);
        return undefined;
      },
      onMember: (member, index) => {
        if (index === 0) marker = parseMarker(readFileSync(member.file), source);
        else if (index === 1) manifestFile = member.file;
        else if (index === 2) {
          manifest = readManifest(readFileSync(manifestFile!), readFileSync(member.file, 'utf8'), marker!, source);
          listed = new Map(manifest.files.filter((f) => f.path !== MARKER_MEMBER).map((f) => [f.path, f]));
        } else if (member.sha256 !== manifest!.files.find((f) => f.path === member.path)?.sha256) {
          throw damaged(source, member.path, `member ${member.path} is damaged: its sha256 does not match the manifest`);
        }
      },
    });
  } catch (error) {
    if (!(error instanceof ArchiveReadError)) throw error;
    throw explainReadError(error, source, marker);
  }
  if (marker === undefined) throw new ConductorError('CND_ERR_BACKUP_FOREIGN', `${source} is not a Conductor backup: it is empty`);
  return { members, marker };
}

/**
 * Turns a broken read into the most precise refusal. Not gzip, or gzip holding no tar: foreign.
 * Otherwise damaged: every member read whole has already been checked against the manifest, so
 * the damage is in the member the stream broke in, or after the last one read.
 */
function explainReadError(error: ArchiveReadError, source: string, marker: Marker | undefined): ConductorError {
  if (error.member === undefined && error.after === undefined) {
    if (error.bytesRead === 0) return new ConductorError('CND_ERR_BACKUP_FOREIGN', `${source} is not a Conductor backup: it is empty`);
    if (/incorrect header check/.test(error.message)) {
      return new ConductorError('CND_ERR_BACKUP_FOREIGN', `${source} is not a Conductor backup (not gzip-compressed: ${error.message})`);
    }
    if (error.layer === 'tar') {
      return new ConductorError(
        'CND_ERR_BACKUP_FOREIGN',
        `${source} is not a Conductor backup, or is damaged at its very start (not a tar archive: ${error.message})`,
      );
    }
    // The marker, the manifest and its checksum are one gzip member: zlib finds damage in it at
    // its end, and the output of that read is lost with it.
    return damaged(
      source,
      MANIFEST_MEMBER,
      `the archive is damaged in its leading members (member ${MANIFEST_MEMBER} or the marker before it; the compressed stream breaks there): ${error.message}`,
    );
  }
  if (marker !== undefined && error.member === undefined && error.members.length > 3) {
    try {
      verifyStaged(error.members, marker, source);
    } catch (precise) {
      if (!/listed in the manifest but missing/.test((precise as Error).message)) return precise as ConductorError;
      return damaged(
        source,
        error.after!,
        `the archive is damaged after member ${error.after} (the next member's header is invalid): ${error.message}`,
      );
    }
    return damaged(
      source,
      error.after!,
      `the compressed stream is damaged after the last member ${error.after} (its members check out): ${error.message}`,
    );
  }
  if (error.member !== undefined)
    return damaged(
      source,
      error.member,
      `the archive is damaged in member ${error.member} (${error.layer === 'gzip' ? 'the compressed stream breaks there' : 'its data is cut or invalid'}): ${error.message}`,
    );
  return damaged(
    source,
    error.after!,
    `the archive is damaged after member ${error.after} (the next member's header is invalid): ${error.message}`,
  );
}

function checkLedger(path: string, source: string): void {
  let result: string;
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      result = String((db.prepare('PRAGMA quick_check').get() as Record<string, unknown>)['quick_check']);
    } finally {
      db.close();
    }
  } catch (error) {
    result = (error as Error).message;
  }
  if (result !== 'ok') throw damaged(source, LEDGER_MEMBER, `member ${LEDGER_MEMBER} is not a sound SQLite database (${result})`);
}

/**
 * Modification times as they were (retention and the inbox order read them). Modes are not
 * taken from the archive: every restored file is owner-only (0600), as Conductor creates them,
 * whatever the archive says; its directories were created 0700.
 */
function applyMetadata(manifest: Manifest, incoming: string): void {
  for (const entry of manifest.files) {
    const path = join(incoming, entry.path);
    chmodSync(path, FILE_MODE);
    // In seconds with the fraction: a Date would cut it to the millisecond, and an intent's order
    // (its mtime, recorded with its effect at the sink) must come back as it was.
    const when = entry.mtimeMs / 1000;
    utimesSync(path, when, when);
  }
}

/**
 * Moves what the data directory holds aside (into `previous`) and the verified members in:
 * each area is one rename. The ledger is copied, not renamed: the state directory may be on
 * another filesystem.
 */
async function putInPlace(paths: {
  incoming: string;
  previous: string;
  dataDir: string;
  stateDir: string;
  ledger: string | undefined;
}): Promise<void> {
  const { incoming, previous, dataDir, stateDir } = paths;
  await fs.mkdir(previous);
  for (const area of DATA_AREAS) {
    const target = join(dataDir, area);
    if (existsSync(target)) await fs.rename(target, join(previous, area));
    const restored = join(incoming, 'data', area);
    if (existsSync(restored)) await fs.rename(restored, target);
  }
  new DataDir(dataDir).ensure();
  for (const name of LEDGER_FILES) {
    // A -wal or -shm left from the replaced ledger would be applied to the restored one.
    const path = join(stateDir, name);
    if (existsSync(path)) await fs.copyFile(path, join(previous, name)).then(() => fs.rm(path));
  }
  if (paths.ledger !== undefined) {
    const temporary = join(stateDir, 'ledger.sqlite.restoring');
    await fs.copyFile(paths.ledger, temporary);
    await fs.chmod(temporary, FILE_MODE);
    await fs.rename(temporary, join(stateDir, 'ledger.sqlite'));
  }
}

/** Files (not directories) in the data and state directories, ignoring `lost+found` and the named paths. */
async function filesIn(dataDir: string, stateDir: string, ignored: Set<string>): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string, top: boolean): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (top && (entry.name === 'lost+found' || entry.name.startsWith(STAGING_PREFIX))) continue;
      if (entry.isDirectory()) await visit(path, false);
      else if (!ignored.has(path)) found.push(path);
    }
  };
  await visit(dataDir, true);
  // The state directory is usually inside the data directory, and then already visited.
  if (!`${stateDir}${sep}`.startsWith(`${dataDir}${sep}`)) await visit(stateDir, false);
  return found;
}

/**
 * A restore killed half-way leaves its staging directory behind. One that only holds incoming
 * members is removed; one that holds what a failed restore moved aside (`previous/`) is kept.
 */
async function removeLeftoverStaging(dataDir: string): Promise<void> {
  for (const name of await fs.readdir(dataDir)) {
    if (name.startsWith(STAGING_PREFIX) && !existsSync(join(dataDir, name, 'previous'))) {
      await fs.rm(join(dataDir, name), { recursive: true, force: true });
    }
  }
}
