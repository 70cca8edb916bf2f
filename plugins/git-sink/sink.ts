// The git sink at work: the repository, what history says (known-effects.ts), the commit queue
// (commit-queue.ts), and the parts around them — applying an intent to its package, the
// working tree, the plan of a commit (`conductor plan`), start and stop.
import { promises as fs, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import {
  ConductorError,
  applyIntentToPackage,
  isConductorError,
  packageNameOf,
  type Intent,
  type OptionsOf,
  type PlanRequest,
  type PlanResult,
  type PluginContext,
  type PluginInstance,
  type Receipt,
} from '../../core/index.ts';
import { Blueprint } from './blueprint.ts';
import { CommitQueue, changedFiles, type PackageWork } from './commit-queue.ts';
import { git, type GitIdentity } from './git.ts';
import { readHistory } from './history.ts';
import { KnownEffects, type Effect } from './known-effects.ts';
import type { OPTIONS_SCHEMA } from './metadata.ts';
import { RefusedPath, Repo, type FileChange } from './repo.ts';
import { checkSegment, checkWritable, makeStaging, removeStaging, writeWorkingFile } from './worktree.ts';

/**
 * Working-tree files written at once after a turn: a turn of grouped commits changes a hundred
 * files, and one at a time each waited on the thread pool four times in a row.
 */
const WORKTREE_WRITES_IN_FLIGHT = 8;

/** The options, as the schema in metadata.ts declares them (the one place they are written). */
export type GitSinkOptions = OptionsOf<typeof OPTIONS_SCHEMA>;

export class GitSink {
  readonly #context: PluginContext;
  readonly #options: GitSinkOptions;
  readonly #dir: string;
  readonly #identity: GitIdentity;
  readonly #repo: Repo;
  readonly #blueprint: Blueprint;
  readonly #known: KnownEffects;
  readonly #queue: CommitQueue;
  #ready = false;
  #blueprintNeeded = true;

  constructor(context: PluginContext, options: GitSinkOptions) {
    this.#context = context;
    this.#options = options;
    this.#dir = resolve(context.dataDir, options.dir ?? 'out');
    this.#identity = { name: options.authorName, email: options.authorEmail };
    const fullSync = (options.sync ?? context.config.ledger.sync) === 'full';
    this.#repo = new Repo(this.#dir, options.branch, { fullSync });
    this.#blueprint = new Blueprint({ id: context.id, configSource: context.config.source }, options.blueprint);
    this.#known = new KnownEffects(context.id, this.#repo, this.#identity);
    this.#queue = new CommitQueue({
      plugin: context.id,
      repo: this.#repo,
      known: this.#known,
      author: () => ({ ...this.#identity, time: Math.floor(Date.now() / 1000) }),
      maxIntentsPerCommit: options.maxIntentsPerCommit,
      fullSync,
      apply: (head, p, packages) => this.#applyToPackage(head, p, packages),
      writeWorkingTree: (changes) => (options.worktree ? this.#writeWorkingTree(changes) : Promise.resolve()),
      withLock: (work) => this.#withRepoLock(work),
    });
  }

  instance(): PluginInstance {
    return {
      plan: (intent, request) => this.#queue.serial(() => this.#plan(intent, request)),
      history: async (query) => ((await this.#repo.exists()) ? readHistory(this.#dir, this.#identity, await this.#repo.head(), query) : []),
      start: () => this.#start(),
      stop: () => this.#stop(),
      status: () =>
        this.#ready ? { ready: true, details: { commits: this.#known.size } } : { ready: false, message: 'repository not open' },
      apply: (hooks) => {
        hooks.submit.tapPromise(
          this.#context.id,
          (intent, ctx) =>
            new Promise<Receipt>((resolve, reject) => {
              const { intentId, file, contentHash, order, anchor } = ctx;
              this.#queue.submit({ intent, intentId, file, contentHash, order, anchor, resolve, reject });
            }),
        );
      },
    };
  }

  async #withRepoLock<T>(work: () => Promise<T>): Promise<T> {
    const release = await lockfile.lock(this.#dir, {
      lockfilePath: join(this.#dir, '.git', 'conductor-writer.lock'),
      // A writer killed while holding the lock stops refreshing it; others take over after
      // `stale`. Should a live writer be judged stale (a long stall), git's own ref update
      // still refuses a lost race, and the trailer check keeps the commit unique.
      stale: 2_000,
      update: 500,
      retries: { retries: 400, minTimeout: 2, maxTimeout: 25 },
      onCompromised: (error) => this.#context.log.warn({ err: error }, 'the repository writer lock was taken over'),
    });
    try {
      return await work();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * The intent applied to its package (as the turn left it, else as HEAD holds it): a new
   * package rendered, or the one file holding the Deployment changed. Throws RefusedPath for a
   * path it must not write.
   */
  async #applyToPackage(head: string | undefined, p: Effect, packages: ReadonlyMap<string, PackageWork>): Promise<PackageWork> {
    const { intent, intentId } = p;
    checkSegment(intent.namespace, 'namespace');
    const packageName = packageNameOf(intent);
    checkSegment(packageName, 'package name');
    const path = [intent.namespace, packageName];
    const known = packages.get(path.join('/'));
    const snapshot = known === undefined ? await this.#repo.readPackage(head, path) : known.snapshot;
    const current = known?.files ?? snapshot?.files;
    const files =
      current === undefined ? this.#blueprint.newPackage(intent, intentId) : applyIntentToPackage(current, intent, intentId).files;
    const work: PackageWork = { path, snapshot, files };
    for (const change of changedFiles(work)) {
      const relative = change.path.slice(path.length);
      relative.forEach((segment) => checkSegment(segment, 'file path segment'));
      const prefixes = relative.map((_, n) => relative.slice(0, n + 1).join('/'));
      const taken = prefixes.find((prefix) => snapshot?.occupied.has(prefix));
      if (taken !== undefined) {
        throw new RefusedPath(`${[...path, taken].join('/')} is a symbolic link, submodule or subpackage in the repository`);
      }
      const file = prefixes.slice(0, -1).find((prefix) => snapshot?.files[prefix] !== undefined);
      if (file !== undefined) throw new RefusedPath(`${[...path, file].join('/')} is a file in the repository, not a directory`);
      if (this.#options.worktree) checkWritable(this.#dir, change.path);
    }
    return work;
  }

  /**
   * Writes the changed files into the working tree. The commit is the effect and is already
   * made: a failure here is logged, and the next start makes the working tree equal to HEAD.
   */
  async #writeWorkingTree(changes: readonly FileChange[]): Promise<void> {
    let staging: string;
    try {
      staging = makeStaging(this.#repo.gitDir);
    } catch (error) {
      this.#context.log.warn({ err: error }, 'could not write the working tree; start repairs it from HEAD');
      return;
    }
    // Files are independent (each staged and renamed on its own), so several are written at once.
    let next = 0;
    const writer = async () => {
      while (next < changes.length) {
        const change = changes[next++]!;
        try {
          await writeWorkingFile(this.#dir, staging, change.path, change.content, change.mode === '100755');
        } catch (error) {
          const path = change.path.join('/');
          this.#context.log.warn({ err: error, path }, 'could not write the working-tree file; start repairs it from HEAD');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WORKTREE_WRITES_IN_FLIGHT, changes.length) }, writer));
  }

  /**
   * Makes the index and the working tree equal to HEAD for tracked files (untracked files are
   * left alone): first the index's stat data is refreshed, so that files already equal to HEAD
   * are not rewritten; then `read-tree --reset -u` rewrites the ones that differ — torn, missing
   * or edited — with git's own checks against symlinked leading paths. Never `reset --hard`:
   * it moves the branch too, back to what it read when it started, and would drop a commit
   * another writer made meanwhile; the branch moves only forward, by fast-import.
   */
  async #syncWorkingTree(): Promise<void> {
    const head = await this.#repo.head();
    if (head === undefined) return;
    if (!this.#options.worktree) {
      await git(this.#dir, this.#identity, ['read-tree', head]);
      return;
    }
    // Exits 1 when some file differs from the index: exactly what the read-tree then repairs.
    await git(this.#dir, this.#identity, ['update-index', '-q', '--refresh']).catch(() => undefined);
    await this.#indexWorkingFiles(head);
    await git(this.#dir, this.#identity, ['read-tree', '--reset', '-u', head]);
  }

  /**
   * Enters the paths where the index differs from HEAD into the index as the working tree holds
   * them: the files written since the index was last made (commits never touch it) and those
   * another writer's commits changed. The read-tree then rewrites only the files that differ from
   * HEAD, not every file written since start (a thousand files took it 300 ms). Paths of the
   * old index that HEAD lacks stay in it, so the read-tree still removes them. A failure here
   * (a directory where HEAD has a file, a path beyond a link) only costs that saving.
   */
  async #indexWorkingFiles(head: string): Promise<void> {
    try {
      const paths = await git(this.#dir, this.#identity, ['diff-index', '--cached', '--name-only', '--no-renames', '-z', head]);
      if (paths !== '') await git(this.#dir, this.#identity, ['update-index', '--add', '--remove', '-z', '--stdin'], paths);
    } catch (error) {
      this.#context.log.debug({ err: error }, 'the index was not brought up to the working tree; the read-tree rewrites more');
    }
  }

  /**
   * What a commit of this intent would do, read from HEAD without the writer lock, the repair
   * start does, or a write: the same checks in the same order as a commit, on one intent.
   */
  async #plan(intent: Intent, request: PlanRequest): Promise<PlanResult> {
    const { intentId, file, contentHash, order } = request;
    const effect: Effect = { intent, intentId, file, contentHash, order, anchor: undefined };
    const head = (await this.#repo.exists()) ? await this.#repo.head() : undefined;
    await this.#known.catchUp(head);
    const base = head ?? 'none';
    const earlier = this.#known.earlierEffect(effect);
    if (earlier instanceof ConductorError) return { outcome: 'conflict', message: earlier.message, files: [], base };
    if (earlier !== undefined) return { outcome: 'duplicate', message: `already committed in ${earlier.ref}`, files: [], base };
    const superseded = this.#known.newerThan(effect, new Map());
    if (superseded !== undefined) return { outcome: 'superseded', message: superseded.message, files: [], base };
    let work: PackageWork;
    try {
      // load() only reads the blueprint directory (start does it for a running sink).
      if (this.#blueprintNeeded) {
        await this.#blueprint.load();
        this.#blueprintNeeded = false;
      }
      work = await this.#applyToPackage(head, effect, new Map());
    } catch (error) {
      if (error instanceof RefusedPath) return { outcome: 'refused', message: `not written: ${error.message}`, files: [], base };
      if (isConductorError(error) && !error.retryable)
        return { outcome: 'refused', message: `${error.code}: ${error.message}`, files: [], base };
      throw error;
    }
    const files = changedFiles(work).map((change) => {
      const before = work.snapshot?.files[change.path.slice(work.path.length).join('/')];
      return { path: change.path.join('/'), ...(before === undefined ? {} : { before }), after: change.content };
    });
    return { outcome: 'apply', files, base };
  }

  async #start(): Promise<void> {
    await this.#blueprint.load();
    this.#blueprintNeeded = false;
    await fs.mkdir(this.#dir, { recursive: true });
    if (!(await this.#repo.exists())) this.#repo.init();
    await this.#withRepoLock(async () => {
      // Every writer holds this lock when it touches the index or writes packs, the branch
      // or the working tree, so what is found now was left by one that was killed.
      rmSync(join(this.#dir, '.git', 'index.lock'), { force: true });
      const removed = this.#repo.removeTemporaries();
      removeStaging(this.#repo.gitDir);
      if (removed.length > 0) this.#context.log.info({ count: removed.length }, 'removed temporary files a stopped writer left');
      await this.#known.catchUp(await this.#repo.head());
      await this.#syncWorkingTree();
    });
    this.#ready = true;
  }

  async #stop(): Promise<void> {
    if (!this.#ready) return;
    this.#ready = false;
    await this.#queue.drained();
    await this.#repo.close().catch((error: unknown) => this.#context.log.warn({ err: error }, 'git fast-import did not end cleanly'));
    await this.#withRepoLock(() => this.#syncWorkingTree()).catch((error: unknown) => {
      this.#context.log.warn({ err: error }, 'could not bring the working tree to HEAD');
    });
  }
}
