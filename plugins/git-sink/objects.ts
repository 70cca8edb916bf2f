// Writing git objects directly (blob, tree, commit), in git's own loose-object format: the
// SHA-1 of "<type> <size>\0<content>", zlib-compressed under objects/xx/yyyy. Each file is
// written to a temporary name and renamed into place, as git itself does, so a killed process
// never leaves a truncated object that a later commit of the same content would reuse.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { crashPoint } from '../../core/index.ts';

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

// Synchronous on purpose: a loose object is a few hundred bytes, and each async call is a hop
// through the libuv thread pool, which costs far more than the write itself on a busy machine.
export async function writeObject(gitDir: string, type: ObjectType, content: Uint8Array): Promise<string> {
  const oid = objectId(type, content);
  const dir = join(gitDir, 'objects', oid.slice(0, 2));
  const path = join(dir, oid.slice(2));
  if (existsSync(path)) return oid;
  if (!knownDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    knownDirs.add(dir);
  }
  const temporary = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, deflateSync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]), { level: 1 }));
  crashPoint('git.object-temp-written');
  renameSync(temporary, path);
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
