// The backup archive's layout (format version 2): a gzip-compressed POSIX tar whose members are
//
//   conductor-backup.json     the marker, always first: format, version, creation time, versions
//   manifest.json             every member below (and the marker) with its size, sha256, mode and mtime
//   manifest.json.sha256      the manifest's own checksum, in `sha256sum` format
//   state/ledger.sqlite       a consistent snapshot of the ledger (VACUUM INTO), when there is one
//   data/handoff/…            the inbox, as it was when the backup read it
//   data/out/.git/…           the git sink's repository: HEAD, refs and objects only
//   data/processed/… data/failed/… data/status/… data/audit/…
//
// The marker comes first so that a foreign archive is refused at its first member; the manifest
// comes next so that a restore holds every member to it as it streams — a member the manifest
// does not list, or larger than it says, is refused before a byte of it is written, so an
// archive cannot make a restore stage more than its manifest allows (version 1 put the manifest
// last, and a small archive could stage gigabytes before it was refused).
import { ConductorError } from '../errors.ts';

export const BACKUP_FORMAT = 'conductor-backup';
export const BACKUP_FORMAT_VERSION = 2;

/** Bounds on the members read before the manifest is known: nothing else can hold them to a size. */
export const LEADING_MEMBER_LIMITS: Readonly<Record<string, number>> = {
  'conductor-backup.json': 64 * 1024,
  'manifest.json': 256 * 1024 * 1024,
  'manifest.json.sha256': 1024,
};

export const MARKER_MEMBER = 'conductor-backup.json';
export const MANIFEST_MEMBER = 'manifest.json';
export const MANIFEST_SUM_MEMBER = 'manifest.json.sha256';
export const LEDGER_MEMBER = 'state/ledger.sqlite';

/** The data directory's areas a backup carries (docs/architecture.md §Data directory), in the archive under data/. */
export const DATA_AREAS = ['handoff', 'processed', 'failed', 'status', 'audit', 'out'] as const;
export type DataArea = (typeof DATA_AREAS)[number];

export interface Marker {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  /** ISO 8601, when the backup started. */
  createdAt: string;
  conductorVersion: string;
}

export interface ManifestEntry {
  /** The member's name in the archive. */
  path: string;
  size: number;
  sha256: string;
  /** Permission bits only. */
  mode: number;
  mtimeMs: number;
}

export interface Manifest extends Marker {
  /** Ledger records in the snapshot; null when the data directory had no ledger yet. */
  ledger: { records: number } | null;
  /** The git sink's repository; null when out/ held none. */
  git: { branch: string | null; head: string | null; worktree: boolean } | null;
  files: ManifestEntry[];
  /** Entries that were not copied because they are not regular files (a FIFO, a symlink, …). */
  skipped: { path: string; reason: string }[];
  /** Files that vanished between being listed and being read (moved on by the running service). */
  vanished: number;
}

export function markerNow(conductorVersion: string, now = new Date()): Marker {
  return { format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, createdAt: now.toISOString(), conductorVersion };
}

/** Refuses anything that is not a marker this version reads (CND_ERR_BACKUP_FOREIGN). */
export function parseMarker(bytes: Uint8Array, source: string): Marker {
  let value: Partial<Marker> | undefined;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Marker>;
  } catch {
    value = undefined;
  }
  if (value?.format !== BACKUP_FORMAT || typeof value.formatVersion !== 'number' || typeof value.createdAt !== 'string') {
    throw new ConductorError('CND_ERR_BACKUP_FOREIGN', `${source} is not a Conductor backup: its ${MARKER_MEMBER} is not a backup marker`);
  }
  if (value.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new ConductorError(
      'CND_ERR_BACKUP_FOREIGN',
      `${source} is a Conductor backup of format version ${value.formatVersion}; this version (${BACKUP_FORMAT_VERSION}) cannot read it`,
    );
  }
  return value as Marker;
}

/** The member name of a file in a data area: `data/<area>/<relative path>`. */
export function dataMember(area: DataArea, relative: string): string {
  return `data/${area}/${relative}`;
}

// In the repository only what makes its history is carried: the current branch pointer, refs and
// objects. Everything else in .git (config, hooks, index, logs, alternates) is local or derived and
// is written afresh on restore, so an archive cannot bring, say, a hook or a core.fsmonitor
// command that git would run.
const GIT_MEMBER = new RegExp(
  [
    '^HEAD$',
    '^packed-refs$',
    '^refs/.+$',
    '^objects/[0-9a-f]{2}/[0-9a-f]{38}(?:[0-9a-f]{24})?$',
    '^objects/pack/pack-[0-9a-f]{40}(?:[0-9a-f]{24})?\\.(?:pack|idx|rev|mtimes)$',
  ].join('|'),
);

/** True for paths inside .git that a backup carries (relative to .git). */
export function isCarriedGitPath(relative: string): boolean {
  return GIT_MEMBER.test(relative) && !relative.endsWith('.lock');
}

/**
 * Why a member name cannot belong to a version-2 archive, or undefined when it can. Restore
 * checks every name before it writes a byte of the member, so that no name can reach outside
 * the staging directory.
 */
export function memberNameProblem(path: string): string | undefined {
  if ([MARKER_MEMBER, MANIFEST_MEMBER, MANIFEST_SUM_MEMBER, LEDGER_MEMBER].includes(path)) return undefined;
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) return 'the name is not a plain relative path';
  if (parts[0] !== 'data' || parts.length < 3) return 'the name is outside the areas a backup carries';
  const area = parts[1] as DataArea;
  if (!DATA_AREAS.includes(area)) return `data/${area} is not an area a backup carries`;
  if (area === 'out') {
    if (parts[2] !== '.git' || !isCarriedGitPath(parts.slice(3).join('/')))
      return "only the repository's HEAD, refs and objects are carried";
  }
  return undefined;
}
