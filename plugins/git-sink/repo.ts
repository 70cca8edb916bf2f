// The sink's view of its repository: create it, read HEAD, packages and commits (`git cat-file
// --batch`, reading loose and packed objects alike), and write commits through one long-lived
// `git fast-import` (fast-import.ts). Commits are streamed one after the other — each intent its
// own commit, or a group of them — and one `checkpoint` makes the lot durable: the pack and its
// index closed and renamed into place, the branch moved, then (full sync) fsynced with their
// directories. Only then are the intents acknowledged. No index or working-tree scan is
// involved, and the trees rewritten are those on the changed paths, held in fast-import's memory.
//
// What this process read or wrote is remembered per path for the commit it knows as HEAD (the
// packages and directory listings), so a commit reads back nothing it wrote; the trees read on
// the way down to a directory are cached by id too. Every cache is bounded by bytes (cache.ts),
// whatever the size of the trees.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory } from './durable.ts';
import { crashPoint } from '../../core/index.ts';
import { ByteCache, stringBytes } from './cache.ts';
import { FastImport, dataBlock, quotePath } from './fast-import.ts';
import { gitCommand } from './git.ts';
import { ObjectReader, parseCommit, type TreeEntry } from './reader.ts';

export type { TreeEntry } from './reader.ts';

/** What `git init` writes that git needs to recognise a repository (it adds the rest itself). */
const REPOSITORY_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n';

/**
 * Bytes each cache may hold. Listings get the most: a namespace of 50,000 packages is one
 * listing (about 8 MiB), and without it every intent would read that namespace's tree again.
 * Packages of the known HEAD come next (a commit reads back nothing it wrote). Trees by id only
 * serve the walk from a commit down to a directory whose id is not known. A package's own trees
 * and files are not cached by id: the package cache holds what they make, and caching them as
 * well held every file twice, and filled memory with copies nobody read again whenever more
 * packages were in use than that cache holds (bench/RESULTS.md, M2).
 */
const LISTING_CACHE_BYTES = 16 * 1024 * 1024;
const PACKAGE_CACHE_BYTES = 4 * 1024 * 1024;
const TREE_CACHE_BYTES = 2 * 1024 * 1024;
/**
 * Packs closed since the last consolidation before the next one: each checkpoint closes a pack,
 * and git looks for an object in every pack, so their number must stay small. A geometric
 * repack merges the small ones (the cost stays proportional to what is merged).
 */
const PACKS_BEFORE_REPACK = 128;

/** Who a commit is by, and when (seconds since the epoch). */
export interface Signature {
  name: string;
  email: string;
  time: number;
}

/** A directory as the known HEAD holds it: name → entry (an oid of '' when written since and unknown). */
type Listing = Map<string, TreeEntry>;

/** One entry of a listing: its name twice (key and entry), the entry object and its id. */
const listingEntryBytes = (name: string, entry: TreeEntry) => stringBytes(name) * 2 + 120 + entry.oid.length * 2;
const listingBytes = (listing: Listing) => {
  let bytes = 64;
  for (const [name, entry] of listing) bytes += listingEntryBytes(name, entry);
  return bytes;
};
const snapshotBytes = (snapshot: PackageSnapshot) => {
  let bytes = 128;
  for (const [name, text] of Object.entries(snapshot.files)) bytes += stringBytes(name) * 2 + stringBytes(text) + 48;
  for (const path of snapshot.occupied) bytes += stringBytes(path);
  return bytes;
};

export class Repo {
  readonly dir: string;
  readonly gitDir: string;
  readonly branch: string;
  readonly #reader: ObjectReader;
  readonly #writer: FastImport;
  readonly #trees = new ByteCache<TreeEntry[]>(TREE_CACHE_BYTES, (entries) => entries.length * 160);
  /** The commit the view below describes, and its packages and directories by path. */
  #viewHead: string | undefined;
  readonly #packages = new ByteCache<PackageSnapshot>(PACKAGE_CACHE_BYTES, snapshotBytes);
  readonly #listings = new ByteCache<Listing>(LISTING_CACHE_BYTES, listingBytes);
  #packsSinceRepack: number | undefined;

  constructor(dir: string, branch: string, options: { fullSync?: boolean } = {}) {
    this.dir = dir;
    this.gitDir = join(dir, '.git');
    this.branch = branch;
    this.#reader = new ObjectReader(dir);
    this.#writer = new FastImport({ dir, fullSync: options.fullSync ?? false });
  }

  get headRef(): string {
    return join(this.gitDir, 'refs', 'heads', this.branch);
  }

  get #ref(): string {
    return `refs/heads/${this.branch}`;
  }

  async exists(): Promise<boolean> {
    return existsSync(join(this.gitDir, 'HEAD'));
  }

  /**
   * Creates the repository in-process (no `git init` child: it was a tenth of the start time).
   * The skeleton is written under a temporary name and renamed to `.git` in one step, so a
   * repository is either complete or absent — a killed process leaves only a stray temporary
   * directory — and of replicas starting together exactly one rename wins; the others use it.
   */
  init(): void {
    mkdirSync(this.dir, { recursive: true });
    const temporary = join(this.dir, `.git.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info'])
      mkdirSync(join(temporary, sub), { recursive: true });
    writeFileSync(join(temporary, 'config'), REPOSITORY_CONFIG);
    writeFileSync(join(temporary, 'HEAD'), `ref: refs/heads/${this.branch}\n`);
    try {
      renameSync(temporary, this.gitDir);
    } catch (error) {
      rmSync(temporary, { recursive: true, force: true });
      // Another process made it first (a non-empty .git cannot be replaced by a rename).
      if (!['EEXIST', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '') || !existsSync(join(this.gitDir, 'HEAD')))
        throw error;
    }
  }

  /** The branch's commit, or undefined before the first commit. */
  async head(): Promise<string | undefined> {
    let loose: string | undefined;
    try {
      loose = readFileSync(this.headRef, 'utf8');
    } catch {
      loose = undefined;
    }
    if (loose !== undefined && /^[0-9a-f]{40}\s*$/.test(loose)) return loose.trim();
    // Only a packed ref is left to look for; without packed-refs there is none (a new repository).
    if (loose === undefined && !existsSync(join(this.gitDir, 'packed-refs'))) return undefined;
    const out = await gitCommand(this.dir, ['rev-parse', '--verify', '-q', `${this.#ref}^{commit}`]).catch(() => '');
    return /^[0-9a-f]{40}$/.test(out.trim()) ? out.trim() : undefined;
  }

  async commitMessage(oid: string): Promise<{ message: string; parents: string[] }> {
    const object = await this.#reader.read(oid);
    if (object?.type !== 'commit') throw new Error(`${oid} is not a commit in ${this.dir}`);
    const { message, parents } = parseCommit(object.content);
    return { message, parents };
  }

  async #tree(oid: string): Promise<TreeEntry[]> {
    const cached = this.#trees.get(oid);
    if (cached) return cached;
    const entries = await this.#reader.readTree(oid);
    this.#trees.set(oid, entries);
    return entries;
  }

  async #blobText(oid: string): Promise<string> {
    const object = await this.#reader.read(oid);
    if (object?.type !== 'blob') throw new Error(`${oid} is not a blob in ${this.dir}`);
    return object.content.toString('utf8');
  }

  /** Makes the view describe `commit` (a commit not known as HEAD empties it). */
  #viewOf(commit: string): void {
    if (this.#viewHead === commit) return;
    this.#viewHead = commit;
    this.#packages.clear();
    this.#listings.clear();
  }

  /** The directory at `path` in the known HEAD, read from git when not remembered (or its ids unknown). */
  async #listing(commit: string, path: readonly string[], entry: TreeEntry | undefined): Promise<Listing> {
    const key = path.join('/');
    const known = this.#listings.get(key);
    if (known !== undefined) return known;
    let oid = entry?.oid;
    if (oid === undefined || oid === '') {
      // The root, or a directory written since its id was last read: from the commit down.
      const object = await this.#reader.read(commit);
      if (object?.type !== 'commit') throw new Error(`${commit} is not a commit in ${this.dir}`);
      let tree = parseCommit(object.content).tree;
      for (const [i, part] of path.entries()) {
        const next: TreeEntry | undefined = (await this.#tree(tree)).find((e) => e.path === part);
        if (next?.mode !== '040000') throw new Error(`${path.slice(0, i + 1).join('/')} is no longer a directory in ${commit}`);
        tree = next.oid;
      }
      oid = tree;
    }
    const listing: Listing = new Map((await this.#reader.readTree(oid)).map((e) => [e.path, e]));
    this.#listings.set(key, listing);
    return listing;
  }

  /**
   * The package at `path` (e.g. ["ns", "web"]) in `commit`, or undefined when there is none: its
   * regular files by package-relative path (subdirectories included, subpackages — directories
   * with their own Kptfile — left out), their modes, and the paths held by anything else (a
   * symlink, a gitlink, a subpackage), which the sink must not write. A non-directory where a
   * directory of the path is needed is refused (RefusedPath).
   */
  async readPackage(commit: string | undefined, path: readonly string[]): Promise<PackageSnapshot | undefined> {
    if (commit === undefined) return undefined;
    this.#viewOf(commit);
    const key = path.join('/');
    const known = this.#packages.get(key);
    if (known !== undefined) return known;
    let entry: TreeEntry | undefined;
    for (const [i, part] of path.entries()) {
      entry = (await this.#listing(commit, path.slice(0, i), entry)).get(part);
      if (entry === undefined) return undefined;
      if (entry.mode !== '040000') {
        throw new RefusedPath(`${path.slice(0, i + 1).join('/')} is ${describeMode(entry.mode)} in the repository, not a directory`);
      }
    }
    if (entry!.oid === '') {
      // Written since its id was read: the parent's listing again, from git.
      this.#listings.delete(path.slice(0, -1).join('/'));
      entry = (await this.#listing(commit, path.slice(0, -1), undefined)).get(path.at(-1)!);
    }
    const snapshot: PackageSnapshot = { files: {}, modes: {}, occupied: new Set() };
    await this.#collect(await this.#reader.readTree(entry!.oid), '', snapshot);
    this.#packages.set(key, snapshot);
    return snapshot;
  }

  /**
   * Adds a package tree's entries to `snapshot`, read from git each time: not cached by id, since
   * the package cache keeps the snapshot they make. A subdirectory with a Kptfile is a subpackage.
   */
  async #collect(entries: readonly TreeEntry[], prefix: string, snapshot: PackageSnapshot): Promise<void> {
    for (const entry of entries) {
      const path = `${prefix}${entry.path}`;
      if (entry.mode === '100644' || entry.mode === '100755') {
        snapshot.files[path] = await this.#blobText(entry.oid);
        snapshot.modes[path] = entry.mode;
        continue;
      }
      const subdirectory = entry.mode === '040000' ? await this.#reader.readTree(entry.oid) : undefined;
      if (subdirectory !== undefined && !subdirectory.some((e) => e.path === 'Kptfile')) {
        await this.#collect(subdirectory, `${path}/`, snapshot);
      } else {
        snapshot.occupied.add(path);
      }
    }
  }

  /**
   * Streams one commit to fast-import: `parent`'s tree with the files in `changes` (full paths,
   * e.g. ["ns", "web", "deployment.yaml"]) set to their content, every other entry kept. A
   * parent is a commit id (the branch as read) or the mark of a commit streamed before (the
   * one before it in the same checkpoint). Returns the new commit's mark: it is durable, and
   * its id known, only after `checkpoint`. A file and a directory of one name are refused.
   */
  stream(parent: string | number | undefined, changes: readonly FileChange[], author: Signature, message: string): number {
    checkShape(changes);
    const mark = this.#writer.nextMark();
    const who = `${author.name} <${author.email}> ${author.time} +0000`;
    const lines = [
      // Without a parent: a root commit, whatever fast-import remembers of the branch.
      ...(parent === undefined ? [`reset ${this.#ref}`, ''] : []),
      `commit ${this.#ref}`,
      `mark :${mark}`,
      `author ${who}`,
      `committer ${who}`,
      dataBlock(message).slice(0, -1),
      ...(parent === undefined ? [] : [`from ${typeof parent === 'number' ? `:${parent}` : parent}`]),
      ...changes.map((c) => `M ${c.mode ?? '100644'} inline ${quotePath(c.path.join('/'))}\n${dataBlock(c.content).slice(0, -1)}`),
      '',
    ];
    this.#writer.write(`${lines.join('\n')}\n`);
    crashPoint('git.commit-streamed');
    return mark;
  }

  /**
   * Makes every commit streamed so far durable: fast-import closes its pack and moves the
   * branch; then the branch is checked to hold the last commit (fast-import refuses to move it
   * anywhere but forward, which a writer that lost a race would need) and, with full sync, the
   * pack and ref directories are fsynced (git fsynced the files). Returns the marks' commit ids.
   */
  async checkpoint(marks: readonly number[], fullSync: boolean): Promise<string[]> {
    try {
      const answers = this.#writer.request(`checkpoint\n\n${marks.map((m) => `get-mark :${m}\n`).join('')}`, marks.length);
      crashPoint('git.checkpoint-requested');
      const oids = (await answers).map((line) => line.trim());
      if (!oids.every((oid) => /^[0-9a-f]{40}$/.test(oid))) throw new Error(`git fast-import answered ${JSON.stringify(oids)}`);
      const moved = (await this.head()) === oids.at(-1);
      if (!moved) throw new Error(`the branch ${this.branch} was not moved to ${oids.at(-1)}: another writer moved it first`);
      if (fullSync) {
        fsyncDirectory(join(this.gitDir, 'objects', 'pack'));
        fsyncDirectory(dirname(this.headRef));
      }
      crashPoint('git.ref-updated');
      this.#packsSinceRepack = (this.#packsSinceRepack ?? 0) + 1;
      return oids;
    } catch (error) {
      // What fast-import holds (a half-streamed commit, a branch it thinks it moved) is unknown now.
      await this.#writer.kill();
      this.#viewHead = undefined;
      throw error;
    }
  }

  /** After a failed turn: whatever was streamed and not made durable is dropped with the process. */
  async abandon(): Promise<void> {
    await this.#writer.kill();
    this.#viewHead = undefined;
  }

  /**
   * Moves the view from `parent` to `head` (the commit just made durable on top of it) with the
   * packages as that commit left them, so the next commit reads nothing back.
   */
  advance(parent: string | undefined, head: string, packages: readonly { path: readonly string[]; snapshot: PackageSnapshot }[]): void {
    if (parent === undefined || this.#viewHead !== parent) {
      this.#viewOf(head);
    } else {
      this.#viewHead = head;
    }
    for (const { path, snapshot } of packages) {
      this.#packages.set(path.join('/'), snapshot);
      // Each directory on the way now exists, with an id not known here.
      for (let depth = 0; depth < path.length; depth += 1) {
        const key = path.slice(0, depth).join('/');
        const listing = this.#listings.get(key);
        if (listing === undefined) continue;
        const name = path[depth]!;
        const before = listing.get(name);
        const after: TreeEntry = { mode: '040000', path: name, oid: '' };
        listing.set(name, after);
        // Changed in place: the cache counts what it has become (a new package's name adds to it).
        this.#listings.resize(key, listingEntryBytes(name, after) - (before === undefined ? 0 : listingEntryBytes(name, before)));
      }
    }
  }

  /**
   * Merges the small packs the checkpoints left (under the writer lock, between commits): the
   * writer and reader stop first, since fast-import keeps its packs with `.keep` files and
   * neither process should lose a pack it has open. New packs are fsynced before old ones go.
   */
  async consolidate(force = false): Promise<void> {
    this.#packsSinceRepack ??= readdirSync(join(this.gitDir, 'objects', 'pack')).filter((n) => n.endsWith('.pack')).length;
    if (!force && this.#packsSinceRepack < PACKS_BEFORE_REPACK) return;
    await this.#writer.close();
    this.#reader.close();
    await gitCommand(this.dir, [
      '-c',
      'core.fsync=pack,pack-metadata',
      '-c',
      'pack.writeBitmaps=false',
      'repack',
      '-d',
      '-q',
      '--geometric=2',
    ]);
    this.#packsSinceRepack = 0;
  }

  /** Ends the writer (cleanly: `done`) and the reader. */
  async close(): Promise<void> {
    await this.#writer.close();
    this.#reader.close();
  }

  /**
   * Removes what a killed writer of this sink can leave: fast-import's crash reports, temporary
   * object and branch files of earlier versions of this sink (which wrote loose objects), and a
   * repository skeleton whose rename to .git never happened. Call it holding the writer lock.
   */
  removeTemporaries(): string[] {
    const removed: string[] = [];
    const objects = join(this.gitDir, 'objects');
    for (const fanOut of readdirSync(objects)) {
      if (!/^[0-9a-f]{2}$/.test(fanOut)) continue;
      for (const name of readdirSync(join(objects, fanOut))) {
        if (!TEMPORARY_OBJECT.test(name)) continue;
        rmSync(join(objects, fanOut, name), { force: true });
        removed.push(`objects/${fanOut}/${name}`);
      }
    }
    for (const name of readdirSync(this.gitDir)) {
      if (!name.startsWith(HEAD_TEMPORARY) && !name.startsWith('fast_import_crash_')) continue;
      rmSync(join(this.gitDir, name), { force: true });
      removed.push(name);
    }
    // A skeleton from `init` (which runs before the lock is taken): only once its process is gone.
    for (const name of readdirSync(this.dir)) {
      const pid = /^\.git\.tmp-(\d+)-/.exec(name)?.[1];
      if (pid === undefined || isAlive(Number(pid))) continue;
      rmSync(join(this.dir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}

/** Temporary names earlier versions of the sink used (loose objects and the branch file). */
const TEMPORARY_OBJECT = /^[0-9a-f]{38}\.tmp-\d+-[0-9a-z]*$/;
const HEAD_TEMPORARY = 'conductor-head.tmp-';

/** Refuses changes that would make one name both a file and a directory. */
function checkShape(changes: readonly FileChange[]): void {
  const files = new Set(changes.map((c) => c.path.join('/')));
  for (const change of changes) {
    for (let depth = 1; depth < change.path.length; depth += 1) {
      const prefix = change.path.slice(0, depth).join('/');
      if (files.has(prefix)) throw new RefusedPath(`${change.path.join('/')}: a file and a directory of one name`);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const MODE_NAMES: Record<TreeEntry['mode'], string> = {
  '120000': 'a symbolic link',
  '160000': 'a submodule (gitlink)',
  '040000': 'a directory',
  '100644': 'a file',
  '100755': 'a file',
};

function describeMode(mode: TreeEntry['mode']): string {
  return MODE_NAMES[mode];
}

/** A path the sink will not write: a symlink, a submodule or a file where it needs something else. */
export class RefusedPath extends Error {}

/** A package as read from a tree, for applying an intent to it. */
export interface PackageSnapshot {
  /** Package-relative path → text, for every regular file outside subpackages. */
  files: Record<string, string>;
  modes: Record<string, '100644' | '100755'>;
  /** Package-relative paths held by symlinks, gitlinks and subpackages. */
  occupied: Set<string>;
}

/** One file's new content, by its full path in the repository, for `Repo.stream`. */
export interface FileChange {
  path: readonly string[];
  content: string;
  /** The mode it keeps (an executable stays executable); a new file is 100644. */
  mode?: '100644' | '100755';
}
