// Writing git objects directly (blob, tree, commit), in git's own loose-object format: the
// SHA-1 of "<type> <size>\0<content>", zlib-compressed under objects/xx/yyyy. Each file is
// written to a temporary name and renamed into place, as git itself does, so a killed process
// never leaves a truncated object that a later commit of the same content would reuse; with
// full durability (durable.ts) the object and its directory are fsynced as well.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { temporaryName, writeThenRename, type Durability } from './durable.ts';

export type ObjectType = 'blob' | 'tree' | 'commit';

export interface TreeEntry {
  mode: '100644' | '100755' | '040000' | '120000' | '160000';
  path: string;
  oid: string;
}

export function objectId(type: ObjectType, content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/** Fan-out directories known to exist (objects/xx), so each is created at most once. */
const knownDirs = new Set<string>();

/** A temporary object file: `<38 hex>.tmp-<pid>-<random>` in its fan-out directory (what start removes). */
export const TEMPORARY_OBJECT = /^[0-9a-f]{38}\.tmp-\d+-[0-9a-z]*$/;

// Synchronous on purpose: a loose object is a few hundred bytes, and each async call is a hop
// through the libuv thread pool, which costs far more than the write itself on a busy machine.
export async function writeObject(gitDir: string, type: ObjectType, content: Uint8Array, durable?: Durability): Promise<string> {
  const oid = objectId(type, content);
  const dir = join(gitDir, 'objects', oid.slice(0, 2));
  const path = join(dir, oid.slice(2));
  if (existsSync(path)) return oid;
  if (!knownDirs.has(dir)) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      // A new fan-out directory is an entry of objects/, durable only once objects/ is synced.
      durable?.dirs.add(join(gitDir, 'objects'));
    }
    knownDirs.add(dir);
  }
  const data = deflateSync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]), { level: 1 });
  const crash = { crashPoint: 'git.object-temp-written' } as const;
  writeThenRename(temporaryName(path), path, data, { mode: 0o444, dir, ...crash, ...(durable === undefined ? {} : { durability: durable }) });
  return oid;
}

/** Git orders tree entries by name, comparing a directory's name as if it ended in "/". */
function sortKey(entry: TreeEntry): string {
  return entry.mode === '040000' ? `${entry.path}/` : entry.path;
}

export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const parts: Buffer[] = [];
  for (const entry of sorted) {
    // Git writes the directory mode without its leading zero.
    const mode = entry.mode === '040000' ? '40000' : entry.mode;
    parts.push(Buffer.from(`${mode} ${entry.path}\0`), Buffer.from(entry.oid, 'hex'));
  }
  return Buffer.concat(parts);
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
}

export function encodeCommit(tree: string, parents: string[], author: Signature, message: string): Buffer {
  const who = `${author.name} <${author.email}> ${author.time} +0000`;
  const lines = [`tree ${tree}`, ...parents.map((p) => `parent ${p}`), `author ${who}`, `committer ${who}`, '', message];
  return Buffer.from(lines.join('\n'));
}
