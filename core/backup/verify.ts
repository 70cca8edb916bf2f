// Checks a staged archive against its manifest before anything of it is put in place: every
// member must be listed with its exact size and sha256, every listed member must be there, and
// the manifest must match its own checksum. A problem names the member it is about.
import { readFileSync } from 'node:fs';
import { ConductorError } from '../errors.ts';
import { sha256 } from './backup.ts';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  MANIFEST_MEMBER,
  MANIFEST_SUM_MEMBER,
  MARKER_MEMBER,
  type Manifest,
  type Marker,
} from './format.ts';
import type { StagedMember } from './tar.ts';

export function verifyStaged(members: readonly StagedMember[], marker: Marker, source: string): Manifest {
  const byPath = new Map(members.map((m) => [m.path, m]));
  const staged = (path: string) => byPath.get(path);
  const last = members.at(-1)?.path ?? MARKER_MEMBER;
  const manifestMember = staged(MANIFEST_MEMBER);
  const sumMember = staged(MANIFEST_SUM_MEMBER);
  if (manifestMember === undefined || sumMember === undefined) {
    throw damaged(source, last, `the archive ends after member ${last}, before its manifest (was it cut short?)`);
  }
  const manifest = readManifest(readFileSync(manifestMember.file), readFileSync(sumMember.file, 'utf8'), marker, source);

  const problems: { member: string; problem: string }[] = [];
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    listed.add(entry.path);
    const member = staged(entry.path);
    if (member === undefined) problems.push({ member: entry.path, problem: 'is listed in the manifest but missing from the archive' });
    else if (member.size !== entry.size)
      problems.push({ member: entry.path, problem: `has ${member.size} bytes, the manifest says ${entry.size}` });
    else if (member.sha256 !== entry.sha256)
      problems.push({ member: entry.path, problem: 'is damaged: its sha256 does not match the manifest' });
  }
  for (const member of members) {
    if (member.path === MANIFEST_MEMBER || member.path === MANIFEST_SUM_MEMBER || listed.has(member.path)) continue;
    problems.push({ member: member.path, problem: 'is not listed in the manifest' });
  }
  if (problems.length > 0) {
    const [first] = problems as [{ member: string; problem: string }];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new ConductorError('CND_ERR_BACKUP_DAMAGED', `${source}: member ${first.member} ${first.problem}${more}; nothing was restored`, {
      details: { member: first.member, problems },
    });
  }
  return manifest;
}

/** The manifest, checked against its own checksum and the marker it must belong to. */
export function readManifest(manifestBytes: Buffer, sumText: string, marker: Marker, source: string): Manifest {
  const expected = /^([0-9a-f]{64}) {2}manifest\.json\n?$/.exec(sumText)?.[1];
  if (expected === undefined) throw damaged(source, MANIFEST_SUM_MEMBER, `member ${MANIFEST_SUM_MEMBER} is damaged (not a sha256sum line)`);
  if (sha256(manifestBytes) !== expected) {
    throw damaged(source, MANIFEST_MEMBER, `member ${MANIFEST_MEMBER} is damaged: its sha256 does not match ${MANIFEST_SUM_MEMBER}`);
  }
  const manifest = parseManifest(manifestBytes, source);
  if (manifest.createdAt !== marker.createdAt) {
    throw damaged(
      source,
      MANIFEST_MEMBER,
      `member ${MANIFEST_MEMBER} belongs to another backup (created ${manifest.createdAt}, the marker says ${marker.createdAt})`,
    );
  }
  return manifest;
}

function parseManifest(bytes: Buffer, source: string): Manifest {
  let value: Partial<Manifest>;
  try {
    value = JSON.parse(bytes.toString('utf8')) as Partial<Manifest>;
  } catch {
    throw damaged(source, MANIFEST_MEMBER, `member ${MANIFEST_MEMBER} is not JSON`);
  }
  const filesOk =
    Array.isArray(value.files) &&
    value.files.every(
      (f) =>
        typeof f?.path === 'string' &&
        Number.isInteger(f.size) &&
        /^[0-9a-f]{64}$/.test(f.sha256) &&
        Number.isInteger(f.mode) &&
        typeof f.mtimeMs === 'number',
    );
  if (value.format !== BACKUP_FORMAT || value.formatVersion !== BACKUP_FORMAT_VERSION || !filesOk || typeof value.createdAt !== 'string') {
    throw damaged(source, MANIFEST_MEMBER, `member ${MANIFEST_MEMBER} is not a version-${BACKUP_FORMAT_VERSION} manifest`);
  }
  return value as Manifest;
}

export function damaged(source: string, member: string, message: string): ConductorError {
  return new ConductorError('CND_ERR_BACKUP_DAMAGED', `${source}: ${message}; nothing was restored`, { details: { member } });
}
