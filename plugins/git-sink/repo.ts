// The sink's view of its repository: create it, read HEAD and trees (isomorphic-git, which also
// reads packed objects), build the next commit from the previous tree with package directories
// replaced, and move the branch atomically. No index or working-tree scan is involved, which is
// what makes a commit per intent cheap.
import { promises as fs, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeCommit, encodeTree, writeObject, type Signature, type TreeEntry } from './objects.ts';
import { crashPoint } from '../../core/index.ts';

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

  /** The files of the directory at `path` (e.g. ["ns", "target"]) in `commit`, or undefined. */
  async readDirectory(commit: string | undefined, path: string[]): Promise<Record<string, string> | undefined> {
    let tree = await this.#treeOfCommit(commit);
    for (const part of path) {
      const entry = (await this.#tree(tree)).find((e) => e.path === part && e.mode === '040000');
      if (entry === undefined) return undefined;
      tree = entry.oid;
    }
    const files: Record<string, string> = {};
    for (const entry of await this.#tree(tree)) {
      if (entry.mode !== '100644' && entry.mode !== '100755') continue;
      let text = this.#blobs.get(entry.oid);
      if (text === undefined) {
        const git = await gitReader();
        const { blob } = await git.readBlob({ fs: nodeFs, gitdir: this.gitDir, oid: entry.oid, cache: this.#cache });
        text = Buffer.from(blob).toString('utf8');
        this.#remember(this.#blobs, entry.oid, text);
      }
      files[entry.path] = text;
    }
    return files;
  }

  /**
   * Writes a commit whose tree is the parent's with each directory named in `changes` (e.g.
   * ["ns", "target"]) replaced by its files, and moves the branch to it (write to a temporary
   * file, then rename: a killed process leaves the old or the new value, never a torn one).
   * Only the trees on the changed paths are rewritten. Returns the new commit id.
   */
  async commit(parent: string | undefined, changes: readonly PackageChange[], author: Signature, message: string): Promise<string> {
    const root: ChangeNode = { children: new Map() };
    for (const change of changes) {
      let node = root;
      for (const part of change.path) {
        let child = node.children.get(part);
        if (child === undefined) node.children.set(part, (child = { children: new Map() }));
        node = child;
      }
      node.files = change.files;
    }
    const tree = await this.#rewrite(await this.#treeOfCommit(parent), root);
    crashPoint('git.tree-written');
    const commit = await writeObject(this.gitDir, 'commit', encodeCommit(tree, parent === undefined ? [] : [parent], author, message));
    this.#remember(this.#commitTrees, commit, tree);
    crashPoint('git.commit-written');
    // Synchronous, like the object writes (objects.ts): two tiny file operations.
    mkdirSync(dirname(this.headRef), { recursive: true });
    // The temporary file stays outside refs/, so a leftover is never mistaken for a branch.
    const temporary = join(this.gitDir, `conductor-head.tmp-${process.pid}`);
    writeFileSync(temporary, `${commit}\n`);
    crashPoint('git.ref-temp-written');
    renameSync(temporary, this.headRef);
    crashPoint('git.ref-updated');
    return commit;
  }

  /** Writes the tree `base` with `node`'s changes applied (depth first) and returns its id. */
  async #rewrite(base: string | undefined, node: ChangeNode): Promise<string> {
    let entries: TreeEntry[];
    if (node.files !== undefined) {
      // A package directory: its files replace whatever it held.
      entries = [];
      for (const [name, content] of Object.entries(node.files)) {
        const blob = await writeObject(this.gitDir, 'blob', Buffer.from(content));
        this.#remember(this.#blobs, blob, content);
        entries.push({ mode: '100644', path: name, oid: blob });
      }
    } else {
      const existing = await this.#tree(base);
      entries = existing.filter((e) => !node.children.has(e.path));
      for (const [name, child] of node.children) {
        const previous = existing.find((e) => e.path === name && e.mode === '040000');
        entries.push({ mode: '040000', path: name, oid: await this.#rewrite(previous?.oid, child) });
      }
    }
    const oid = await writeObject(this.gitDir, 'tree', encodeTree(entries));
    this.#remember(this.#trees, oid, entries);
    return oid;
  }
}

/** One package directory's new content, for `Repo.commit`. */
export interface PackageChange {
  path: readonly string[];
  files: Record<string, string>;
}

interface ChangeNode {
  children: Map<string, ChangeNode>;
  files?: Record<string, string>;
}
