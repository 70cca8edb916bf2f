// The sink's view of its repository: create it, read HEAD and trees (isomorphic-git, which also
// reads packed objects), build the next commit from the previous tree with the changed files
// replaced (every other entry kept as it is), and move the branch atomically. No index or working-tree scan is involved, which is
// what makes a commit per intent cheap.
import { promises as fs, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import { flush, writeThenRename, type Durability } from './durable.ts';
import { crashPoint } from '../../core/index.ts';
import { TEMPORARY_OBJECT, encodeCommit, encodeTree, writeObject, type Signature, type TreeEntry } from './objects.ts';

type IsomorphicGit = typeof import('isomorphic-git').default;
let isomorphicGit: Promise<IsomorphicGit> | undefined;

/** isomorphic-git, loaded when first needed: a new repository is never read through it at start. */
function gitReader(): Promise<IsomorphicGit> {
  isomorphicGit ??= import('isomorphic-git').then((m) => m.default);
  return isomorphicGit;
}

/** What `git init` writes that git needs to recognise a repository (it adds the rest itself). */
const REPOSITORY_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n';

export class Repo {
  readonly dir: string;
  readonly gitDir: string;
  readonly branch: string;
  readonly #cache = {};
  readonly #trees = new Map<string, TreeEntry[]>();
  /** What this process wrote or read: commit → its tree, blob → its text (bounded like #trees). */
  readonly #commitTrees = new Map<string, string>();
  readonly #blobs = new Map<string, string>();

  constructor(dir: string, branch: string) {
    this.dir = dir;
    this.gitDir = join(dir, '.git');
    this.branch = branch;
  }

  get headRef(): string {
    return join(this.gitDir, 'refs', 'heads', this.branch);
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
    for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) mkdirSync(join(temporary, sub), { recursive: true });
    writeFileSync(join(temporary, 'config'), REPOSITORY_CONFIG);
    writeFileSync(join(temporary, 'HEAD'), `ref: refs/heads/${this.branch}\n`);
    try {
      renameSync(temporary, this.gitDir);
    } catch (error) {
      rmSync(temporary, { recursive: true, force: true });
      // Another process made it first (a non-empty .git cannot be replaced by a rename).
      if (!['EEXIST', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '') || !existsSync(join(this.gitDir, 'HEAD'))) throw error;
    }
  }

  /** The branch's commit, or undefined before the first commit. */
  async head(): Promise<string | undefined> {
    const loose = await fs.readFile(this.headRef, 'utf8').catch(() => undefined);
    if (loose !== undefined && /^[0-9a-f]{40}\s*$/.test(loose)) return loose.trim();
    // Only a packed ref is left to look for; without packed-refs there is none (a new repository).
    if (loose === undefined && !existsSync(join(this.gitDir, 'packed-refs'))) return undefined;
    const git = await gitReader();
    return git.resolveRef({ fs: nodeFs, gitdir: this.gitDir, ref: `refs/heads/${this.branch}` }).catch(() => undefined);
  }

  async commitMessage(oid: string): Promise<{ message: string; parents: string[] }> {
    const git = await gitReader();
    const { commit } = await git.readCommit({ fs: nodeFs, gitdir: this.gitDir, oid, cache: this.#cache });
    return { message: commit.message, parents: commit.parent };
  }

  async #tree(oid: string | undefined): Promise<TreeEntry[]> {
    if (oid === undefined) return [];
    const cached = this.#trees.get(oid);
    if (cached) return cached;
    const git = await gitReader();
    const { tree } = await git.readTree({ fs: nodeFs, gitdir: this.gitDir, oid, cache: this.#cache });
    const entries = tree.map((e) => ({ mode: e.mode as TreeEntry['mode'], path: e.path, oid: e.oid }));
    this.#remember(this.#trees, oid, entries);
    return entries;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size > 10_000) map.clear();
    map.set(key, value);
  }

  async #treeOfCommit(commit: string | undefined): Promise<string | undefined> {
    if (commit === undefined) return undefined;
    const known = this.#commitTrees.get(commit);
    if (known !== undefined) return known;
    const git = await gitReader();
    const { commit: parsed } = await git.readCommit({ fs: nodeFs, gitdir: this.gitDir, oid: commit, cache: this.#cache });
    this.#remember(this.#commitTrees, commit, parsed.tree);
    return parsed.tree;
  }

  /**
   * The package at `path` (e.g. ["ns", "web"]) in `commit`, or undefined when there is none: its
   * regular files by package-relative path (subdirectories included, subpackages — directories
   * with their own Kptfile — left out), their modes, and the paths held by anything else (a
   * symlink, a gitlink, a subpackage), which the sink must not write. A non-directory where a
   * directory of the path is needed is refused (RefusedPath).
   */
  async readPackage(commit: string | undefined, path: readonly string[]): Promise<PackageSnapshot | undefined> {
    let tree = await this.#treeOfCommit(commit);
    for (const [i, part] of path.entries()) {
      const entry = (await this.#tree(tree)).find((e) => e.path === part);
      if (entry === undefined) return undefined;
      if (entry.mode !== '040000') {
        throw new RefusedPath(`${path.slice(0, i + 1).join('/')} is ${describeMode(entry.mode)} in the repository, not a directory`);
      }
      tree = entry.oid;
    }
    const snapshot: PackageSnapshot = { files: {}, modes: {}, occupied: new Set() };
    await this.#collect(tree!, '', snapshot);
    return snapshot;
  }

  async #collect(tree: string, prefix: string, snapshot: PackageSnapshot): Promise<void> {
    for (const entry of await this.#tree(tree)) {
      const path = `${prefix}${entry.path}`;
      if (entry.mode === '100644' || entry.mode === '100755') {
        snapshot.files[path] = await this.#blobText(entry.oid);
        snapshot.modes[path] = entry.mode;
      } else if (entry.mode === '040000' && !(await this.#tree(entry.oid)).some((e) => e.path === 'Kptfile')) {
        await this.#collect(entry.oid, `${path}/`, snapshot);
      } else {
        snapshot.occupied.add(path);
      }
    }
  }

  async #blobText(oid: string): Promise<string> {
    let text = this.#blobs.get(oid);
    if (text === undefined) {
      const git = await gitReader();
      const { blob } = await git.readBlob({ fs: nodeFs, gitdir: this.gitDir, oid, cache: this.#cache });
      text = Buffer.from(blob).toString('utf8');
      this.#remember(this.#blobs, oid, text);
    }
    return text;
  }

  /**
   * Writes a commit whose tree is the parent's with the files in `changes` (full paths, e.g.
   * ["ns", "web", "deployment.yaml"]) set to their new content, and moves the branch to it.
   * Every other entry keeps its oid and mode; a changed file keeps its mode (100755 stays
   * executable); a new one is 100644. Only the trees on the changed paths are rewritten.
   * Objects are written first, the branch last (temporary file, then rename: a killed process
   * leaves the old or the new value, never a torn one); with full durability both are fsynced,
   * with their directories, before this returns. Returns the new commit id.
   */
  async commit(
    parent: string | undefined,
    changes: readonly FileChange[],
    author: Signature,
    message: string,
    durable?: Durability,
  ): Promise<string> {
    const root: ChangeNode = { children: new Map() };
    for (const change of changes) {
      let node = root;
      for (const part of change.path.slice(0, -1)) {
        let child = node.children.get(part);
        if (child === undefined) node.children.set(part, (child = { children: new Map() }));
        if (child.content !== undefined) throw new RefusedPath(`${change.path.join('/')}: a file and a directory of one name`);
        node = child;
      }
      node.children.set(change.path.at(-1)!, { children: new Map(), content: change.content });
    }
    const tree = await this.#rewrite(await this.#treeOfCommit(parent), root, [], durable);
    crashPoint('git.tree-written');
    const encoded = encodeCommit(tree, parent === undefined ? [] : [parent], author, message);
    const commit = await writeObject(this.gitDir, 'commit', encoded, durable);
    this.#remember(this.#commitTrees, commit, tree);
    crashPoint('git.commit-written');
    if (durable !== undefined) flush(durable);
    // Synchronous, like the object writes (objects.ts): two tiny file operations.
    mkdirSync(dirname(this.headRef), { recursive: true });
    // The temporary file stays outside refs/, so a leftover is never mistaken for a branch.
    writeThenRename(join(this.gitDir, `${HEAD_TEMPORARY}${process.pid}`), this.headRef, `${commit}\n`, {
      dir: dirname(this.headRef),
      crashPoint: 'git.ref-temp-written',
      ...(durable === undefined ? {} : { durability: durable }),
    });
    if (durable !== undefined) flush(durable);
    crashPoint('git.ref-updated');
    return commit;
  }

  /** Writes the tree `base` with `node`'s changes applied (depth first) and returns its id. */
  async #rewrite(base: string | undefined, node: ChangeNode, at: string[], durable: Durability | undefined): Promise<string> {
    const existing = await this.#tree(base);
    const entries = existing.filter((e) => !node.children.has(e.path));
    for (const [name, child] of node.children) {
      const previous = existing.find((e) => e.path === name);
      const path = [...at, name];
      if (child.content !== undefined) {
        if (previous !== undefined && previous.mode !== '100644' && previous.mode !== '100755') {
          throw new RefusedPath(`${path.join('/')} is ${describeMode(previous.mode)} in the repository; it is not replaced by a file`);
        }
        const blob = await writeObject(this.gitDir, 'blob', Buffer.from(child.content), durable);
        this.#remember(this.#blobs, blob, child.content);
        entries.push({ mode: previous?.mode ?? '100644', path: name, oid: blob });
      } else {
        if (previous !== undefined && previous.mode !== '040000') {
          throw new RefusedPath(`${path.join('/')} is ${describeMode(previous.mode)} in the repository, not a directory`);
        }
        entries.push({ mode: '040000', path: name, oid: await this.#rewrite(previous?.oid, child, path, durable) });
      }
    }
    const oid = await writeObject(this.gitDir, 'tree', encodeTree(entries), durable);
    this.#remember(this.#trees, oid, entries);
    return oid;
  }

  /**
   * Removes what a killed writer of this sink can leave: temporary object files and the
   * temporary branch file in .git (both were renamed into place only when complete), and a
   * repository skeleton whose rename to .git never happened. Call it holding the
   * writer lock: every writer writes these only under it.
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
      if (!name.startsWith(HEAD_TEMPORARY)) continue;
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

const HEAD_TEMPORARY = 'conductor-head.tmp-';

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

/** One file's new content, by its full path in the repository, for `Repo.commit`. */
export interface FileChange {
  path: readonly string[];
  content: string;
}

interface ChangeNode {
  children: Map<string, ChangeNode>;
  /** Set on a file: its new content. */
  content?: string;
}
