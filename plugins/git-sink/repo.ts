// The sink's view of its repository: read HEAD and trees (isomorphic-git, which also reads
// packed objects), build the next commit from the previous tree with one package directory
// replaced, and move the branch atomically. No index or working-tree scan is involved, which is
// what makes a commit per intent cheap.
import { promises as fs, existsSync } from 'node:fs';
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
   * Writes a commit whose tree is the parent's with the directory at `path` replaced by
   * `files`, and moves the branch to it (write to a temporary file, then rename: a killed
   * process leaves the old or the new value, never a torn one). Returns the new commit id.
   */
  async commit(parent: string | undefined, path: string[], files: Record<string, string>, author: Signature, message: string): Promise<string> {
    const leaf: TreeEntry[] = [];
    for (const [name, content] of Object.entries(files)) {
      const blob = await writeObject(this.gitDir, 'blob', Buffer.from(content));
      this.#remember(this.#blobs, blob, content);
      leaf.push({ mode: '100644', path: name, oid: blob });
    }
    let oid = await writeObject(this.gitDir, 'tree', encodeTree(leaf));
    this.#remember(this.#trees, oid, leaf);
    // Rebuild each tree from the package directory up to the root.
    const trees: (string | undefined)[] = [await this.#treeOfCommit(parent)];
    for (const part of path.slice(0, -1)) {
      const entry = (await this.#tree(trees.at(-1))).find((e) => e.path === part && e.mode === '040000');
      trees.push(entry?.oid);
    }
    for (let depth = path.length - 1; depth >= 0; depth -= 1) {
      const siblings = (await this.#tree(trees[depth])).filter((e) => e.path !== path[depth]);
      const entries: TreeEntry[] = [...siblings, { mode: '040000', path: path[depth]!, oid }];
      oid = await writeObject(this.gitDir, 'tree', encodeTree(entries));
      this.#remember(this.#trees, oid, entries);
    }
    const commit = await writeObject(this.gitDir, 'commit', encodeCommit(oid, parent === undefined ? [] : [parent], author, message));
    this.#remember(this.#commitTrees, commit, oid);
    await fs.mkdir(dirname(this.headRef), { recursive: true });
    // The temporary file stays outside refs/, so a leftover is never mistaken for a branch.
    const temporary = join(this.gitDir, `conductor-head.tmp-${process.pid}`);
    await fs.writeFile(temporary, `${commit}\n`);
    await fs.rename(temporary, this.headRef);
    return commit;
  }
}
