// The sink's view of its repository: read HEAD and trees (isomorphic-git, which also reads
// packed objects), build the next commit from the previous tree with one package directory
// replaced, and move the branch atomically. No index or working-tree scan is involved, which is
// what makes a commit per intent cheap.
import { promises as fs, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { encodeCommit, encodeTree, writeObject, type Signature, type TreeEntry } from './objects.ts';

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

  /** The branch's commit, or undefined before the first commit. */
  async head(): Promise<string | undefined> {
    const loose = await fs.readFile(this.headRef, 'utf8').catch(() => undefined);
    if (loose !== undefined && /^[0-9a-f]{40}\s*$/.test(loose)) return loose.trim();
    return git.resolveRef({ fs: nodeFs, gitdir: this.gitDir, ref: `refs/heads/${this.branch}` }).catch(() => undefined);
  }

  async commitMessage(oid: string): Promise<{ message: string; parents: string[] }> {
    const { commit } = await git.readCommit({ fs: nodeFs, gitdir: this.gitDir, oid, cache: this.#cache });
    return { message: commit.message, parents: commit.parent };
  }

  async #tree(oid: string | undefined): Promise<TreeEntry[]> {
    if (oid === undefined) return [];
    const cached = this.#trees.get(oid);
    if (cached) return cached;
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
    const commit = await writeObject(this.gitDir, 'commit', encodeCommit(tree, parent === undefined ? [] : [parent], author, message));
    this.#remember(this.#commitTrees, commit, tree);
    // Synchronous, like the object writes (objects.ts): two tiny file operations.
    mkdirSync(dirname(this.headRef), { recursive: true });
    // The temporary file stays outside refs/, so a leftover is never mistaken for a branch.
    const temporary = join(this.gitDir, `conductor-head.tmp-${process.pid}`);
    writeFileSync(temporary, `${commit}\n`);
    renameSync(temporary, this.headRef);
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
