// What a backup reads from a live data directory, as a lazy sequence of sources. Nothing here
// takes a lock or writes to the data directory: the running service goes on as it was.
import { DatabaseSync } from 'node:sqlite';
import { existsSync, promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';
import { dataMember, isCarriedGitPath, type DataArea } from './format.ts';

/** A file to copy by path (read once, while it is archived) or bytes already read. */
export type Source =
  { member: string; kind: 'file'; path: string } | { member: string; kind: 'bytes'; bytes: Buffer; mode: number; mtimeMs: number };

/**
 * Every non-directory entry under `root`, as a path relative to it, in name order; directories
 * are descended without following links. A missing root yields nothing.
 */
export async function* walk(root: string, relative = ''): AsyncGenerator<string> {
  let names: string[];
  try {
    names = (await fs.readdir(join(root, relative))).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw error;
  }
  for (const name of names) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = await fs.lstat(join(root, path)).catch(() => undefined);
    if (stats === undefined) continue;
    if (stats.isDirectory()) yield* walk(root, path);
    else yield path;
  }
}

/** The files of one data area, to be copied when their turn comes. */
export async function* areaSources(dataDir: string, area: DataArea, firstWhen?: (relative: string) => boolean): AsyncGenerator<Source> {
  const root = join(dataDir, area);
  const paths: string[] = [];
  for await (const relative of walk(root)) paths.push(relative);
  // A stable partition: what must be read first (e.g. a log's checkpoint before the log).
  const ordered = firstWhen === undefined ? paths : [...paths.filter(firstWhen), ...paths.filter((p) => !firstWhen(p))];
  for (const relative of ordered) yield { member: dataMember(area, relative), kind: 'file', path: join(root, relative) };
}

/**
 * A consistent copy of the ledger at `target`, taken through a second, read-only SQLite
 * connection with VACUUM INTO: SQLite copies one read transaction's view of the database, and in
 * WAL mode the writer goes on meanwhile. Returns how many intents it holds, or undefined when
 * there is no ledger yet.
 */
export function snapshotLedger(ledgerPath: string, target: string): { records: number } | undefined {
  if (!existsSync(ledgerPath)) return undefined;
  const db = new DatabaseSync(ledgerPath, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  const copy = new DatabaseSync(target, { readOnly: true });
  try {
    const row = copy.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'intents'").get() as { n: number };
    const records = row.n === 0 ? 0 : (copy.prepare('SELECT COUNT(*) AS n FROM intents').get() as { n: number }).n;
    return { records: Number(records) };
  } finally {
    copy.close();
  }
}

export interface GitState {
  branch: string | null;
  head: string | null;
  /** out/ held files besides .git (the sink's `worktree` option), to be checked out on restore. */
  worktree: boolean;
}

/**
 * The git sink's repository, copied so that the copy is a valid repository whatever the sink
 * did meanwhile. Refs are read first, into memory; objects are listed and copied after.
 * An object is written (to a temporary name, then renamed) before any ref can point at it, and
 * objects are never changed or deleted by the sink; so every object reachable from the refs as
 * they were read already exists when the objects are copied. Objects committed later come along
 * or not — either way they are unreachable from the copied refs, and harmless. Loose objects are
 * copied before packs, and a loose object that vanishes is skipped: should a `git gc` run
 * meanwhile (the sink never starts one), it writes a pack before it deletes the loose objects in
 * it, and pack names are listed again until no new pack appears.
 */
export async function* gitSources(dataDir: string, onState: (state: GitState | null) => void): AsyncGenerator<Source> {
  const out = join(dataDir, 'out');
  const gitDir = join(out, '.git');
  if (!existsSync(join(gitDir, 'HEAD'))) {
    onState(null);
    return;
  }
  const refs: Source[] = [];
  const refTexts = new Map<string, string>();
  const readRef = async (relative: string) => {
    const path = join(gitDir, relative);
    const [bytes, stats] = await Promise.all([fs.readFile(path), fs.lstat(path)]).catch(() => [undefined, undefined] as const);
    if (bytes === undefined || stats === undefined || !stats.isFile()) return;
    refTexts.set(relative, bytes.toString('utf8'));
    refs.push({ member: gitMember(relative), kind: 'bytes', bytes, mode: modeOf(stats), mtimeMs: stats.mtimeMs });
  };
  await readRef('HEAD');
  await readRef('packed-refs');
  for await (const relative of walk(join(gitDir, 'refs'))) if (isCarriedGitPath(`refs/${relative}`)) await readRef(`refs/${relative}`);
  const worktree = (await fs.readdir(out)).some((name) => name !== '.git');
  onState({ ...resolveHead(refTexts), worktree });
  yield* refs;

  const objects = join(gitDir, 'objects');
  const fanout = (await fs.readdir(objects).catch(() => [] as string[])).filter((name) => /^[0-9a-f]{2}$/.test(name)).sort();
  for (const dir of fanout) {
    for await (const name of walk(join(objects, dir))) {
      const relative = `objects/${dir}/${name}`;
      if (isCarriedGitPath(relative)) yield { member: gitMember(relative), kind: 'file', path: join(gitDir, relative) };
    }
  }
  const copied = new Set<string>();
  for (;;) {
    const names = (await fs.readdir(join(objects, 'pack')).catch(() => [] as string[])).sort();
    const fresh = names.filter((name) => !copied.has(name) && isCarriedGitPath(`objects/pack/${name}`));
    if (fresh.length === 0) break;
    for (const name of fresh) {
      copied.add(name);
      yield { member: gitMember(`objects/pack/${name}`), kind: 'file', path: join(objects, 'pack', name) };
    }
  }
}

function gitMember(relative: string): string {
  return dataMember('out', `.git/${relative}`);
}

function resolveHead(refs: Map<string, string>): Omit<GitState, 'worktree'> {
  const head = refs.get('HEAD')?.trim() ?? '';
  if (/^[0-9a-f]{40,64}$/.test(head)) return { branch: null, head };
  const symbolic = /^ref: (refs\/heads\/(.+))$/.exec(head);
  if (symbolic === null) return { branch: null, head: null };
  const [, ref, branch] = symbolic as unknown as [string, string, string];
  const loose = refs.get(ref)?.trim();
  if (loose !== undefined && /^[0-9a-f]{40,64}$/.test(loose)) return { branch, head: loose };
  const packed = refs
    .get('packed-refs')
    ?.split('\n')
    .map((line) => line.split(' '))
    .find(([, name]) => name === ref)?.[0];
  return { branch, head: packed ?? null };
}

export function modeOf(stats: Stats): number {
  return stats.mode & 0o777;
}
